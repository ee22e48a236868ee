package awslogs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noLimits lets the parser accept anything encoding/json accepts.
var noLimits = Limits{
	MaxEncodedBytes:      math.MaxInt,
	MaxDecompressedBytes: math.MaxInt,
	MaxEvents:            math.MaxInt,
	MaxMessageBytes:      math.MaxInt,
}

// jsonSeeds are documents for the agreement tests: the usual shapes, every
// escape, invalid UTF-8, and the quirks of encoding/json.
var jsonSeeds = []string{
	`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"ERROR boom"}]}`,
	`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`,
	`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["a","b"],"logEvents":[],"policyLevel":"ACCOUNT_LEVEL_POLICY"}`,
	`{"logGroup": "g", "logEvents": [{"id": "1", "timestamp": 5, "message": "m"}, {"id":"2","timestamp":	6,"message":
"n"}]}`,
	" \t\r\n{ \"logGroup\" : \"g\" , \"logEvents\" : [ { \"id\" : \"1\" , \"timestamp\" : 5 , \"message\" : \"m\" } ] } \n",
	`{}`, `null`, ` null `, `[]`, `"x"`, `1`, `true`, ``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{,}`, `{"a":1,}`, `{"a":1 "b":2}`,
	`{"messageType":null,"logEvents":null,"subscriptionFilters":null}`,
	`{"messageType":"A","messageType":null}`,
	`{"messageType":"A","messageType":"B"}`,
	`{"MESSAGETYPE":"A","MessageType":"B","messagetype":"C"}`,
	`{"logſtream":"long s","LOGGROUP":"g","ID":"top-level id is unknown"}`,
	`{"logEvents":[{"ID":"a","TimeStamp":1,"MESSAGE":"m","Id":"b"}]}`,
	`{"logEvents":[{"id":"a","timestamp":1,"message":"x"}],"logEvents":[{"id":"b"}]}`,
	`{"logEvents":[{"id":"a"},{"id":"b"},{"id":"c"}],"logEvents":[{"message":"m"}],"logEvents":[null,null,{}]}`,
	`{"logEvents":[{"id":"a"},{"id":"b"}],"logEvents":[],"logEvents":[null,null]}`,
	`{"logEvents":[{"id":"a"},{"id":"b"}],"logEvents":null,"logEvents":[null,null]}`,
	`{"subscriptionFilters":["a","b","c"],"subscriptionFilters":["x"],"subscriptionFilters":[null,null,null,null]}`,
	`{"logEvents":[null]}`, `{"logEvents":[1]}`, `{"logEvents":{}}`, `{"logEvents":"x"}`, `{"subscriptionFilters":[1]}`,
	`{"messageType":1}`, `{"messageType":true}`, `{"messageType":[]}`, `{"messageType":{}}`,
	`{"logEvents":[{"timestamp":-0}]}`, `{"logEvents":[{"timestamp":-1}]}`, `{"logEvents":[{"timestamp":0}]}`,
	`{"logEvents":[{"timestamp":01}]}`, `{"logEvents":[{"timestamp":1.0}]}`, `{"logEvents":[{"timestamp":1e3}]}`,
	`{"logEvents":[{"timestamp":1E3}]}`, `{"logEvents":[{"timestamp":-}]}`, `{"logEvents":[{"timestamp":"1"}]}`,
	`{"logEvents":[{"timestamp":null}]}`, `{"logEvents":[{"timestamp":true}]}`, `{"logEvents":[{"timestamp":12345678}]}`,
	`{"logEvents":[{"timestamp":9223372036854775807}]}`, `{"logEvents":[{"timestamp":9223372036854775808}]}`,
	`{"logEvents":[{"timestamp":-9223372036854775808}]}`, `{"logEvents":[{"timestamp":-9223372036854775809}]}`,
	`{"logEvents":[{"timestamp":99999999999999999999}]}`, `{"logEvents":[{"timestamp":00}]}`,
	`{"messageType":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"}`,
	`{"messageType":"\ud800"}`, `{"messageType":"\udc00"}`, `{"messageType":"\ud800\u0041"}`, `{"messageType":"\ud800\ud800"}`,
	`{"messageType":"\udc00\ud800"}`, `{"messageType":"\ud800x"}`, `{"messageType":"\ud800\"}`, `{"messageType":"\ud83d\ude00\ude00"}`,
	`{"messageType":"\u12"}`, `{"messageType":"\u12G4"}`, `{"messageType":"\x"}`, `{"messageType":"\'"}`, `{"messageType":"\`,
	`{"messageType":"` + "\x00" + `"}`, `{"messageType":"` + "\x1f" + `"}`, `{"messageType":"` + "\x7f" + `"}`,
	`{"messageType":"` + "\xff\xfe" + `"}`, `{"messageType":"` + "a\xc3" + `"}`, `{"messageType":"` + "\xe2\x82" + `"}`,
	`{"messageType":"` + "\xed\xa0\x80" + `"}`, `{"messageType":"` + "\xf4\x90\x80\x80" + `"}`, `{"messageType":"` + "\xef\xbf\xbd" + `"}`,
	`{"messageType":"` + "é€😀" + `"}`, `{"` + "\xff" + `":1}`, `{"log` + "\xff" + `Group":"x"}`,
	`{"\u006cogGroup":"escaped key"}`, `{"log\u0047roup":"g"}`, `{"logGroup\u0000":"g"}`,
	`{"logGroup":"g"}x`, `{"logGroup":"g"} {}`, "\xef\xbb\xbf{}", `{"logGroup":"g"`,
	`{"x":[1,-1,0.5,-0.5e-3,1E+2,true,false,null,"s",{"a":[{}]},[]]}`,
	`{"x":01}`, `{"x":1.}`, `{"x":.5}`, `{"x":1e}`, `{"x":+1}`, `{"x":-}`, `{"x":tru}`, `{"x":nul}`, `{"x":[1,]}`, `{"x":{"a":1,}}`,
	`{"x":"\u00"}`, `{"x":"` + "\x01" + `"}`, `{"x":"` + "\xff" + `"}`, `{"x":[}`, `{"x":{]}`, `{"x":{"a" 1}}`,
	`{"logEvents":[{"id":"1","timestamp":1,"message":"m","extra":{"nested":[1,2,{"deep":null}]}}]}`,
	`{"logEvents":[{"id":"1","timestamp":1,"message":"m"},]}`, `{"logEvents":[{"id":"1" "timestamp":1}]}`,
	`{"logEvents":[,]}`, `{"logEvents":[{"id":1}]}`, `{"logEvents":[{"message":["m"]}]}`,
}

// deepSeeds probe encoding/json's nesting limit of 10,000 arrays and
// objects. They are too big to make good fuzz seeds, so only
// TestParseAgreesWithEncodingJSON runs them.
var deepSeeds = []string{
	`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"logEvents":[{"x":` + strings.Repeat(`{"a":`, 9997) + "1" + strings.Repeat("}", 9997) + `}]}`,
	`{"logEvents":[{"x":` + strings.Repeat(`{"a":`, 9998) + "1" + strings.Repeat("}", 9998) + `}]}`,
	`{"logEvents":[{"x":` + strings.Repeat("[", 10000),
}

// wireFromJSON decodes doc with encoding/json into the struct the parser
// imitates.
func wireFromJSON(doc []byte) (*Payload, error) {
	var w wirePayload
	if err := json.Unmarshal(doc, &w); err != nil {
		return nil, err
	}
	p := &Payload{
		MessageType:         w.MessageType,
		Owner:               w.Owner,
		LogGroup:            w.LogGroup,
		LogStream:           w.LogStream,
		SubscriptionFilters: w.SubscriptionFilters,
		PolicyLevel:         w.PolicyLevel,
	}
	for _, e := range w.LogEvents {
		p.LogEvents = append(p.LogEvents, LogEvent(e))
	}
	return p, nil
}

// normalize makes empty slices nil. encoding/json distinguishes null (nil)
// from [] (empty, non-nil); the parser does not, and a Payload never needs
// to, so the comparison ignores that one difference.
func normalize(p *Payload) *Payload {
	q := *p
	if len(q.SubscriptionFilters) == 0 {
		q.SubscriptionFilters = nil
	}
	if len(q.LogEvents) == 0 {
		q.LogEvents = nil
	}
	return &q
}

// checkAgreement asserts that the parser and encoding/json agree on doc:
// both reject it, or both accept it with equal results (up to normalize).
// The comparison runs without limits, which encoding/json does not have.
func checkAgreement(t *testing.T, d *Decoder, doc []byte) {
	t.Helper()
	want, wantErr := wireFromJSON(doc)
	var got Payload
	err := d.p.parse(doc, noLimits)
	if err == nil {
		d.p.fill(&got, string(d.p.arena))
	}
	if wantErr != nil {
		require.Errorf(t, err, "encoding/json rejects %q (%v), the parser accepts it", doc, wantErr)
		assert.ErrorIs(t, err, ErrMalformed)
		return
	}
	require.NoErrorf(t, err, "encoding/json accepts %q, the parser rejects it", doc)
	assert.Equal(t, normalize(want), normalize(&got), "document %q", doc)
}

// TestParseAgreesWithEncodingJSON runs the agreement check on the seeds and
// on documents built by Encode, reusing one Decoder to catch state leaking
// from one document into the next.
func TestParseAgreesWithEncodingJSON(t *testing.T) {
	d := new(Decoder)
	for _, doc := range append(jsonSeeds, deepSeeds...) {
		checkAgreement(t, d, []byte(doc))
	}
}

// FuzzDecodeAgreesWithEncodingJSON checks that for any document the parser
// accepts exactly what json.Unmarshal into the equivalent struct accepts,
// and yields the same values: escapes, surrogates, invalid UTF-8, case
// folding of keys, duplicate keys, null, integer rules and nesting depth
// included. The only difference it tolerates is nil versus empty slices
// (see normalize); limits are off, since encoding/json has none.
func FuzzDecodeAgreesWithEncodingJSON(f *testing.F) {
	for _, doc := range jsonSeeds {
		f.Add([]byte(doc))
	}
	d := new(Decoder)
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkAgreement(t, d, doc)
	})
}

// FuzzDecode feeds arbitrary data strings, and gzipped arbitrary documents,
// through the whole Decode: it must never panic, and every error must wrap
// ErrMalformed or ErrTooLarge. Small limits make the limit paths reachable.
func FuzzDecode(f *testing.F) {
	for _, doc := range jsonSeeds[:20] {
		f.Add(doc, true)
	}
	f.Add("H4sIAAAAAAAA/w==", false)
	f.Add("not base64!", false)
	f.Add("", false)
	lim := Limits{MaxEncodedBytes: 1 << 16, MaxDecompressedBytes: 1 << 12, MaxEvents: 4, MaxMessageBytes: 16}
	d := NewDecoder(lim)
	f.Fuzz(func(t *testing.T, s string, compress bool) {
		data := s
		if compress {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, err := zw.Write([]byte(s))
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			data = base64.StdEncoding.EncodeToString(z.Bytes())
		}
		var p Payload
		err := d.Decode(data, &p)
		if err != nil {
			assert.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge), "error %v wraps no sentinel", err)
			return
		}
		assert.LessOrEqual(t, len(p.LogEvents), lim.MaxEvents)
		for _, e := range p.LogEvents {
			assert.LessOrEqual(t, len(e.Message), lim.MaxMessageBytes)
		}
	})
}
