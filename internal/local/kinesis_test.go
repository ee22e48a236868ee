package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
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

// newTestMapping returns a mapping of fn on the stream, with cfg's
// function, stream and on-failure queue filled in.
func newTestMapping(t *testing.T, fn KinesisFunction, cfg KinesisMappingConfig, clock *Clock, kin *kinesis.Client, q *sqs.Client, fault KinesisFaultFunc) *KinesisMapping {
	t.Helper()
	if cfg.FunctionARN == "" {
		cfg.FunctionARN = testFunctionARN
	}
	m, err := NewKinesisMapping(fn, cfg, clock, kin, q, fault, t.Logf)
	require.NoError(t, err)
	return m
}

// waitSettled waits for m, failing the test after a minute.
func waitSettled(t *testing.T, m *KinesisMapping) {
	t.Helper()
	done := make(chan struct{})
	go func() { m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("the mapping did not settle: %d records pending", m.Pending())
	}
}

// onFailure reads the on-failure records waiting in the queue.
func onFailure(t *testing.T, q *sqs.Client, url string) []KinesisFailureRecord {
	t.Helper()
	var out []KinesisFailureRecord
	for _, b := range receiveAll(t, q, url) {
		var r KinesisFailureRecord
		require.NoError(t, json.Unmarshal([]byte(b), &r))
		out = append(out, r)
	}
	return out
}

// logsProcessor is a KinesisFunction that reads each record as a logs
// destination writes it and reports the records it cannot read, as the
// processor does; it records the log events of every invocation.
type logsProcessor struct {
	mu     sync.Mutex
	shards map[string][]string // shard → sequence numbers, in invocation order
	events map[string][]string // log stream → event ids, in invocation order
	seen   [][]string          // each invocation's sequence numbers
}

func (p *logsProcessor) handle(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shards == nil {
		p.shards, p.events = map[string][]string{}, map[string][]string{}
	}
	var resp events.KinesisEventResponse
	var seqs []string
	for _, r := range ev.Records {
		seq := r.Kinesis.SequenceNumber
		seqs = append(seqs, seq)
		shardID, _, _ := strings.Cut(r.EventID, ":")
		p.shards[shardID] = append(p.shards[shardID], seq)
		payload, err := awslogs.Decode(base64.StdEncoding.EncodeToString(r.Kinesis.Data), awslogs.DefaultLimits)
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seq})
			continue
		}
		for _, e := range payload.LogEvents {
			p.events[payload.LogStream] = append(p.events[payload.LogStream], e.ID)
		}
	}
	p.seen = append(p.seen, seqs)
	return resp, nil
}

// memberEvents are n matching events of each of the log streams, ids
// "<stream>-<i>" in order.
func memberEvents(n int, streams ...string) []Event {
	var evs []Event
	for i := range n {
		for _, s := range streams {
			evs = append(evs, Event{ID: fmt.Sprintf("%s-%03d", s, i), Stream: s, Timestamp: int64(1000 + i), Message: fmt.Sprintf("ERROR %s %d", s, i)})
		}
	}
	return evs
}

// templateMapping is the template's ProcessorKinesisMapping with its
// default parameters, but the longest maximum record age: an hour passes
// in 0.6 s of fastClock, a week in 100 s.
func templateMapping(streamARN, queue string) KinesisMappingConfig {
	return KinesisMappingConfig{
		StreamARN: streamARN, OnFailureURL: queue,
		BatchSize: 100, BatchWindow: 5 * time.Second, MaxRetries: 3, MaxRecordAge: MaxRecordAge,
		Bisect: true, ReportBatchItemFailures: true,
	}
}

func TestKinesisMappingDeliversMemberLogsInOrder(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 2)
	sub, _ := memberSubscription(t, kin, streamARN, "member-errors", "111111111111", "ERROR")
	streams := []string{"a", "b", "c", "d", "e", "f"} // b hashes to the other shard
	p := &logsProcessor{}
	cfg := templateMapping(streamARN, testQueue(t, q))
	cfg.BatchSize = 7
	m := newTestMapping(t, p.handle, cfg, fastClock(), kin, q, nil)
	// Three rounds of deliveries, each polled while the last may still run.
	for round := range 3 {
		evs := memberEvents(4, streams...)
		for i := range evs {
			evs[i].ID = fmt.Sprintf("%d-%s", round, evs[i].ID)
		}
		// One delivery per stream and call: split the calls so that each
		// stream has several records.
		for _, part := range [][]Event{evs[:12], evs[12:]} {
			require.NoError(t, sub.Deliver(t.Context(), part))
		}
		_, err := m.Poll(t.Context())
		require.NoError(t, err)
	}
	waitSettled(t, m)
	require.NoError(t, m.Err())

	stats := m.Stats()
	assert.Equal(t, 36, stats.Records, "two deliveries per stream and round")
	assert.Equal(t, 36, stats.Processed)
	assert.Zero(t, stats.Retries)
	for _, s := range streams {
		var want []string
		for round := range 3 {
			for i := range 4 {
				want = append(want, fmt.Sprintf("%d-%s-%03d", round, s, i))
			}
		}
		assert.Equal(t, want, p.events[s], "stream %s: every event once, in order", s)
	}
	assert.Len(t, p.shards, 2, "both shards are read")
	for shardID, seqs := range p.shards {
		assert.True(t, slices.IsSortedFunc(seqs, compareSequence), "shard %s in sequence order: %v", shardID, seqs)
	}
	for _, b := range p.seen {
		assert.LessOrEqual(t, len(b), 7)
	}
	assert.Empty(t, onFailure(t, q, cfg.OnFailureURL))
}

