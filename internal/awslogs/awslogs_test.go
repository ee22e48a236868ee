package awslogs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
)

// samplePayload returns a small valid DATA_MESSAGE.
func samplePayload() *awslogs.Payload {
	return &awslogs.Payload{
		MessageType:         awslogs.MessageTypeData,
		Owner:               "123456789012",
		LogGroup:            "/aws/lambda/checkout",
		LogStream:           "2024/05/01/[$LATEST]0123456789abcdef",
		SubscriptionFilters: []string{"logalert-errors"},
		LogEvents: []awslogs.LogEvent{
			{ID: "38622316099697884706540976068822859012661220141643892546", Timestamp: 1714521600000, Message: "ERROR payment declined for order 42"},
			{ID: "38622316099697884706540976068822859012661220141643892547", Timestamp: 1714521600001, Message: "INFO done"},
		},
	}
}

// encode returns Encode(p), failing the test on error.
func encode(tb testing.TB, p *awslogs.Payload) string {
	tb.Helper()
	data, err := awslogs.Encode(p)
	require.NoError(tb, err)
	return data
}

// inflate returns the JSON document inside an awslogs.data string.
func inflate(tb testing.TB, data string) []byte {
	tb.Helper()
	doc, err := awslogstest.Inflate(data)
	require.NoError(tb, err)
	return doc
}

func TestDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   *awslogs.Payload
	}{
		{"sample", samplePayload()},
		{"realistic batch", awslogstest.RealisticBatch(2_000, 0.5, 20, 7)},
		{"control message", &awslogs.Payload{
			MessageType: awslogs.MessageTypeControl,
			Owner:       "CloudwatchLogs",
			LogEvents:   []awslogs.LogEvent{{Timestamp: 1432826855000, Message: "CWL CONTROL MESSAGE: Checking health of destination Firehose."}},
		}},
		{"account-level policy", func() *awslogs.Payload {
			p := samplePayload()
			p.PolicyLevel = "ACCOUNT_LEVEL_POLICY"
			return p
		}()},
		{"a 900 KiB message (CloudWatch Logs accepts 1 MB events)", func() *awslogs.Payload {
			p := samplePayload()
			p.LogEvents[0].Message = "ERROR " + strings.Repeat("at frame ", 900<<10/9)
			return p
		}()},
		{"every escape", func() *awslogs.Payload {
			p := samplePayload()
			p.LogEvents[0].Message = "quote \" backslash \\ slash / controls \b\f\n\r\t\x00\x1f\x7f html <>& é € 😀 \u2028\u2029"
			p.LogGroup = "/aws/lambda/ünïcödé"
			return p
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.in)
			got, err := awslogs.Decode(data, awslogs.DefaultLimits)
			require.NoError(t, err)
			assert.Equal(t, len(inflate(t, data)), got.DecompressedBytes)
			viewed, err := viewCopy(data, awslogs.DefaultLimits)
			require.NoError(t, err)
			assert.Equal(t, got, viewed, "View and Decode disagree")
			got.DecompressedBytes = 0
			assert.Equal(t, tc.in, got)
		})
	}
}

// viewCopy decodes data with View and returns a deep copy of the payload
// made inside the callback, the only place View's payload is valid.
func viewCopy(data string, lim awslogs.Limits) (*awslogs.Payload, error) {
	var out *awslogs.Payload
	err := awslogs.View(data, lim, func(p *awslogs.Payload) error {
		q := *p
		q.MessageType, q.Owner = strings.Clone(p.MessageType), strings.Clone(p.Owner)
		q.LogGroup, q.LogStream = strings.Clone(p.LogGroup), strings.Clone(p.LogStream)
		q.PolicyLevel = strings.Clone(p.PolicyLevel)
		q.SubscriptionFilters = nil
		for _, f := range p.SubscriptionFilters {
			q.SubscriptionFilters = append(q.SubscriptionFilters, strings.Clone(f))
		}
		q.LogEvents = nil
		for _, e := range p.LogEvents {
			q.LogEvents = append(q.LogEvents, awslogs.LogEvent{ID: strings.Clone(e.ID), Timestamp: e.Timestamp, Message: strings.Clone(e.Message)})
		}
		out = &q
		return nil
	})
	return out, err
}

