package tests

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/redrive"
)

// The central account (centralAccount) runs the processor; two member
// accounts (memberA, memberB) deliver through the logs destination's
// Kinesis stream; the constants are central_template_test.go's.

// centralProcessor is the central stack's processor (HOME_ACCOUNT_ID the
// central account) on its own SDK clients.
func (e *env) centralProcessor(tb testing.TB) *pipeline.Processor {
	tb.Helper()
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(tb, err)
	cfg := pipeline.Config{Table: e.table, Pattern: pattern, Limits: awslogs.DefaultLimits, HomeAccount: centralAccount}
	c := newConfig(tb, e.proxy.URL)
	return pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithLogger(slog.New(slog.DiscardHandler)))
}

// memberData is the gzipped awslogs document a logs destination writes
// for owner's logGroup: msgs, a second apart, with unique event ids.
func memberData(tb testing.TB, owner, logGroup string, msgs ...string) []byte {
	tb.Helper()
	p := &awslogs.Payload{
		MessageType: awslogs.MessageTypeData, Owner: owner, LogGroup: logGroup,
		LogStream: "2026/11/25/[$LATEST]abc", SubscriptionFilters: []string{"member-errors"},
	}
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC).UnixMilli()
	for i, m := range msgs {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: fmt.Sprintf("%056d", eventSeq.Add(1)), Timestamp: t0 + int64(i)*1000, Message: m})
	}
	data, err := awslogs.EncodeGzip(p)
	require.NoError(tb, err)
	return data
}

// kinesisBatch is an event source mapping's batch of data, sequence
// numbers 1, 2, … (as strings of equal length).
func kinesisBatch(data ...[]byte) events.KinesisEvent {
	var ev events.KinesisEvent
	for i, d := range data {
		seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913658%04d", i+1)
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			EventSource: "aws:kinesis", EventName: "aws:kinesis:record", EventID: "shardId-000000000000:" + seq,
			EventSourceArn: "arn:aws:kinesis:us-east-1:" + centralAccount + ":stream/logalert-central",
			Kinesis:        events.KinesisRecord{SequenceNumber: seq, PartitionKey: "k", Data: d, KinesisSchemaVersion: "1.0"},
		})
	}
	return ev
}

// accountsOf reads account_id of every incident item, keyed as incidents
// keys them.
func (e *env) accountsOf(tb testing.TB) map[string]string {
	tb.Helper()
	out, err := dynamodb.NewFromConfig(newConfig(tb, motoURL)).Scan(tb.Context(), &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: aws.Bool(true)})
	require.NoError(tb, err)
	got := map[string]string{}
	for _, item := range out.Items {
		if _, ok := item["incident_id"]; !ok {
			continue
		}
		s := func(k string) string {
			v, _ := item[k].(*types.AttributeValueMemberS)
			if v == nil {
				return ""
			}
			return v.Value
		}
		got[s("account_id")+" "+s("log_group")+" "+s("template")] = s("incident_id")
	}
	return got
}

