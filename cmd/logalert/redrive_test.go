package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/redrive"
)

// record is Lambda's on-failure invocation record of ev.
func record(t *testing.T, requestID, at string, ev events.CloudwatchLogsEvent) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"version":   "1.0",
		"timestamp": "2026-11-25T" + at + ".000Z",
		"requestContext": map[string]any{
			"requestId": requestID, "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:logalert-ProcessorFunction-Ab12:$LATEST",
			"condition": "RetriesExhausted", "approximateInvokeCount": 3,
		},
		"requestPayload":  ev,
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]any{"errorMessage": "publish incident: ThrottledException", "errorType": "wrapError"},
	})
	require.NoError(t, err)
	return string(body)
}

// deadLetters creates a queue holding three failed deliveries: one the
// table already counted, one it has never seen and one that cannot be
// decoded. It returns the queue's URL and a client.
func deadLetters(t *testing.T, endpoint, table string) (string, *sqs.Client) {
	t.Helper()
	client := sqs.NewFromConfig(testConfig(t, endpoint))
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(uniqueName(t, "dlq", 80))})
	require.NoError(t, err)
	url := aws.ToString(out.QueueUrl)

	p := processor(t, endpoint, table, time.Now)
	counted := subscriptionEvent(t, seedApp, event{"14:00:00", "ERROR db timeout after 3000 ms on 10.0.0.12"}, event{"14:00:05", "ERROR db timeout after 2500 ms on 10.0.0.13"})
	require.NoError(t, p.Handle(t.Context(), counted))
	fresh := subscriptionEvent(t, seedWorker, event{"14:02:00", "FATAL job 8812 crashed: out of memory"})
	corrupt := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "H4sIAAAA-not-gzip"}}
	for _, body := range []string{
		record(t, "7d1c0b6e-5f3a-4c2b-9e8d-1a2b3c4d5e6f", "14:03:10", counted),
		record(t, "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b", "14:04:20", fresh),
		record(t, "c0ffee00-1234-4abc-8def-0123456789ab", "14:05:30", corrupt),
	} {
		_, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body)})
		require.NoError(t, err)
	}
	return url, client
}

func queueDepth(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	require.NoError(t, err)
	n, err := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	require.NoError(t, err)
	return n
}

func occurrences(t *testing.T, table string) map[string]int64 {
	t.Helper()
	stdout, _, err := runCLI(t, "incidents", "list", "--table", table, "-o", "json")
	require.NoError(t, err)
	var vs []incidentView
	require.NoError(t, json.Unmarshal([]byte(stdout), &vs))
	out := map[string]int64{}
	for _, v := range vs {
		out[v.LogGroup+" "+v.Template] = v.Occurrences
	}
	return out
}