// compareSequence orders Kinesis sequence numbers: decimal numbers of any
// length.
func compareSequence(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func TestKinesisMappingCorruptRecord(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	sub, _ := memberSubscription(t, kin, streamARN, "member-all", "222222222222", "")
	require.NoError(t, sub.Deliver(t.Context(), memberEvents(2, "a", "b", "c")))
	corrupt := putData(t, kin, streamARN, "not gzip")[0]
	require.NoError(t, sub.Deliver(t.Context(), memberEvents(1, "d", "e")))

	p := &logsProcessor{}
	cfg := templateMapping(streamARN, testQueue(t, q))
	m := newTestMapping(t, p.handle, cfg, fastClock(), kin, q, nil)
	n, err := m.Poll(t.Context())
	require.NoError(t, err)
	require.Equal(t, 6, n)
	waitSettled(t, m)
	require.NoError(t, m.Err())

	all := p.seen[0]
	require.Len(t, all, 6)
	require.Equal(t, corrupt, all[3])
	// The batch, then the records from the corrupt one on, once per retry.
	want := [][]string{all, all[3:], all[3:], all[3:]}
	assert.Equal(t, want, p.seen, "only what Lambda redelivers")
	assert.Equal(t, KinesisStats{Records: 6, Batches: 4, Retries: 3, Processed: 3, Failed: 3, FailureRecords: 1}, m.Stats())

	recs := onFailure(t, q, cfg.OnFailureURL)
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, ConditionRetryAttemptsExhausted, r.RequestContext.Condition)
	assert.Equal(t, 4, r.RequestContext.ApproximateInvokeCount)
	assert.Empty(t, r.ResponseContext.FunctionError, "the function reported the failures; it did not fail")
	info := r.KinesisBatchInfo
	assert.Equal(t, corrupt, info.StartSequenceNumber, "the on-failure record starts at the corrupt record")
	assert.Equal(t, all[5], info.EndSequenceNumber)
	assert.Equal(t, 3, info.BatchSize)
	assert.Equal(t, streamARN, info.StreamARN)
	// The good records after it were processed on every delivery: making
	// that count once is the processor's part.
	assert.Equal(t, []string{"d-000", "d-000", "d-000", "d-000"}, p.events["d"])
	assert.Equal(t, []string{"a-000", "a-001"}, p.events["a"])
}

func TestKinesisMappingFailureRecordShape(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "x")
	cfg := templateMapping(streamARN, testQueue(t, q))
	cfg.MaxRetries = 0
	fail := func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, errors.New("boom")
	}
	m := newTestMapping(t, fail, cfg, fastClock(), kin, q, nil)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	waitSettled(t, m)
	bodies := receiveAll(t, q, cfg.OnFailureURL)
	require.Len(t, bodies, 1)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(bodies[0]), &doc))
	// Lambda's keys, in its document's shape.
	assert.ElementsMatch(t, []string{"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}, slices.Collect(maps.Keys(doc)))
	assert.ElementsMatch(t, []string{"requestId", "functionArn", "condition", "approximateInvokeCount"}, slices.Collect(maps.Keys(doc["requestContext"].(map[string]any))))
	assert.Equal(t, map[string]any{"statusCode": 200.0, "executedVersion": "$LATEST", "functionError": "Unhandled"}, doc["responseContext"])
	assert.ElementsMatch(t, []string{"shardId", "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
		"approximateArrivalOfLastRecord", "batchSize", "streamArn"}, slices.Collect(maps.Keys(doc["KinesisBatchInfo"].(map[string]any))))
	assert.Equal(t, "1.0", doc["version"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, doc["timestamp"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, doc["KinesisBatchInfo"].(map[string]any)["approximateArrivalOfFirstRecord"])
}

func TestKinesisMappingRecordAgeExceeded(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	seqs := putData(t, kin, streamARN, "x", "y")
	cfg := templateMapping(streamARN, testQueue(t, q))
	cfg.MaxRetries, cfg.MaxRecordAge, cfg.Bisect = -1, time.Minute, false
	cfg.BatchWindow = 0 // the clock stands still
	var calls atomic.Int64
	fail := func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
		calls.Add(1)
		return events.KinesisEventResponse{}, errors.New("always")
	}
	// The records are a few seconds old on a clock that stands still
	// until the test moves it past their maximum age.
	frozen := &frozenClock{now: time.Now()}
	clock := NewClock(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), 100, frozen.real)
	m := newTestMapping(t, fail, cfg, clock, kin, q, nil)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return calls.Load() >= 2 }, time.Minute, time.Millisecond, "retried while young enough")
	assert.Equal(t, 2, m.Pending())
	frozen.advance(time.Second) // 100 s on the clock
	waitSettled(t, m)
	recs := onFailure(t, q, cfg.OnFailureURL)
	require.Len(t, recs, 1)
	assert.Equal(t, ConditionRecordAgeExceeded, recs[0].RequestContext.Condition)
	assert.Equal(t, seqs[0], recs[0].KinesisBatchInfo.StartSequenceNumber)
	assert.Equal(t, seqs[1], recs[0].KinesisBatchInfo.EndSequenceNumber)
	assert.Equal(t, int(calls.Load()), recs[0].RequestContext.ApproximateInvokeCount)
	assert.Equal(t, "Unhandled", recs[0].ResponseContext.FunctionError)
	stats := m.Stats()
	assert.Equal(t, 2, stats.Failed)
	assert.Equal(t, int(calls.Load())-1, stats.Retries)
}