// TestKinesisBatchWithACorruptRecord: the Lambda entry point, given the
// JSON of a batch whose middle record is corrupt, answers exactly that
// record in batchItemFailures and records the good ones around it.
func TestKinesisBatchWithACorruptRecord(t *testing.T) {
	e := newEnv(t)
	p := e.centralProcessor(t)
	ev := kinesisBatch(
		memberData(t, memberA, "/aws/lambda/api", "ERROR payment 1 declined", "INFO ok"),
		[]byte("H4sI not gzip at all"),
		memberData(t, memberB, "/aws/lambda/api", "ERROR payment 2 declined"),
	)
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	out, err := p.Invoke(t.Context(), raw)
	require.NoError(t, err)
	resp, err := json.Marshal(out)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"`+ev.Records[1].Kinesis.SequenceNumber+`"}]}`, string(resp))
	assert.Equal(t, map[string]int64{
		memberA + " /aws/lambda/api ERROR payment <num> declined": 1,
		memberB + " /aws/lambda/api ERROR payment <num> declined": 1,
	}, e.countsByAccount(t), "the good records of both accounts are recorded")
}

// TestKinesisRedeliveredBatchIsCountedOnce: a batch whose second record
// failed comes again from that record on (Lambda retries from the lowest
// failed sequence number), then whole (a bisected or retried batch): every
// record counts once.
func TestKinesisRedeliveredBatchIsCountedOnce(t *testing.T) {
	e := newEnv(t)
	p := e.centralProcessor(t)
	ev := kinesisBatch(
		memberData(t, memberA, "/aws/lambda/api", "ERROR timeout after 30 s", "ERROR timeout after 31 s"),
		memberData(t, memberA, "/aws/lambda/api", "FATAL out of memory"),
		memberData(t, memberA, "/aws/lambda/worker", "ERROR timeout after 5 s"),
	)
	want := map[string]int64{
		"/aws/lambda/api ERROR timeout after <num> s":    2,
		"/aws/lambda/api FATAL out of memory":            1,
		"/aws/lambda/worker ERROR timeout after <num> s": 1,
	}
	resp, err := p.HandleKinesis(t.Context(), ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	assert.Equal(t, want, counts(e.incidents(t)))

	for _, again := range []events.KinesisEvent{{Records: ev.Records[1:]}, ev} {
		resp, err := p.HandleKinesis(t.Context(), again)
		require.NoError(t, err)
		require.Empty(t, resp.BatchItemFailures)
		assert.Equal(t, want, counts(e.incidents(t)), "a redelivered record counts once")
	}
}

// TestKinesisTwoAccountsOneGroupName: the same group name and message in
// two member accounts and in the central account are three incidents,
// each with its account_id; the central account's has the ID it would
// have had before accounts were told apart.
func TestKinesisTwoAccountsOneGroupName(t *testing.T) {
	e := newEnv(t)
	p := e.centralProcessor(t)
	resp, err := p.HandleKinesis(t.Context(), kinesisBatch(
		memberData(t, memberA, "/aws/lambda/api", "ERROR db unreachable"),
		memberData(t, memberB, "/aws/lambda/api", "ERROR db unreachable", "ERROR db unreachable"),
	))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/aws/lambda/api", "ERROR db unreachable")))

	ids := e.accountsOf(t)
	require.Len(t, ids, 3, "%v", ids)
	a, b, home := ids[memberA+" /aws/lambda/api ERROR db unreachable"], ids[memberB+" /aws/lambda/api ERROR db unreachable"], ids[centralAccount+" /aws/lambda/api ERROR db unreachable"]
	require.NotEmpty(t, a)
	require.NotEmpty(t, b)
	require.NotEmpty(t, home)
	assert.NotEqual(t, a, b)
	st := e.newStore(t, motoURL)
	in, err := st.Get(t.Context(), b)
	require.NoError(t, err)
	assert.Equal(t, memberB, in.AccountID)
	assert.Equal(t, int64(2), in.Occurrences)
	in, err = st.Get(t.Context(), home)
	require.NoError(t, err)
	assert.Equal(t, centralAccount, in.AccountID)
	assert.Equal(t, "inc-", home[:4])
}

// kinesisStream is a stream in moto, as the central stack's
// CentralLogStream.
type kinesisStream struct {
	client *kinesis.Client
	name   string
	arn    string
}

func newKinesisStream(tb testing.TB, e *env) *kinesisStream {
	tb.Helper()
	client := kinesis.NewFromConfig(e.cfg)
	name := awstest.Name(tb, "central")
	_, err := client.CreateStream(tb.Context(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)})
	require.NoError(tb, err)
	out, err := client.DescribeStreamSummary(tb.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	require.NoError(tb, err)
	return &kinesisStream{client: client, name: name, arn: aws.ToString(out.StreamDescriptionSummary.StreamARN)}
}

// put writes each data as a record, as the logs destination does, and
// returns the shard and the sequence numbers.
func (s *kinesisStream) put(tb testing.TB, data ...[]byte) (shard string, seqs []string) {
	tb.Helper()
	for i, d := range data {
		out, err := s.client.PutRecord(tb.Context(), &kinesis.PutRecordInput{StreamName: &s.name, Data: d, PartitionKey: aws.String(fmt.Sprint("k", i))})
		require.NoError(tb, err)
		shard = aws.ToString(out.ShardId)
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	return shard, seqs
}

// kinesisFailureRecord is what a Kinesis event source mapping's
// on-failure destination sends for a batch it gave up on.
func kinesisFailureRecord(tb testing.TB, requestID, streamARN, shard, start, end string, size int) string {
	tb.Helper()
	body, err := json.Marshal(map[string]any{
		"requestContext": map[string]any{
			"requestId": requestID, "functionArn": "arn:aws:lambda:us-east-1:" + centralAccount + ":function:logalert-ProcessorFunction-x1y2z3",
			"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       "2026-11-25T14:05:10.127Z",
		"KinesisBatchInfo": map[string]any{
			"shardId": shard, "startSequenceNumber": start, "endSequenceNumber": end,
			"approximateArrivalOfFirstRecord": "2026-11-25T14:00:01.000Z", "approximateArrivalOfLastRecord": "2026-11-25T14:00:02.000Z",
			"batchSize": size, "streamArn": streamARN,
		},
	})
	require.NoError(tb, err)
	return string(body)
}

// TestRedriveKinesisFailure: the on-failure queue names two batches of the
// stream (one partly counted before the mapping gave up) and one of a
// stream that is gone; the redrive reads the batches back, counts every
// record once and deletes their messages, and keeps the expired one with
// a clear reason; a second run, and the same failure sent again, change
// nothing.
func TestRedriveKinesisFailure(t *testing.T) {
	e := newEnv(t)
	q := newDLQ(t, e)
	p := e.centralProcessor(t)
	s := newKinesisStream(t, e)

	shard, seqs := s.put(t,
		memberData(t, memberA, "/aws/lambda/api", "ERROR card 4242 declined", "ERROR card 4343 declined"),
		memberData(t, memberB, "/aws/lambda/api", "ERROR card 1111 declined"),
		memberData(t, memberA, "/ecs/worker", "FATAL job 9 crashed"),
		memberData(t, memberB, "/ecs/worker", "INFO job 10 done"), // after the failed batches: not redriven
	)
	// The first record was processed before the batch failed.
	first, err := redrive.NewKinesisReader(s.client).Read(t.Context(), redrive.KinesisBatchInfo{
		StreamARN: s.arn, ShardID: shard, StartSequenceNumber: seqs[0], EndSequenceNumber: seqs[0]})
	require.NoError(t, err)
	require.Len(t, first, 1)
	_, err = p.HandleKinesis(t.Context(), events.KinesisEvent{Records: first})
	require.NoError(t, err)

	failure := kinesisFailureRecord(t, "req-batch-1", s.arn, shard, seqs[0], seqs[1], 2)
	q.send(t,
		failure,
		kinesisFailureRecord(t, "req-batch-2", s.arn, shard, seqs[2], seqs[2], 1),
		kinesisFailureRecord(t, "req-gone", "arn:aws:kinesis:us-east-1:"+centralAccount+":stream/"+awstest.Name(t, "gone"), shard, seqs[0], seqs[1], 2),
	)
	r := redrive.New(q.sqs, q.url, nil, redrive.WithWait(0),
		redrive.WithKinesis(redrive.NewKinesisReader(kinesis.NewFromConfig(e.cfg)), redrive.KinesisHandler(p.HandleKinesis)))
	sum, err := r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[redrive.Result][]string{
		redrive.Redriven: {"req-batch-1", "req-batch-2"},
		redrive.Expired:  {"req-gone"},
	}, outcomesByResult(sum))
	for _, o := range sum.Outcomes {
		switch o.Record.RequestContext.RequestID {
		case "req-batch-1":
			assert.Equal(t, 2, o.Records)
			assert.Equal(t, 3, o.Events)
			assert.Equal(t, "/aws/lambda/api", o.LogGroup)
		case "req-gone":
			require.ErrorIs(t, o.Err, redrive.ErrExpired)
			assert.ErrorContains(t, o.Err, "cannot be redriven")
		}
	}
	want := map[string]int64{
		memberA + " /aws/lambda/api ERROR card <num> declined": 2,
		memberB + " /aws/lambda/api ERROR card <num> declined": 1,
		memberA + " /ecs/worker FATAL job <num> crashed":       1,
	}
	assert.Equal(t, want, e.countsByAccount(t), "every record once, the one processed before included")

	bodies := q.bodies(t)
	require.Len(t, bodies, 1, "only the expired one stays")
	assert.Contains(t, bodies[0], "req-gone")

	// A second run redrives nothing; the same failure sent again is read
	// back and counts nothing twice.
	q.send(t, failure)
	sum, err = r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, map[redrive.Result][]string{redrive.Redriven: {"req-batch-1"}, redrive.Expired: {"req-gone"}}, outcomesByResult(sum))
	assert.Equal(t, want, e.countsByAccount(t))
}

// countsByAccount is counts keyed by account too.
func (e *env) countsByAccount(tb testing.TB) map[string]int64 {
	tb.Helper()
	ids := e.accountsOf(tb)
	st := e.newStore(tb, motoURL)
	out := map[string]int64{}
	for k, id := range ids {
		in, err := st.Get(tb.Context(), id)
		require.NoError(tb, err)
		// k is "<account> <group> <template>"
		out[k] = in.Occurrences
	}
	return out
}

// TestRedriveKinesisMissingRecords: a batch whose first record is no
// longer in the shard (trimmed by the stream's retention), or whose last
// one the shard never reaches, has expired.
func TestRedriveKinesisMissingRecords(t *testing.T) {
	e := newEnv(t)
	s := newKinesisStream(t, e)
	shard, seqs := s.put(t, memberData(t, memberA, "/aws/lambda/api", "ERROR x"), memberData(t, memberA, "/aws/lambda/api", "ERROR y"))
	read := func(start, end string) error {
		_, err := redrive.NewKinesisReader(s.client).Read(t.Context(), redrive.KinesisBatchInfo{StreamARN: s.arn, ShardID: shard, StartSequenceNumber: start, EndSequenceNumber: end})
		return err
	}
	err := read(seqs[0], seqs[1]+"9")
	require.ErrorIs(t, err, redrive.ErrExpired)
	assert.ErrorContains(t, err, "the shard ends before")
	assert.ErrorContains(t, err, "last record read: "+seqs[1])

	before := seqs[0][:len(seqs[0])-1] + string(rune(seqs[0][len(seqs[0])-1]-1)) // just before the first record
	err = read(before, seqs[1])
	require.ErrorIs(t, err, redrive.ErrExpired)
	assert.ErrorContains(t, err, "the shard now starts at "+seqs[0])
}