func TestRedriveLocal(t *testing.T) {
	endpoint := useMoto(t)
	table := newTable(t, endpoint)
	url, client := deadLetters(t, endpoint, table)
	before := occurrences(t, table)
	require.Equal(t, map[string]int64{seedApp + " ERROR db timeout after <num> ms on <ip>": 2}, before)

	stdout, stderr, err := runCLI(t, "redrive", "--queue-url", url, "--dry-run")
	require.NoError(t, err)
	golden(t, "redrive_dry_run", stdout)
	assert.Equal(t, 3, strings.Count(stderr, "would redrive"), stderr)
	assert.Equal(t, before, occurrences(t, table), "a dry run changes nothing")
	assert.Equal(t, 3, queueDepth(t, client, url), "a dry run deletes nothing")

	stdout, stderr, err = runCLI(t, "redrive", "--queue-url", url, "--local", "--table", table)
	require.EqualError(t, err, "1 of 3 messages failed again and stay in the queue")
	golden(t, "redrive_local", stdout)
	assert.Equal(t, []string{
		"redrive 1/3: redriven request 7d1c0b6e-5f3a-4c2b-9e8d-1a2b3c4d5e6f (/logalert/demo/app, 2 events)",
		"redrive 2/3: redriven request 0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b (/logalert/demo/worker, 1 events)",
		"redrive 3/3: failed request c0ffee00-1234-4abc-8def-0123456789ab: awslogs: malformed payload: base64: illegal base64 data at input byte 8",
	}, strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"))
	assert.Equal(t, map[string]int64{
		seedApp + " ERROR db timeout after <num> ms on <ip>":   2, // already counted: unchanged
		seedWorker + " FATAL job <num> crashed: out of memory": 1,
	}, occurrences(t, table))
	assert.Equal(t, 1, queueDepth(t, client, url), "the corrupt delivery stays, visible again")
	_, _, err = runCLI(t, "incidents", "show", seedJob, "--table", table)
	require.NoError(t, err, "the processor's own account keeps its incident IDs (HOME_ACCOUNT_ID: the credentials' account)")

	// Again, from the stack's outputs, as JSON: nothing more to count.
	stack := uniqueName(t, "redrive", 100)
	createStack(t, endpoint, stack, map[string]string{outputTable: table, outputDLQ: url})
	stdout, _, err = runCLI(t, "redrive", "--stack", stack, "--local", "-o", "json")
	require.Error(t, err)
	var v redriveView
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.Equal(t, 0, v.Redriven)
	assert.Equal(t, 1, v.Failed)
	require.Len(t, v.Messages, 1)
	assert.Equal(t, "c0ffee00-1234-4abc-8def-0123456789ab", v.Messages[0].RequestID)
	assert.Equal(t, "publish incident: ThrottledException", v.Messages[0].LastError)
	assert.Equal(t, "RetriesExhausted", v.Messages[0].Condition)
	assert.Equal(t, 3, v.Messages[0].Attempts)
	assert.Equal(t, "2026-11-25T14:05:30.000Z", v.Messages[0].FailedAt)
	assert.Contains(t, v.Messages[0].Error, "awslogs: malformed payload")
	assert.Equal(t, 1, queueDepth(t, client, url))
}

// TestRedriveToFunction takes the AWS path, Lambda Invoke. moto runs no
// functions, so the invoke fails: the messages must stay in the queue.
func TestRedriveToFunction(t *testing.T) {
	endpoint := useMoto(t)
	table := newTable(t, endpoint)
	url, client := deadLetters(t, endpoint, table)

	stack := uniqueName(t, "redrive", 100)
	createStack(t, endpoint, stack, map[string]string{outputDLQ: url, outputFunction: "logalert-no-such-function"})
	stdout, stderr, err := runCLI(t, "redrive", "--stack", stack, "--max", "2")
	// A missing function fails every message alike: the run stops at the
	// first instead of blaming each payload.
	require.ErrorIs(t, err, redrive.ErrTargetUnavailable)
	assert.ErrorContains(t, err, "ResourceNotFoundException: Function not found")
	assert.Contains(t, stderr, "redrive 1/2: failed request 7d1c0b6e-5f3a-4c2b-9e8d-1a2b3c4d5e6f (/logalert/demo/app, 2 events): redrive: target unavailable: invoke logalert-no-such-function: ")
	assert.NotContains(t, stderr, "redrive 2/2")
	assert.Contains(t, stdout, "redriven 0, failed 1, skipped 0: 1 left in the queue\n")
	assert.Equal(t, 3, queueDepth(t, client, url))
}

func TestRedriveEmptyQueue(t *testing.T) {
	endpoint := useMoto(t)
	client := sqs.NewFromConfig(testConfig(t, endpoint))
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(uniqueName(t, "empty-dlq", 80))})
	require.NoError(t, err)
	stdout, stderr, err := runCLI(t, "redrive", "--queue-url", aws.ToString(out.QueueUrl), "--function", "f")
	require.NoError(t, err)
	assert.Equal(t, "nothing to redrive: the dead-letter queue is empty\n", stdout)
	assert.Empty(t, stderr)

	stdout, _, err = runCLI(t, "redrive", "--queue-url", aws.ToString(out.QueueUrl), "--function", "f", "-o", "yaml")
	require.NoError(t, err)
	assert.Equal(t, "dry_run: false\nredriven: 0\nfailed: 0\nskipped: 0\nmessages: []\n", stdout)
}