// frozenClock is a Clock whose real time moves only when the test says.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *frozenClock) real() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *frozenClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func TestKinesisMappingBatchingWindow(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	frozen := &frozenClock{now: time.Now()}
	clock := NewClock(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), 1000, frozen.real)
	fn := &scripted{answer: func([]string) ([]int, error) { return nil, nil }}
	cfg := KinesisMappingConfig{StreamARN: streamARN, BatchSize: 3, BatchWindow: 300 * time.Second}
	m := newTestMapping(t, fn.handle, cfg, clock, kin, q, nil)

	putData(t, kin, streamARN, "a", "b", "c", "d")
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	putData(t, kin, streamARN, "e")
	_, err = m.Poll(t.Context())
	require.NoError(t, err)
	// The full batch goes at once; the rest waits for the window, which
	// the frozen clock never reaches, or for a full batch.
	require.Eventually(t, func() bool { return m.Stats().Processed == 3 }, time.Minute, 5*time.Millisecond)
	assert.Equal(t, 2, m.Pending())
	putData(t, kin, streamARN, "f")
	_, err = m.Poll(t.Context())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return m.Stats().Processed == 6 }, time.Minute, 5*time.Millisecond)

	putData(t, kin, streamARN, "g")
	_, err = m.Poll(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, m.Pending(), "within the window")
	frozen.advance(300 * time.Millisecond) // 300 s on the clock
	waitSettled(t, m)
	fn.mu.Lock()
	defer fn.mu.Unlock()
	assert.Equal(t, [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g"}}, fn.batches)
}

func TestKinesisMappingTimeoutAndFaults(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "a", "b")
	calls := 0
	slowOnce := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		calls++
		if calls == 1 {
			<-ctx.Done() // the function's timeout
			return events.KinesisEventResponse{}, ctx.Err()
		}
		return events.KinesisEventResponse{}, nil
	}
	cfg := templateMapping(streamARN, testQueue(t, q))
	cfg.Timeout, cfg.Bisect = 20*time.Millisecond, false
	var attempts []int
	fault := func(attempt int, ev events.KinesisEvent) error {
		attempts = append(attempts, attempt)
		if attempt == 1 {
			return errors.New("injected")
		}
		return nil
	}
	m := newTestMapping(t, slowOnce, cfg, fastClock(), kin, q, fault)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	waitSettled(t, m)
	assert.Equal(t, []int{1, 2, 3}, attempts, "the fault, then the timeout, then success")
	assert.Equal(t, 2, calls)
	assert.Equal(t, KinesisStats{Records: 2, Batches: 3, Retries: 2, Processed: 2}, m.Stats())
}

