package local

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/motoserver"
)

// motoClients returns Kinesis and SQS clients of the tests' moto_server.
func motoClients(t *testing.T) (*kinesis.Client, *sqs.Client) {
	t.Helper()
	moto.once.Do(func() { moto.server, moto.err = motoserver.Start(context.Background()) })
	require.NoError(t, moto.err)
	cfg, err := awstest.Config(t.Context(), moto.server.URL)
	require.NoError(t, err)
	return kinesis.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
}

// testStream creates a stream of the test's own with shards shards and
// returns its ARN.
func testStream(t *testing.T, kin *kinesis.Client, shards int32) string {
	t.Helper()
	name := awstest.Name(t, "stream")
	_, err := kin.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)})
	require.NoError(t, err)
	out, err := kin.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	require.NoError(t, err)
	return aws.ToString(out.StreamDescriptionSummary.StreamARN)
}

// testQueue creates a queue of the test's own and returns its URL.
func testQueue(t *testing.T, q *sqs.Client) string {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "onfailure"))})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl)
}

// putData puts one record per datum into the stream, under one partition
// key, and returns their sequence numbers.
func putData(t *testing.T, kin *kinesis.Client, streamARN string, data ...string) []string {
	t.Helper()
	var seqs []string
	for _, d := range data {
		out, err := kin.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamARN: aws.String(streamARN), Data: []byte(d), PartitionKey: aws.String("k")})
		require.NoError(t, err)
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	return seqs
}

// receiveAll returns the bodies of the messages waiting in the queue.
func receiveAll(t *testing.T, q *sqs.Client, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			_, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
}

// scripted is a KinesisFunction that records the data of each batch it
// gets and answers with answer.
type scripted struct {
	mu      sync.Mutex
	batches [][]string
	answer  func(data []string) (failed []int, err error) // indexes reported failed
}

func (s *scripted) handle(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	data := make([]string, len(ev.Records))
	for i, r := range ev.Records {
		data[i] = string(r.Kinesis.Data)
	}
	s.mu.Lock()
	s.batches = append(s.batches, data)
	s.mu.Unlock()
	failed, err := s.answer(data)
	var resp events.KinesisEventResponse
	for _, i := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: ev.Records[i].Kinesis.SequenceNumber})
	}
	return resp, err
}

// bad answers an error for batches that hold one of the data.
func bad(data ...string) func([]string) ([]int, error) {
	return func(batch []string) ([]int, error) {
		for _, d := range batch {
			if slices.Contains(data, d) {
				return nil, fmt.Errorf("record %s is corrupt", d)
			}
		}
		return nil, nil
	}
}

// reported reports the records of the data as failed.
func reported(data ...string) func([]string) ([]int, error) {
	return func(batch []string) ([]int, error) {
		var failed []int
		for i, d := range batch {
			if slices.Contains(data, d) {
				failed = append(failed, i)
			}
		}
		return failed, nil
	}
}

// wantFailure is what a test checks of an on-failure record.
type wantFailure struct {
	condition     string
	first, last   string // data of the first and last records it names
	size, invokes int
	functionError string
}

