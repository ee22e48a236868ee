package local

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
)

const testDestinationARN = "arn:aws:logs:us-east-1:123456789012:destination:logalert-central"

// readStream returns every record of the stream's shards, in shard order.
func readStream(t *testing.T, kin *kinesis.Client, streamARN string) []types.Record {
	t.Helper()
	shards, err := kin.ListShards(t.Context(), &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)})
	require.NoError(t, err)
	var recs []types.Record
	for _, s := range shards.Shards {
		it, err := kin.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{
			StreamARN: aws.String(streamARN), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		out, err := kin.GetRecords(t.Context(), &kinesis.GetRecordsInput{StreamARN: aws.String(streamARN), ShardIterator: it.ShardIterator})
		require.NoError(t, err)
		recs = append(recs, out.Records...)
	}
	return recs
}

// decodeRecord reads a record's data as a logs destination writes it:
// gzipped awslogs JSON, without base64.
func decodeRecord(t *testing.T, r types.Record) *awslogs.Payload {
	t.Helper()
	require.Equal(t, []byte{0x1f, 0x8b}, r.Data[:2], "the data is gzip, not base64")
	p, err := awslogs.Decode(base64.StdEncoding.EncodeToString(r.Data), awslogs.DefaultLimits)
	require.NoError(t, err)
	return p
}

// memberSubscription returns the subscription filter name of the member
// account owner's group /member/app, with pattern, to a destination whose
// target is the stream.
func memberSubscription(t *testing.T, kin *kinesis.Client, streamARN, name, owner, pattern string) (*Subscription, *Destination) {
	t.Helper()
	dest, err := NewDestination(kin, DestinationConfig{ARN: testDestinationARN, TargetARN: streamARN})
	require.NoError(t, err)
	p, err := filterpattern.Parse(pattern)
	require.NoError(t, err)
	return NewDestinationSubscription(name, owner, "/member/app", p, dest), dest
}

func TestDestinationSubscriptionPutsOneRecordPerDelivery(t *testing.T) {
	kin, _ := motoClients(t)
	streamARN := testStream(t, kin, 2)
	sub, dest := memberSubscription(t, kin, streamARN, "member-errors", "111111111111", "ERROR")
	require.NoError(t, sub.Deliver(t.Context(), []Event{
		{ID: "1", Stream: "a", Timestamp: 10, Message: "ERROR one"},
		{ID: "2", Stream: "b", Timestamp: 11, Message: "ERROR two"},
		{ID: "3", Stream: "a", Timestamp: 12, Message: "INFO fine"},
		{ID: "4", Stream: "a", Timestamp: 13, Message: "ERROR three"},
	}))
	assert.Equal(t, SubscriptionStats{Events: 4, Matched: 3, Deliveries: 2}, sub.Stats())
	stats := dest.Stats()
	assert.Equal(t, 2, stats.Deliveries)
	assert.Equal(t, 1, stats.Calls, "both deliveries in one PutRecords call")

	recs := readStream(t, kin, streamARN)
	require.Len(t, recs, 2, "one record per delivery")
	byStream := map[string]*awslogs.Payload{}
	keys := map[string]string{}
	for _, r := range recs {
		p := decodeRecord(t, r)
		byStream[p.LogStream] = p
		keys[p.LogStream] = aws.ToString(r.PartitionKey)
	}
	require.Contains(t, byStream, "a")
	require.Contains(t, byStream, "b")
	a := byStream["a"]
	assert.Equal(t, "DATA_MESSAGE", a.MessageType)
	assert.Equal(t, "111111111111", a.Owner, "the owner is the member account")
	assert.Equal(t, "/member/app", a.LogGroup)
	assert.Equal(t, []string{"member-errors"}, a.SubscriptionFilters)
	assert.Equal(t, []awslogs.LogEvent{{ID: "1", Timestamp: 10, Message: "ERROR one"}, {ID: "4", Timestamp: 13, Message: "ERROR three"}}, a.LogEvents)
	assert.Len(t, keys["a"], partitionKeyLen)
	assert.NotEqual(t, keys["a"], keys["b"], "ByLogStream: one partition key per log stream")

	// The same stream's next delivery has the same partition key.
	require.NoError(t, sub.Deliver(t.Context(), []Event{{ID: "5", Stream: "a", Timestamp: 14, Message: "ERROR four"}}))
	recs = readStream(t, kin, streamARN)
	require.Len(t, recs, 3)
	for _, r := range recs {
		if decodeRecord(t, r).LogEvents[0].ID == "5" {
			assert.Equal(t, keys["a"], aws.ToString(r.PartitionKey))
		}
	}
}