func TestFaultPerRecordFailsDeliveriesAsLambdaWould(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	sub, _ := memberSubscription(t, kin, streamARN, "all", "111111111111", "")
	require.NoError(t, sub.Deliver(t.Context(), memberEvents(1, "a", "b", "c", "d")))
	doomed := ""
	fault := FaultPerRecord(func(attempt int, ev events.CloudwatchLogsEvent) error {
		p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
		require.NoError(t, err)
		if p.LogStream == "c" {
			doomed = ev.AWSLogs.Data
			return fmt.Errorf("attempt %d made to fail", attempt)
		}
		return nil
	})
	p := &logsProcessor{}
	cfg := templateMapping(streamARN, testQueue(t, q))
	m := newTestMapping(t, p.handle, cfg, fastClock(), kin, q, fault)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	waitSettled(t, m)
	assert.NotEmpty(t, doomed)
	assert.Equal(t, map[string][]string{"a": {"a-000"}, "b": {"b-000"}, "d": {"d-000"}}, p.events, "bisection isolates c")
	recs := onFailure(t, q, cfg.OnFailureURL)
	require.Len(t, recs, 1)
	info := recs[0].KinesisBatchInfo
	assert.Equal(t, 1, info.BatchSize)
	assert.Equal(t, info.StartSequenceNumber, info.EndSequenceNumber)
	assert.Equal(t, "Unhandled", recs[0].ResponseContext.FunctionError)
}

func TestKinesisMappingResumesAfterItsContextEnds(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "a", "b", "c")
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	fn := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		calls++
		if calls == 1 {
			cancel() // the twin stops while the batch runs
			return events.KinesisEventResponse{}, errors.New("stopped")
		}
		return events.KinesisEventResponse{}, nil
	}
	m := newTestMapping(t, fn, KinesisMappingConfig{StreamARN: streamARN}, fastClock(), kin, q, nil)
	n, err := m.Poll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	waitSettled(t, m)
	assert.Equal(t, 3, m.Pending(), "nothing checkpointed, nothing lost")
	n, err = m.Poll(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing new")
	waitSettled(t, m)
	assert.Zero(t, m.Pending())
	assert.Equal(t, 2, calls)
	assert.Equal(t, 3, m.Stats().Processed)
	require.NoError(t, m.Err())
}

func TestNewKinesisMappingChecksItsConfig(t *testing.T) {
	stream := "arn:aws:kinesis:us-east-1:123456789012:stream/central"
	tests := []struct {
		name string
		cfg  KinesisMappingConfig
		want string
	}{
		{"defaults", KinesisMappingConfig{StreamARN: stream}, ""},
		{"no stream", KinesisMappingConfig{}, "event source"},
		{"AT_TIMESTAMP", KinesisMappingConfig{StreamARN: stream, StartingPosition: "AT_TIMESTAMP"}, "starting position"},
		{"batch size", KinesisMappingConfig{StreamARN: stream, BatchSize: 10_001}, "batch size 10001"},
		{"window", KinesisMappingConfig{StreamARN: stream, BatchWindow: 301 * time.Second}, "batching window"},
		{"retries", KinesisMappingConfig{StreamARN: stream, MaxRetries: -2}, "maximum retry attempts -2"},
		{"age", KinesisMappingConfig{StreamARN: stream, MaxRecordAge: 59 * time.Second}, "maximum record age 59s"},
		{"all at once", KinesisMappingConfig{StreamARN: stream, BatchSize: -1, MaxRetries: 10_001}, "maximum retry attempts 10001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKinesisMapping(nil, tc.cfg, fastClock(), nil, nil, nil, nil)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestKinesisMappingStartsAtLatest(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "before")
	fn := &scripted{answer: func([]string) ([]int, error) { return nil, nil }}
	m := newTestMapping(t, fn.handle, KinesisMappingConfig{StreamARN: streamARN, StartingPosition: ktypes.ShardIteratorTypeLatest}, fastClock(), kin, q, nil)
	n, err := m.Poll(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	putData(t, kin, streamARN, "after")
	n, err = m.Poll(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	waitSettled(t, m)
	assert.Equal(t, [][]string{{"after"}}, fn.batches)
}

func TestKinesisMappingWithoutOnFailureDestination(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "x", "y")
	fail := func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, errors.New("boom")
	}
	m := newTestMapping(t, fail, KinesisMappingConfig{StreamARN: streamARN}, fastClock(), kin, q, nil)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	waitSettled(t, m)
	assert.Equal(t, KinesisStats{Records: 2, Batches: 1, Failed: 2}, m.Stats(), "discarded without a trace, as Lambda does")
	assert.Zero(t, m.Pending())
	assert.NoError(t, m.Err())
}

func TestKinesisMappingReportsAnOnFailureQueueItCannotReach(t *testing.T) {
	kin, q := motoClients(t)
	streamARN := testStream(t, kin, 1)
	putData(t, kin, streamARN, "x")
	fail := func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, errors.New("boom")
	}
	cfg := KinesisMappingConfig{StreamARN: streamARN, OnFailureURL: testQueue(t, q) + "-missing"}
	m := newTestMapping(t, fail, cfg, fastClock(), kin, q, nil)
	_, err := m.Poll(t.Context())
	require.NoError(t, err)
	waitSettled(t, m)
	err = m.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "send on-failure record of 1 records of shardId-000000000000")
	assert.Equal(t, KinesisStats{Records: 1, Batches: 1, Failed: 1}, m.Stats())
}