func TestKinesisMapping(t *testing.T) {
	recs := []string{"r0", "r1", "r2", "r3", "r4", "r5"}
	tests := []struct {
		name     string
		cfg      KinesisMappingConfig
		answer   func([]string) ([]int, error)
		invalid  bool       // the function answers an identifier of no record
		want     [][]string // the batches invoked, in order
		stats    KinesisStats
		failures []wantFailure
	}{
		{
			name: "batches of BatchSize in order", cfg: KinesisMappingConfig{BatchSize: 4},
			answer: func([]string) ([]int, error) { return nil, nil },
			want:   [][]string{{"r0", "r1", "r2", "r3"}, {"r4", "r5"}},
			stats:  KinesisStats{Records: 6, Batches: 2, Processed: 6},
		},
		{
			name: "reported failures are ignored without ReportBatchItemFailures", cfg: KinesisMappingConfig{BatchSize: 6},
			answer: reported("r2"),
			want:   [][]string{recs},
			stats:  KinesisStats{Records: 6, Batches: 1, Processed: 6},
		},
		{
			name: "a reported record is retried from its sequence number, then discarded with the rest of its batch",
			cfg:  KinesisMappingConfig{BatchSize: 6, ReportBatchItemFailures: true, Bisect: true, MaxRetries: 2},
			// r4 reported too: the lowest reported record is the checkpoint.
			answer: reported("r4", "r2"),
			want:   [][]string{recs, {"r2", "r3", "r4", "r5"}, {"r2", "r3", "r4", "r5"}},
			stats:  KinesisStats{Records: 6, Batches: 3, Retries: 2, Processed: 2, Failed: 4, FailureRecords: 1},
			failures: []wantFailure{{
				condition: ConditionRetryAttemptsExhausted, first: "r2", last: "r5", size: 4, invokes: 3,
			}},
		},
		{
			name: "a reported record that succeeds on retry",
			cfg:  KinesisMappingConfig{BatchSize: 6, ReportBatchItemFailures: true, MaxRetries: 2},
			answer: func() func([]string) ([]int, error) {
				calls := 0
				return func(batch []string) ([]int, error) {
					calls++
					if calls == 1 {
						return reported("r3")(batch)
					}
					return nil, nil
				}
			}(),
			want:  [][]string{recs, {"r3", "r4", "r5"}},
			stats: KinesisStats{Records: 6, Batches: 2, Retries: 1, Processed: 6},
		},
		{
			name:   "a function error retries the whole batch, then discards it",
			cfg:    KinesisMappingConfig{BatchSize: 3, ReportBatchItemFailures: true, MaxRetries: 1},
			answer: bad("r1"),
			want:   [][]string{{"r0", "r1", "r2"}, {"r0", "r1", "r2"}, {"r3", "r4", "r5"}},
			stats:  KinesisStats{Records: 6, Batches: 3, Retries: 1, Processed: 3, Failed: 3, FailureRecords: 1},
			failures: []wantFailure{{
				condition: ConditionRetryAttemptsExhausted, first: "r0", last: "r2", size: 3, invokes: 2, functionError: "Unhandled",
			}},
		},
		{
			name:   "bisect isolates the bad record",
			cfg:    KinesisMappingConfig{BatchSize: 4, ReportBatchItemFailures: true, Bisect: true, MaxRetries: 1},
			answer: bad("r2"),
			want: [][]string{
				{"r0", "r1", "r2", "r3"}, {"r0", "r1"}, {"r2", "r3"}, {"r2"}, {"r2"}, {"r3"},
				{"r4", "r5"},
			},
			stats: KinesisStats{Records: 6, Batches: 7, Retries: 1, Bisects: 2, Processed: 5, Failed: 1, FailureRecords: 1},
			failures: []wantFailure{{
				condition: ConditionRetryAttemptsExhausted, first: "r2", last: "r2", size: 1, invokes: 4, functionError: "Unhandled",
			}},
		},
		{
			name:   "an identifier not in the batch fails the whole batch",
			cfg:    KinesisMappingConfig{BatchSize: 6, ReportBatchItemFailures: true, MaxRetries: 0},
			answer: func([]string) ([]int, error) { return nil, nil }, invalid: true,
			want:  [][]string{recs},
			stats: KinesisStats{Records: 6, Batches: 1, Failed: 6, FailureRecords: 1},
			failures: []wantFailure{{
				condition: ConditionRetryAttemptsExhausted, first: "r0", last: "r5", size: 6, invokes: 1, functionError: "Unhandled",
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kin, q := motoClients(t)
			streamARN := testStream(t, kin, 1)
			queue := testQueue(t, q)
			seqs := putData(t, kin, streamARN, recs...)
			bySeq := map[string]string{}
			for i, s := range seqs {
				bySeq[s] = recs[i]
			}
			fn := &scripted{answer: tc.answer}
			handle := KinesisFunction(fn.handle)
			if tc.invalid {
				handle = func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
					_, _ = fn.handle(ctx, ev)
					return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "not-a-sequence-number"}}}, nil
				}
			}
			cfg := tc.cfg
			cfg.FunctionARN, cfg.StreamARN, cfg.OnFailureURL = testFunctionARN, streamARN, queue
			m, err := NewKinesisMapping(handle, cfg, fastClock(), kin, q, nil, nil)
			require.NoError(t, err)
			n, err := m.Poll(t.Context())
			require.NoError(t, err)
			assert.Equal(t, len(recs), n)
			m.Wait()
			require.NoError(t, m.Err())
			assert.Equal(t, tc.want, fn.batches)
			assert.Equal(t, tc.stats, m.Stats())
			assert.Zero(t, m.Pending())

			bodies := receiveAll(t, q, queue)
			require.Len(t, bodies, len(tc.failures))
			for i, w := range tc.failures {
				var got KinesisFailureRecord
				require.NoError(t, json.Unmarshal([]byte(bodies[i]), &got))
				info := got.KinesisBatchInfo
				assert.Equal(t, w.condition, got.RequestContext.Condition)
				assert.Equal(t, w.first, bySeq[info.StartSequenceNumber])
				assert.Equal(t, w.last, bySeq[info.EndSequenceNumber])
				assert.Equal(t, w.size, info.BatchSize)
				assert.Equal(t, w.invokes, got.RequestContext.ApproximateInvokeCount)
				assert.Equal(t, w.functionError, got.ResponseContext.FunctionError, bodies[i])
				assert.Equal(t, "shardId-000000000000", info.ShardID)
				assert.Equal(t, streamARN, info.StreamARN)
				assert.Equal(t, testFunctionARN, got.RequestContext.FunctionARN)
			}
		})
	}
}