func TestDestinationTakesRecordsUpTo1MiB(t *testing.T) {
	kin, _ := motoClients(t)
	streamARN := testStream(t, kin, 1)
	sub, _ := memberSubscription(t, kin, streamARN, "member-errors", "111111111111", "ERROR")
	// About 300 KB of gzip: over Lambda's payload limit, one record.
	require.NoError(t, sub.Deliver(t.Context(), randomEvents(600)))
	recs := readStream(t, kin, streamARN)
	require.Len(t, recs, 1)
	assert.Greater(t, len(recs[0].Data), MaxDeliveryBytes*3/4)
	assert.Len(t, decodeRecord(t, recs[0]).LogEvents, 600)
	// 1,500 events: about 750 KB of gzip, over PutLogEvents' 1 MB batch
	// uncompressed, so two deliveries, each one record.
	require.NoError(t, sub.Deliver(t.Context(), randomEvents(1_500)))
	recs = readStream(t, kin, streamARN)
	require.Len(t, recs, 3)
	n := 0
	for _, r := range recs[1:] {
		n += len(decodeRecord(t, r).LogEvents)
	}
	assert.Equal(t, 1_500, n)
}

func TestNewDestinationChecksItsConfig(t *testing.T) {
	stream := "arn:aws:kinesis:us-east-1:123456789012:stream/central"
	tests := []struct {
		name string
		cfg  DestinationConfig
		want string // in the error; empty for none
	}{
		{"valid", DestinationConfig{ARN: testDestinationARN, TargetARN: stream}, ""},
		{"random", DestinationConfig{ARN: testDestinationARN, TargetARN: stream, Distribution: DistributionRandom}, ""},
		{"not a destination", DestinationConfig{ARN: "arn:aws:logs:us-east-1:123456789012:log-group:x", TargetARN: stream}, "destination ARN"},
		{"not a stream", DestinationConfig{ARN: testDestinationARN, TargetARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/x"}, "target"},
		{"no stream name", DestinationConfig{ARN: testDestinationARN, TargetARN: "arn:aws:kinesis:us-east-1:123456789012:stream/"}, "target"},
		{"bad distribution", DestinationConfig{ARN: testDestinationARN, TargetARN: stream, Distribution: "ByShard"}, `distribution "ByShard"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDestination(nil, tc.cfg)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPutCalls(t *testing.T) {
	entry := func(n int) types.PutRecordsRequestEntry {
		return types.PutRecordsRequestEntry{Data: make([]byte, n-partitionKeyLen), PartitionKey: aws.String(strings.Repeat("k", partitionKeyLen))}
	}
	entries := func(count, size int) []types.PutRecordsRequestEntry {
		out := make([]types.PutRecordsRequestEntry, count)
		for i := range out {
			out[i] = entry(size)
		}
		return out
	}
	tests := []struct {
		name string
		in   []types.PutRecordsRequestEntry
		want []int // records per call
	}{
		{"none", nil, nil},
		{"500 records fit one call", entries(MaxPutRecords, 100), []int{500}},
		{"501 need two", entries(MaxPutRecords+1, 100), []int{500, 1}},
		{"5 MB exactly fit", entries(5, MaxRecordBytes), []int{5}},
		{"a byte more does not", append(entries(5, MaxRecordBytes), entry(partitionKeyLen+1)), []int{5, 1}},
		{"bytes and count together", entries(12, MaxRecordBytes/2), []int{10, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, c := range putCalls(tc.in) {
				got = append(got, len(c))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// refusingStream is a streamWriter whose put answers each call.
type refusingStream struct {
	calls [][]string // each call's data
	put   func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
}

func (s *refusingStream) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	var data []string
	for _, e := range in.Records {
		data = append(data, string(e.Data))
	}
	s.calls = append(s.calls, data)
	return s.put(len(s.calls), in)
}

// refuseInto answers a PutRecords call in out, refusing the records whose
// data are in refused with ProvisionedThroughputExceededException.
func refuseInto(out *kinesis.PutRecordsOutput, in *kinesis.PutRecordsInput, refused ...string) *kinesis.PutRecordsOutput {
	for i, e := range in.Records {
		r := types.PutRecordsResultEntry{SequenceNumber: aws.String(fmt.Sprint(i)), ShardId: aws.String("shardId-000000000000")}
		for _, d := range refused {
			if string(e.Data) == d {
				r = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard shardId-000000000000")}
				*out.FailedRecordCount++
			}
		}
		out.Records = append(out.Records, r)
	}
	return out
}

// testDeliveries are deliveries whose data decodes to the given bytes.
func testDeliveries(data ...string) []delivery {
	ds := make([]delivery, len(data))
	for i, d := range data {
		ds[i] = delivery{group: "/app", stream: "s", events: 1, data: base64.StdEncoding.EncodeToString([]byte(d))}
	}
	return ds
}

func TestDestinationPutsRefusedRecordsAgain(t *testing.T) {
	s := &refusingStream{put: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := &kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}
		switch call {
		case 1:
			return refuseInto(out, in, "b", "c"), nil
		case 2:
			return refuseInto(out, in, "c"), nil
		}
		return refuseInto(out, in), nil
	}}
	d, err := NewDestination(s, DestinationConfig{ARN: testDestinationARN, TargetARN: "arn:aws:kinesis:us-east-1:123456789012:stream/central"})
	require.NoError(t, err)
	var waited []int
	d.delay = func(n int) time.Duration { waited = append(waited, n); return 0 }
	n, err := d.send(t.Context(), testDeliveries("a", "b", "c"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, [][]string{{"a", "b", "c"}, {"b", "c"}, {"c"}}, s.calls)
	assert.Equal(t, []int{1, 2}, waited)
	assert.Equal(t, DestinationStats{Deliveries: 3, Bytes: 3, Calls: 3, Retries: 3}, d.Stats())
}

func TestDestinationGivesUpOnRecordsRefusedTooOften(t *testing.T) {
	s := &refusingStream{put: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return refuseInto(&kinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0)}, in, "b"), nil
	}}
	d, err := NewDestination(s, DestinationConfig{ARN: testDestinationARN, TargetARN: "arn:aws:kinesis:us-east-1:123456789012:stream/central"})
	require.NoError(t, err)
	d.delay = func(int) time.Duration { return 0 }
	n, err := d.send(t.Context(), testDeliveries("a", "b"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused 1 records after 8 attempts: ProvisionedThroughputExceededException")
	assert.Equal(t, 1, n, "a was delivered")
	assert.Len(t, s.calls, DestinationBackoff.Attempts)
}

func TestDestinationRefusesRecordsOverTheLimit(t *testing.T) {
	s := &refusingStream{put: func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		t.Fatal("nothing is put")
		return nil, nil
	}}
	d, err := NewDestination(s, DestinationConfig{ARN: testDestinationARN, TargetARN: "arn:aws:kinesis:us-east-1:123456789012:stream/central"})
	require.NoError(t, err)
	big := strings.Repeat("x", MaxRecordBytes-partitionKeyLen+1)
	assert.False(t, d.fits(base64.StdEncoding.EncodeToString([]byte(big))))
	assert.True(t, d.fits(base64.StdEncoding.EncodeToString([]byte(big[1:]))))
	_, err = d.send(t.Context(), testDeliveries(big))
	assert.ErrorIs(t, err, ErrRecordTooLarge)
}

func TestDestinationRidesOutAThrottledStream(t *testing.T) {
	kin, _ := motoClients(t)
	streamARN := testStream(t, kin, 1)
	proxy, err := awstest.NewProxy(moto.server.URL)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	// The stream refuses the first two PutRecords calls as a whole.
	proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "PutRecords" && n <= 2 {
			return &awstest.Fault{Status: http.StatusBadRequest, Type: "ProvisionedThroughputExceededException"}
		}
		return nil
	})
	cfg, err := awstest.Config(t.Context(), proxy.URL)
	require.NoError(t, err)
	// The product's retryer, with short delays.
	fast := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(awsconfig.NewRetryer(), 10*time.Millisecond)
	})
	sub, dest := memberSubscription(t, fast, streamARN, "member-errors", "111111111111", "ERROR")
	require.NoError(t, sub.Deliver(t.Context(), []Event{{ID: "1", Stream: "a", Timestamp: 10, Message: "ERROR one"}}))
	assert.Equal(t, 3, proxy.Count("PutRecords"), "two throttled calls, then the one that lands")
	assert.Equal(t, 1, dest.Stats().Deliveries)
	recs := readStream(t, kin, streamARN)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR one", decodeRecord(t, recs[0]).LogEvents[0].Message)
}