func TestViewReturnsTheCallbacksError(t *testing.T) {
	stop := errors.New("stop")
	called := 0
	err := awslogs.View(encode(t, samplePayload()), awslogs.DefaultLimits, func(*awslogs.Payload) error {
		called++
		return stop
	})
	assert.Same(t, stop, err)
	assert.Equal(t, 1, called)

	err = awslogs.View("%%%", awslogs.DefaultLimits, func(*awslogs.Payload) error {
		called++
		return nil
	})
	require.ErrorIs(t, err, awslogs.ErrMalformed)
	assert.Equal(t, 1, called, "View called back on a payload it could not decode")
}

// TestViewCopiesNoString pins the processor's hot path: a warm View
// allocates a constant few objects however many events the payload holds,
// and no bytes for their strings (Decode copies them all into one string of
// about 2 MB here; encoding/json allocates one per field).
func TestViewCopiesNoString(t *testing.T) {
	data := encode(t, awslogstest.RealisticBatch(10_000, 0.5, 20, 1))
	events := 0
	fn := func(p *awslogs.Payload) error { events += len(p.LogEvents); return nil }
	require.NoError(t, awslogs.View(data, awslogs.DefaultLimits, fn))
	allocs := testing.AllocsPerRun(20, func() {
		if err := awslogs.View(data, awslogs.DefaultLimits, fn); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, (1+1+20)*10_000, events, "one call, then AllocsPerRun's warm-up and 20 runs")
	assert.LessOrEqual(t, allocs, 2.0, "a warm View allocated %.0f objects for 10,000 events", allocs)
	bytes := allocated(func() { _ = awslogs.View(data, awslogs.DefaultLimits, fn) })
	assert.Less(t, bytes, uint64(64<<10), "a warm View allocated %d bytes", bytes)
}

func TestDecodeDocuments(t *testing.T) {
	event := `{"id":"1","timestamp":1714521600000,"message":"ERROR x"}`
	tests := []struct {
		name string
		doc  string
		want *awslogs.Payload
	}{
		{
			name: "AWS documentation example",
			doc: `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/echo-nodejs",` +
				`"logStream":"2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7","subscriptionFilters":["LambdaStream_cloudwatchlogs-node"],` +
				`"logEvents":[{"id":"34622316099697884706540976068822859012661220141643892546","timestamp":1552518348220,` +
				`"message":"REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n"}]}`,
			want: &awslogs.Payload{
				MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/echo-nodejs",
				LogStream: "2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7", SubscriptionFilters: []string{"LambdaStream_cloudwatchlogs-node"},
				LogEvents: []awslogs.LogEvent{{ID: "34622316099697884706540976068822859012661220141643892546", Timestamp: 1552518348220,
					Message: "REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n"}},
			},
		},
		{
			name: "white space, unknown fields, any key case",
			doc: " {\n \"MessageType\" : \"DATA_MESSAGE\", \"LOGGROUP\":\"g\", \"logstream\":\"s\",\r\n\t\"extra\": {\"a\": [1, 2.5e3, true, null, \"x\"]}," +
				` "logEvents": [ { "ID": "1", "Timestamp": 5, "Message": "m", "ingestionTime": 6 } ] } `,
			want: &awslogs.Payload{MessageType: "DATA_MESSAGE", LogGroup: "g", LogStream: "s",
				SubscriptionFilters: []string{}, LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 5, Message: "m"}}},
		},
		{
			name: "escapes, surrogate pairs, lone surrogates, invalid UTF-8",
			doc: `{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,` +
				`"message":"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00 \ud800 \udc00x \ud800\u0041 ` + "\xff\xc3(" + ` ok"}]}`,
			want: &awslogs.Payload{MessageType: "DATA_MESSAGE", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{},
				LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 1, Message: "\"\\/\b\f\n\r\tAé😀 \uFFFD \uFFFDx \uFFFDA \uFFFD\uFFFD( ok"}}},
		},
		{
			name: "white space everywhere JSON allows it (Python's json.dumps style)",
			doc:  "{ \"messageType\" : \"DATA_MESSAGE\", \"logGroup\": \"g\",\n \"logStream\":\t\"s\", \"logEvents\": [ {\"id\": \"1\", \"timestamp\": 1714521600000, \"message\": \"ERROR x\"} ] }",
			want: &awslogs.Payload{MessageType: "DATA_MESSAGE", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{},
				LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 1714521600000, Message: "ERROR x"}}},
		},
		{
			name: "duplicate keys: the last one wins, null changes nothing",
			doc:  `{"messageType":"DATA_MESSAGE","logGroup":"a","logGroup":"b","logStream":"s","logStream":null,"logEvents":[` + event + `]}`,
			want: &awslogs.Payload{MessageType: "DATA_MESSAGE", LogGroup: "b", LogStream: "s", SubscriptionFilters: []string{},
				LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 1714521600000, Message: "ERROR x"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := awslogs.Decode(awslogstest.Compress([]byte(tc.doc)), awslogs.DefaultLimits)
			require.NoError(t, err)
			assert.Equal(t, len(tc.doc), got.DecompressedBytes)
			got.DecompressedBytes = 0
			if len(got.SubscriptionFilters) == 0 {
				got.SubscriptionFilters = []string{}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := encode(t, samplePayload())
	zip, err := base64.StdEncoding.DecodeString(valid)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString
	doc := func(events string) string {
		return awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[` + events + `]}`))
	}
	small := awslogs.Limits{MaxEvents: 2, MaxMessageBytes: 12}
	tests := []struct {
		name string
		data string
		lim  awslogs.Limits
		want error
		msg  string
	}{
		{"empty", "", awslogs.DefaultLimits, awslogs.ErrMalformed, "base64: empty"},
		{"not base64", "%%%not base64%%%", awslogs.DefaultLimits, awslogs.ErrMalformed, "base64: illegal base64 data"},
		{"base64 cut short", valid[:len(valid)-1], awslogs.DefaultLimits, awslogs.ErrMalformed, "base64"},
		{"not gzip", b64([]byte(`{"messageType":"DATA_MESSAGE"}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip header: gzip: invalid header"},
		{"one byte", b64([]byte{0x1f}), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip header: unexpected EOF"},
		{"truncated gzip", b64(zip[:len(zip)/2]), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip: unexpected EOF"},
		{"truncated trailer", b64(zip[:len(zip)-3]), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip: unexpected EOF"},
		{"corrupt checksum", b64(append(append([]byte{}, zip[:len(zip)-8]...), 0, 0, 0, 0, 0, 0, 0, 0)), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip: gzip: invalid checksum"},
		{"garbage after the stream", b64(append(append([]byte{}, zip...), "junk after the gzip stream"...)), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip: gzip: invalid header"},
		{"corrupt deflate data", b64(append(append([]byte{}, zip[:10]...), bytes.Repeat([]byte{0xff}, 64)...)), awslogs.DefaultLimits, awslogs.ErrMalformed, "gzip: flate: corrupt input"},
		{"gzip bomb", awslogstest.Bomb(64 << 20), awslogs.DefaultLimits, awslogs.ErrTooLarge, "gzip: inflates past 16777216 bytes (MaxDecompressedBytes)"},
		{"gzip bomb with lying trailer", awslogstest.BombWithLyingTrailer(64 << 20), awslogs.DefaultLimits, awslogs.ErrTooLarge, "gzip: inflates past 16777216 bytes"},
		{"encoded data over limit", valid, awslogs.Limits{MaxEncodedBytes: len(valid) - 1}, awslogs.ErrTooLarge, fmt.Sprintf("base64: %d bytes, over %d (MaxEncodedBytes)", len(valid), len(valid)-1)},
		{"bad JSON", awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE",`)), awslogs.DefaultLimits, awslogs.ErrMalformed, "json: offset 30: expected a string key"},
		{"not an object", awslogstest.Compress([]byte(`[1,2]`)), awslogs.DefaultLimits, awslogs.ErrMalformed, "json: offset 0: expected an object"},
		{"trailing data", awslogstest.Compress([]byte(`{} {}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, "json: offset 3: invalid character '{' after top-level value"},
		{"control character in string", doc(`{"id":"1","timestamp":1,"message":"a` + "\x01" + `"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `invalid character '\x01' in string literal`},
		{"bad escape", doc(`{"id":"1","timestamp":1,"message":"\q"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `invalid escape 'q' in string`},
		{"string timestamp", doc(`{"id":"1","timestamp":"1","message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, "timestamp is not a number"},
		{"float timestamp", doc(`{"id":"1","timestamp":1.5,"message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, "timestamp is not an integer"},
		{"overflowing timestamp", doc(`{"id":"1","timestamp":9223372036854775808,"message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, "timestamp overflows int64"},
		{"numeric id", doc(`{"id":1,"timestamp":1,"message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, "expected a string"},
		{"empty document", awslogstest.Compress(nil), awslogs.DefaultLimits, awslogs.ErrMalformed, "expected an object"},
		{"null document", awslogstest.Compress([]byte("null")), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "messageType"`},
		{"missing messageType", awslogstest.Compress([]byte(`{"logGroup":"g"}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "messageType"`},
		{"unknown messageType", awslogstest.Compress([]byte(`{"messageType":"PING"}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, `unknown messageType "PING"`},
		{"missing logGroup", awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"m"}]}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "logGroup"`},
		{"missing logStream", awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"id":"1","timestamp":1,"message":"m"}]}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "logStream"`},
		{"missing logEvents", awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}`)), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "logEvents"`},
		{"empty logEvents", doc(``), awslogs.DefaultLimits, awslogs.ErrMalformed, `missing field "logEvents"`},
		{"missing event id", doc(`{"timestamp":1,"message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `logEvents[0]: missing field "id"`},
		{"missing event timestamp", doc(`{"id":"1","timestamp":1,"message":"m"},{"id":"2","message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `logEvents[1]: missing field "timestamp"`},
		{"negative timestamp", doc(`{"id":"1","timestamp":-1,"message":"m"}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `logEvents[0]: timestamp -1 is before the epoch`},
		{"missing event message", doc(`{"id":"1","timestamp":1}`), awslogs.DefaultLimits, awslogs.ErrMalformed, `logEvents[0]: missing field "message"`},
		{"null event", doc(`null`), awslogs.DefaultLimits, awslogs.ErrMalformed, `logEvents[0]: missing field "id"`},
		{"too many events", doc(`{"id":"1","timestamp":1,"message":"m"},null,null`), small, awslogs.ErrTooLarge, "json: more than 2 log events (MaxEvents)"},
		{"too many subscription filters", awslogstest.Compress([]byte(`{"subscriptionFilters":["a","b","c"]}`)), small, awslogs.ErrTooLarge, "json: more than 2 subscription filters (MaxEvents)"},
		{"oversize message", doc(`{"id":"1","timestamp":1,"message":"1234567890123"}`), small, awslogs.ErrTooLarge, "json: logEvents[0]: string at offset 120 is over 12 bytes (MaxMessageBytes)"},
		{"oversize message after unescaping", doc(`{"id":"1","timestamp":1,"message":"` + "\xff\xff\xff\xff\xff" + `"}`), small, awslogs.ErrTooLarge, "is over 12 bytes (MaxMessageBytes)"},
		{"oversize message under the JSON limit", doc(`{"id":"1","timestamp":1,"message":"` + strings.Repeat("x", 1100<<10) + `"}`), awslogs.DefaultLimits, awslogs.ErrTooLarge, "is over 1048576 bytes (MaxMessageBytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := awslogs.Decode(tc.data, tc.lim)
			require.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.msg)
			assert.Nil(t, p)
			_, viewErr := viewCopy(tc.data, tc.lim)
			assert.Equal(t, err, viewErr, "View and Decode disagree")
			if zip, b64err := base64.StdEncoding.DecodeString(tc.data); b64err == nil && len(zip) > 0 && tc.name != "encoded data over limit" {
				gzErr := awslogs.ViewGzip(zip, tc.lim, func(*awslogs.Payload) error { return nil })
				assert.Equal(t, err, gzErr, "ViewGzip and Decode disagree")
			}
		})
	}
}

func TestViewGzip(t *testing.T) {
	want := samplePayload()
	zip, err := awslogs.EncodeGzip(want)
	require.NoError(t, err)
	assert.Equal(t, encode(t, want), base64.StdEncoding.EncodeToString(zip), "Encode is EncodeGzip in base64")
	var got awslogs.Payload
	require.NoError(t, awslogs.ViewGzip(zip, awslogs.DefaultLimits, func(p *awslogs.Payload) error {
		got = *p
		got.LogEvents = append([]awslogs.LogEvent(nil), p.LogEvents...) // the view's strings are read before ViewGzip returns
		return nil
	}))
	assert.Equal(t, want.LogGroup, got.LogGroup)
	assert.Equal(t, want.Owner, got.Owner)
	assert.Equal(t, want.LogEvents, got.LogEvents)
	assert.Equal(t, len(inflate(t, encode(t, want))), got.DecompressedBytes)

	nop := func(*awslogs.Payload) error { return nil }
	err = awslogs.ViewGzip(nil, awslogs.DefaultLimits, nop)
	require.ErrorIs(t, err, awslogs.ErrMalformed)
	assert.ErrorContains(t, err, "gzip: empty data")
	err = awslogs.ViewGzip(zip, awslogs.Limits{MaxEncodedBytes: len(zip) - 1}, nop)
	require.ErrorIs(t, err, awslogs.ErrTooLarge)
	assert.ErrorContains(t, err, fmt.Sprintf("gzip: %d bytes, over %d (MaxEncodedBytes)", len(zip), len(zip)-1))
	bomb, err := base64.StdEncoding.DecodeString(awslogstest.Bomb(64 << 20))
	require.NoError(t, err)
	assert.ErrorIs(t, awslogs.ViewGzip(bomb, awslogs.DefaultLimits, nop), awslogs.ErrTooLarge)
}

// TestViewGzipCopiesNoString pins the Kinesis hot path as
// TestViewCopiesNoString pins View's.
func TestViewGzipCopiesNoString(t *testing.T) {
	zip, err := awslogs.EncodeGzip(awslogstest.RealisticBatch(10_000, 0.5, 20, 1))
	require.NoError(t, err)
	fn := func(*awslogs.Payload) error { return nil }
	require.NoError(t, awslogs.ViewGzip(zip, awslogs.DefaultLimits, fn))
	allocs := testing.AllocsPerRun(20, func() {
		if err := awslogs.ViewGzip(zip, awslogs.DefaultLimits, fn); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 2.0, "a warm ViewGzip allocated %.0f objects for 10,000 events", allocs)
}

func TestDecodeMemoryIsBounded(t *testing.T) {
	const inflated = 64 << 20
	// Invalid UTF-8 triples in size when replaced by U+FFFD: 11 messages of
	// 80 KiB each fit MaxMessageBytes but not, together, the 1 MiB limit.
	var expanding strings.Builder
	expanding.WriteString(`{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[`)
	for i := range 11 {
		if i > 0 {
			expanding.WriteByte(',')
		}
		fmt.Fprintf(&expanding, `{"id":"%d","timestamp":1,"message":"%s"}`, i, strings.Repeat("\xff", 80<<10))
	}
	expanding.WriteString("]}")
	tests := []struct {
		name     string
		data     string
		lim      awslogs.Limits
		maxAlloc uint64 // bytes allocated in all by one cold Decode
	}{
		// The arena grows a few times before the check stops it; the total
		// allocated counts every step, the memory in use at once is less.
		{"strings expanding past the limit", awslogstest.Compress([]byte(expanding.String())), awslogs.Limits{MaxDecompressedBytes: 1 << 20}, 5 << 20},
		// The trailer's size sizes the buffer once, at the limit.
		{"honest trailer", awslogstest.Bomb(inflated), awslogs.DefaultLimits, 20 << 20},
		// Without a usable size hint the buffer quadruples up to the limit.
		{"lying trailer", awslogstest.BombWithLyingTrailer(inflated), awslogs.DefaultLimits, 24 << 20},
		{"1 MiB limit", awslogstest.Bomb(inflated), awslogs.Limits{MaxDecompressedBytes: 1 << 20}, 4 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A cold Decoder: every buffer is allocated during the call.
			alloc := allocated(func() {
				var p awslogs.Payload
				err := awslogs.NewDecoder(tc.lim).Decode(tc.data, &p)
				require.ErrorIs(t, err, awslogs.ErrTooLarge)
			})
			t.Logf("a cold decode allocated %d KiB", alloc>>10)
			assert.Less(t, alloc, tc.maxAlloc, "a cold decode allocated %d KiB", alloc>>10)

			// A warm Decoder reuses its buffers: a bomb costs almost nothing.
			d := awslogs.NewDecoder(tc.lim)
			var p awslogs.Payload
			require.ErrorIs(t, d.Decode(tc.data, &p), awslogs.ErrTooLarge)
			alloc = allocated(func() {
				require.ErrorIs(t, d.Decode(tc.data, &p), awslogs.ErrTooLarge)
			})
			t.Logf("a warm decode allocated %d bytes", alloc)
			assert.Less(t, alloc, uint64(64<<10), "a warm decode allocated %d bytes", alloc)
			allocs := testing.AllocsPerRun(3, func() { _ = d.Decode(tc.data, &p) })
			assert.LessOrEqual(t, allocs, 6.0, "only the error itself allocates")
		})
	}
}

// allocated returns the bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecoderStringsOutliveLaterDecodes(t *testing.T) {
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	first := samplePayload()
	var p awslogs.Payload
	require.NoError(t, d.Decode(encode(t, first), &p))
	kept := p.LogEvents[0].Message
	keptGroup := p.LogGroup

	second := awslogstest.RealisticBatch(100, 1, 3, 1)
	var q awslogs.Payload
	require.NoError(t, d.Decode(encode(t, second), &q))
	assert.Equal(t, first.LogEvents[0].Message, kept)
	assert.Equal(t, first.LogGroup, keptGroup)
	p.DecompressedBytes, q.DecompressedBytes = 0, 0
	assert.Equal(t, first, &p)
	assert.Equal(t, second, &q)
}

func TestDecoderReusesPayloadSlices(t *testing.T) {
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	var p awslogs.Payload
	big := encode(t, awslogstest.RealisticBatch(50, 0.5, 5, 1))
	require.NoError(t, d.Decode(big, &p))
	backing := &p.LogEvents[:1][0]

	require.NoError(t, d.Decode(encode(t, samplePayload()), &p))
	assert.Same(t, backing, &p.LogEvents[0], "Decode reallocated LogEvents although it had room")
	p.DecompressedBytes = 0
	assert.Equal(t, samplePayload(), &p)

	allocs := testing.AllocsPerRun(10, func() {
		if err := d.Decode(big, &p); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs, "a warm Decode should allocate only its one string")
}

func TestDecodeConcurrent(t *testing.T) {
	batches := make([]*awslogs.Payload, 4)
	data := make([]string, len(batches))
	for i := range batches {
		batches[i] = awslogstest.RealisticBatch(200+i, 0.3, 4, int64(i))
		data[i] = encode(t, batches[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				k := (g + i) % len(data)
				got, err := awslogs.Decode(data[k], awslogs.DefaultLimits)
				if assert.NoError(t, err) {
					got.DecompressedBytes = 0
					assert.Equal(t, batches[k], got)
				}
			}
		})
	}
	wg.Wait()
}

func TestLimitsZeroFieldsMeanDefault(t *testing.T) {
	bomb := awslogstest.Bomb(20 << 20)
	_, err := awslogs.Decode(bomb, awslogs.Limits{})
	assert.ErrorIs(t, err, awslogs.ErrTooLarge)
	_, err = awslogs.Decode(bomb, awslogs.Limits{MaxDecompressedBytes: -1})
	assert.ErrorIs(t, err, awslogs.ErrTooLarge)
	_, err = awslogs.Decode(bomb, awslogs.Limits{MaxDecompressedBytes: 32 << 20, MaxMessageBytes: 32 << 20})
	assert.ErrorIs(t, err, awslogs.ErrMalformed, "under a 32 MiB limit the bomb inflates fully and fails as unterminated JSON")

	huge := awslogs.Limits{MaxEncodedBytes: math.MaxInt, MaxDecompressedBytes: math.MaxInt, MaxEvents: math.MaxInt, MaxMessageBytes: math.MaxInt}
	got, err := awslogs.Decode(encode(t, samplePayload()), huge)
	require.NoError(t, err)
	got.DecompressedBytes = 0
	assert.Equal(t, samplePayload(), got)
}

func TestDefaultLimitsFitRealisticBatch(t *testing.T) {
	p := awslogstest.RealisticBatch(awslogs.DefaultLimits.MaxEvents, 0.5, 20, 1)
	data := encode(t, p)
	assert.Less(t, len(data), awslogs.DefaultLimits.MaxEncodedBytes)
	got, err := awslogs.Decode(data, awslogs.DefaultLimits)
	require.NoError(t, err)
	assert.Len(t, got.LogEvents, awslogs.DefaultLimits.MaxEvents)
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		in   *awslogs.Payload
		want string
	}{
		{"data message, CloudWatch field order", samplePayload(),
			`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/checkout",` +
				`"logStream":"2024/05/01/[$LATEST]0123456789abcdef","subscriptionFilters":["logalert-errors"],"logEvents":[` +
				`{"id":"38622316099697884706540976068822859012661220141643892546","timestamp":1714521600000,"message":"ERROR payment declined for order 42"},` +
				`{"id":"38622316099697884706540976068822859012661220141643892547","timestamp":1714521600001,"message":"INFO done"}]}`},
		{"nil slices as [], policy level, no HTML escaping",
			&awslogs.Payload{MessageType: awslogs.MessageTypeControl, PolicyLevel: "ACCOUNT_LEVEL_POLICY", Owner: "<&>"},
			`{"messageType":"CONTROL_MESSAGE","owner":"<&>","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[],"policyLevel":"ACCOUNT_LEVEL_POLICY"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.in)
			assert.Equal(t, tc.want, string(inflate(t, data)))
			assert.Equal(t, data, encode(t, tc.in), "Encode is not deterministic")

			zip, err := base64.StdEncoding.DecodeString(data)
			require.NoError(t, err)
			zr, err := gzip.NewReader(bytes.NewReader(zip))
			require.NoError(t, err)
			assert.True(t, zr.ModTime.IsZero(), "gzip header has a modification time")
			assert.Empty(t, zr.Name)
			assert.True(t, json.Valid(inflate(t, data)))
		})
	}
}

func TestRealisticBatchDecodesLikeEncodingJSON(t *testing.T) {
	p := awslogstest.RealisticBatch(3_000, 0.5, 20, 3)
	data := encode(t, p)
	var want struct {
		LogEvents []struct {
			ID        string `json:"id"`
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	require.NoError(t, json.Unmarshal(inflate(t, data), &want))
	got, err := awslogs.Decode(data, awslogs.DefaultLimits)
	require.NoError(t, err)
	require.Len(t, got.LogEvents, len(want.LogEvents))
	for i, e := range want.LogEvents {
		assert.Equal(t, awslogs.LogEvent(e), got.LogEvents[i])
	}
}

// ExampleDecode decodes the sample event of the aws-lambda-go events
// package.
func ExampleDecode() {
	const data = "H4sIAAAAAAAAAHWPwQqCQBCGX0Xm7EFtK+smZBEUgXoLCdMhFtKV3akI8d0bLYmibvPPN3wz00CJxmQnTO41whwWQRIctmEcB6sQbFC3CjW3XW8kxpOpP+OC22d1Wml1qZkQGtoMsScxaczKN3plG8zlaHIta5KqWsozoTYw3/djzwhpLwivWFGHGpAFe7DL68JlBUk+l7KSN7tCOEJ4M3/qOI49vMHj+zCKdlFqLaU2ZHV2a4Ct/an0/ivdX8oYc1UVX860fQDQiMdxRQEAAA=="
	p, err := awslogs.Decode(data, awslogs.DefaultLimits)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.MessageType, p.LogGroup, len(p.LogEvents))
	for _, e := range p.LogEvents {
		fmt.Println(e.Timestamp, e.Message)
	}
	// Output:
	// DATA_MESSAGE testLogGroup 2
	// 1440442987000 [ERROR] First test message
	// 1440442987001 [ERROR] Second test message
}

// ExampleEncode builds the data string of a one-event delivery, as the
// local twin and the sample events do.
func ExampleEncode() {
	data, err := awslogs.Encode(&awslogs.Payload{
		MessageType: awslogs.MessageTypeData,
		Owner:       "123456789012",
		LogGroup:    "/aws/lambda/emitter",
		LogStream:   "2024/05/01/[$LATEST]abc",
		LogEvents:   []awslogs.LogEvent{{ID: "1", Timestamp: 1714521600000, Message: "ERROR boom"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := awslogs.Decode(data, awslogs.DefaultLimits)
	fmt.Println(p.LogEvents[0].Message, err)
	// Output: ERROR boom <nil>
}