func TestRedriveUsageErrors(t *testing.T) {
	useEndpoint(t, "http://127.0.0.1:1")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no queue", []string{"--function", "f"}, "no dead-letter queue: pass --queue-url URL or --stack NAME"},
		{"no target", []string{"--queue-url", "q"}, "nothing to redrive to: pass --function NAME, --stack NAME or --local"},
		{"local and function", []string{"--queue-url", "q", "--local", "--function", "f"}, "--local and --function are exclusive"},
		{"local without a table", []string{"--queue-url", "q", "--local"}, "--local needs the incidents table"},
		{"negative max", []string{"--queue-url", "q", "--function", "f", "--max", "-1"}, "--max must be 0 or more"},
		{"bad output", []string{"--queue-url", "q", "--function", "f", "-o", "xml"}, `--output must be table, json or yaml, not "xml"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"redrive"}, tc.args...)...)
			var usage usageError
			require.True(t, errors.As(err, &usage), "usage error: %v", err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestProgress(t *testing.T) {
	var buf strings.Builder
	bar := &progress{w: &buf, tty: true}
	bar.update(1, 4, redrive.Outcome{Result: redrive.Redriven})
	bar.update(2, 4, redrive.Outcome{Result: redrive.Failed, Err: errors.New("boom")})
	bar.finish()
	assert.Equal(t, "\r[#######.......................] 1/4  ok 1  failed 0  skipped 0 "+
		"\r[###############...............] 2/4  ok 1  failed 1  skipped 0 \n", buf.String())

	buf.Reset()
	plain := newProgress(&buf)
	plain.update(1, 1, redrive.Outcome{MessageID: "m-1", Result: redrive.Skipped, Err: redrive.ErrNotRecord})
	plain.finish()
	assert.Equal(t, "redrive 1/1: skipped message m-1: redrive: not a Lambda invocation record or CloudWatch Logs event\n", buf.String())
}

// kinesisFailure is the on-failure record of a Kinesis event source
// mapping for the batch start..end of streamARN's shard.
func kinesisFailure(t *testing.T, requestID, streamARN, shard, start, end string) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"requestContext": map[string]any{
			"requestId": requestID, "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:logalert-ProcessorFunction-Ab12",
			"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0", "timestamp": "2026-11-25T14:06:00.000Z",
		"KinesisBatchInfo": map[string]any{"shardId": shard, "startSequenceNumber": start, "endSequenceNumber": end,
			"approximateArrivalOfFirstRecord": "2026-11-25T14:05:00.000Z", "approximateArrivalOfLastRecord": "2026-11-25T14:05:01.000Z",
			"batchSize": 2, "streamArn": streamARN},
	})
	require.NoError(t, err)
	return string(body)
}

// TestRedriveLocalKinesis: a member accounts' batch named by a Kinesis
// on-failure record is read back from the stream and counted once per
// account; a batch of a stream that is gone is reported as expired and
// stays; running again counts nothing twice.
func TestRedriveLocalKinesis(t *testing.T) {
	endpoint := useMoto(t)
	table := newTable(t, endpoint)
	cfg := testConfig(t, endpoint)
	streams := kinesis.NewFromConfig(cfg)
	stream := uniqueName(t, "central", 100)
	_, err := streams.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: &stream, ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	desc, err := streams.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: &stream})
	require.NoError(t, err)
	streamARN := aws.ToString(desc.StreamDescriptionSummary.StreamARN)
	var shard string
	var seqs []string
	for _, owner := range []string{"111111111111", "222222222222"} {
		ev := deliveryFrom(t, owner, "/aws/lambda/orders-api", event{"14:05:00", "ERROR order 5001 rejected: inventory returned 503"})
		zip, err := base64.StdEncoding.DecodeString(ev.AWSLogs.Data)
		require.NoError(t, err)
		out, err := streams.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: &stream, Data: zip, PartitionKey: aws.String(owner)})
		require.NoError(t, err)
		shard, seqs = aws.ToString(out.ShardId), append(seqs, aws.ToString(out.SequenceNumber))
	}
	client := sqs.NewFromConfig(cfg)
	q, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(uniqueName(t, "dlq", 80))})
	require.NoError(t, err)
	url := aws.ToString(q.QueueUrl)
	for _, body := range []string{
		kinesisFailure(t, "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d", streamARN, shard, seqs[0], seqs[1]),
		kinesisFailure(t, "e1e2e3e4-0000-4111-8222-333344445555", streamARN+"-gone", shard, seqs[0], seqs[1]),
	} {
		_, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body)})
		require.NoError(t, err)
	}

	stdout, stderr, err := runCLI(t, "redrive", "--queue-url", url, "--local", "--table", table)
	require.EqualError(t, err, "1 of 2 messages name Kinesis records that expired from the stream: they stay in the queue, and cannot be redriven")
	assert.Contains(t, stderr, "redriven request 4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d (kinesis "+shard+" "+seqs[0]+".."+seqs[1]+") (/aws/lambda/orders-api, 2 events)")
	assert.Contains(t, stderr, "expired request e1e2e3e4-0000-4111-8222-333344445555")
	assert.Contains(t, stdout, "4b5c6d7e  2026-11-25 14:06:00  RetryAttemptsEx…      4  …ws/lambda/orders-api       2  redriven\n")
	assert.Contains(t, stdout, "e1e2e3e4  2026-11-25 14:06:00  RetryAttemptsEx…      4  -                           -  expired\n")
	assert.Contains(t, stdout, "expired e1e2e3e4: redrive: records expired from the stream")
	assert.Contains(t, stdout, "redriven 1, failed 0, skipped 0, expired 1: 1 left in the queue\n")
	assert.Equal(t, 1, queueDepth(t, client, url), "the expired one stays")
	for _, account := range []string{"111111111111", "222222222222"} {
		out, _, err := runCLI(t, "incidents", "list", "--table", table, "--account", account, "-o", "json")
		require.NoError(t, err)
		var vs []incidentView
		require.NoError(t, json.Unmarshal([]byte(out), &vs))
		require.Len(t, vs, 1, account)
		assert.Equal(t, int64(1), vs[0].Occurrences)
	}

	// The same failure again: read back, counted once still.
	_, err = client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &url,
		MessageBody: aws.String(kinesisFailure(t, "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d", streamARN, shard, seqs[0], seqs[1]))})
	require.NoError(t, err)
	stdout, _, err = runCLI(t, "redrive", "--queue-url", url, "--local", "--table", table, "-o", "json")
	require.Error(t, err)
	var v redriveView
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.Equal(t, 1, v.Redriven)
	assert.Equal(t, 1, v.Expired)
	for _, m := range v.Messages {
		assert.Equal(t, streamARN, strings.TrimSuffix(m.Stream, "-gone"))
		assert.Equal(t, seqs[0], m.StartSequence)
	}
	assert.Equal(t, map[string]int64{"/aws/lambda/orders-api ERROR order <num> rejected: inventory returned <num>": 1}, occurrences(t, table),
		"both accounts' incidents, once each (occurrences keys by group and template)")
}
