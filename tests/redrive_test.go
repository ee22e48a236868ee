package tests

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/redrive"
)

// dlq is a dead-letter queue in moto, as the template's
// ProcessorDeadLetterQueue.
type dlq struct {
	sqs *sqs.Client
	url string
}

func newDLQ(tb testing.TB, e *env) *dlq {
	tb.Helper()
	client := sqs.NewFromConfig(e.cfg)
	out, err := client.CreateQueue(tb.Context(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(tb, "dlq"))})
	require.NoError(tb, err)
	return &dlq{sqs: client, url: aws.ToString(out.QueueUrl)}
}

// invocationRecord is what Lambda's on-failure destination sends for a
// delivery the processor failed three times.
func invocationRecord(tb testing.TB, requestID string, ev events.CloudwatchLogsEvent) string {
	tb.Helper()
	body, err := json.Marshal(map[string]any{
		"version":   "1.0",
		"timestamp": "2026-11-25T14:03:10.127Z",
		"requestContext": map[string]any{
			"requestId":              requestID,
			"functionArn":            "arn:aws:lambda:us-east-1:123456789012:function:logalert-ProcessorFunction-x1y2z3:$LATEST",
			"condition":              "RetriesExhausted",
			"approximateInvokeCount": 3,
		},
		"requestPayload":  ev,
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]any{"errorMessage": "record 3 incidents of /app/orders: store: write contention, retries exhausted", "errorType": "wrapError"},
	})
	require.NoError(tb, err)
	return string(body)
}

func (q *dlq) send(tb testing.TB, bodies ...string) {
	tb.Helper()
	for _, b := range bodies {
		_, err := q.sqs.SendMessage(tb.Context(), &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: aws.String(b)})
		require.NoError(tb, err)
	}
}

// depth returns the visible and the in-flight messages.
func (q *dlq) depth(tb testing.TB) (visible, inFlight int) {
	tb.Helper()
	out, err := q.sqs.GetQueueAttributes(tb.Context(), &sqs.GetQueueAttributesInput{QueueUrl: &q.url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	require.NoError(tb, err)
	visible, err = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	require.NoError(tb, err)
	inFlight, err = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	require.NoError(tb, err)
	return visible, inFlight
}

// bodies returns the bodies of every message and leaves them visible: it
// receives them all, each hidden so that it is received once, then
// releases each at once, as the redrive does with what it keeps.
func (q *dlq) bodies(tb testing.TB) []string {
	tb.Helper()
	var out []string
	var received []string // receipt handles
	for {
		got, err := q.sqs.ReceiveMessage(tb.Context(), &sqs.ReceiveMessageInput{QueueUrl: &q.url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		require.NoError(tb, err)
		if len(got.Messages) == 0 {
			break
		}
		for _, m := range got.Messages {
			out = append(out, aws.ToString(m.Body))
			received = append(received, aws.ToString(m.ReceiptHandle))
		}
	}
	for _, h := range received {
		_, err := q.sqs.ChangeMessageVisibility(tb.Context(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &q.url, ReceiptHandle: aws.String(h), VisibilityTimeout: 0})
		require.NoError(tb, err)
	}
	visible, inFlight := q.depth(tb)
	require.Equal(tb, len(out), visible, "every message is visible again")
	require.Zero(tb, inFlight)
	return out
}

func outcomesByResult(sum redrive.Summary) map[redrive.Result][]string {
	out := map[redrive.Result][]string{}
	for _, o := range sum.Outcomes {
		id := o.Record.RequestContext.RequestID
		if id == "" {
			id = "message"
		}
		out[o.Result] = append(out[o.Result], id)
	}
	return out
}

func TestRedriveEndToEnd(t *testing.T) {
	e := newEnv(t)
	q := newDLQ(t, e)
	p := e.newProcessor(t, e.proxy.URL, "", nil)

	// Counted already: the processor committed it, then failed (say,
	// publishing the alert) and Lambda gave up.
	counted := mixedBatch(t)
	require.NoError(t, p.Handle(t.Context(), counted))
	fresh := delivery(t, "/app/orders", "ERROR payment 7 declined by gateway", "ERROR payment 9 declined by gateway")
	corrupt := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "H4sIAAAA-not-gzip"}}
	q.send(t,
		invocationRecord(t, "req-counted", counted),
		invocationRecord(t, "req-fresh", fresh),
		invocationRecord(t, "req-corrupt", corrupt),
		`{"Records":[{"eventSource":"aws:s3"}]}`, // somebody else's message
	)

	var progress []string
	r := redrive.New(q.sqs, q.url, redrive.Handler(p.Handle), redrive.WithWait(0))
	sum, err := r.Run(t.Context(), redrive.Options{Progress: func(done, total int, o redrive.Outcome) {
		progress = append(progress, strconv.Itoa(done)+"/"+strconv.Itoa(total)+" "+o.Result.String())
	}})
	require.NoError(t, err)
	assert.Equal(t, map[redrive.Result][]string{
		redrive.Redriven: {"req-counted", "req-fresh"},
		redrive.Failed:   {"req-corrupt"},
		redrive.Skipped:  {"message"},
	}, outcomesByResult(sum))
	assert.Equal(t, []string{"1/4 redriven", "2/4 redriven", "3/4 failed", "4/4 skipped"}, progress)
	for _, o := range sum.Outcomes {
		switch o.Record.RequestContext.RequestID {
		case "req-fresh":
			assert.Equal(t, "/app/orders", o.LogGroup)
			assert.Equal(t, 2, o.Events)
		case "req-corrupt":
			assert.ErrorContains(t, o.Err, "awslogs: malformed payload")
		case "":
			assert.ErrorIs(t, o.Err, redrive.ErrNotRecord)
		}
	}

	// The counted payload changed nothing; the fresh one is counted once.
	want := map[string]int64{"/app/orders ERROR payment <num> declined by gateway": 2}
	for k, n := range mixedCounts {
		want[k] = n
	}
	assert.Equal(t, want, counts(e.incidents(t)))

	// What failed or was skipped is back in the queue, visible at once.
	visible, inFlight := q.depth(t)
	assert.Equal(t, 2, visible)
	assert.Equal(t, 0, inFlight)
	bodies := q.bodies(t)
	require.Len(t, bodies, 2)
	assert.Contains(t, strings.Join(bodies, "\n"), "req-corrupt")
	assert.Contains(t, strings.Join(bodies, "\n"), "aws:s3")

	// A second run redrives nothing more and counts nothing twice.
	sum, err = r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, 0, sum.Redriven)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, sum.Skipped)
	assert.Equal(t, want, counts(e.incidents(t)))
}

// TestRedriveFailsAgainThenSucceeds: while DynamoDB rejects writes the
// payload fails again and stays; once it is back, the next run counts it.
func TestRedriveFailsAgainThenSucceeds(t *testing.T) {
	e := newEnv(t)
	q := newDLQ(t, e)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	q.send(t, invocationRecord(t, "req-1", mixedBatch(t)))

	e.proxy.SetFaults(func(op string, _ int) *awstest.Fault {
		if op == "TransactWriteItems" {
			return &awstest.Rejected
		}
		return nil
	})
	r := redrive.New(q.sqs, q.url, redrive.Handler(p.Handle), redrive.WithWait(0))
	sum, err := r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Failed)
	require.Len(t, sum.Outcomes, 1)
	assert.ErrorContains(t, sum.Outcomes[0].Err, "ValidationException")
	assert.Empty(t, e.incidents(t))
	visible, _ := q.depth(t)
	assert.Equal(t, 1, visible, "the payload stays in the dead-letter queue")

	e.proxy.SetFaults(nil)
	sum, err = r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Redriven)
	assert.Equal(t, mixedCounts, counts(e.incidents(t)))
	visible, inFlight := q.depth(t)
	assert.Equal(t, 0, visible+inFlight, "deleted once processed")
}

// A target that cannot take any payload (here a function moto does not
// have) would fail every message alike: the run stops at the first and
// leaves them all in the queue, instead of reporting each as failed again.
func TestRedriveStopsWhenTheTargetIsUnavailable(t *testing.T) {
	e := newEnv(t)
	q := newDLQ(t, e)
	for i := range 3 {
		q.send(t, invocationRecord(t, "req-"+strconv.Itoa(i), delivery(t, "/app/gone", "ERROR thing "+strconv.Itoa(i)+" broke")))
	}
	target := redrive.NewLambda(lambda.NewFromConfig(e.cfg), "logalert-no-such-function")
	r := redrive.New(q.sqs, q.url, target, redrive.WithWait(0))
	sum, err := r.Run(t.Context(), redrive.Options{})
	require.ErrorIs(t, err, redrive.ErrTargetUnavailable)
	assert.ErrorContains(t, err, "ResourceNotFoundException")
	assert.Len(t, sum.Outcomes, 1, "stopped at the first message")
	visible, inFlight := q.depth(t)
	assert.Equal(t, 3, visible, "every message is released")
	assert.Equal(t, 0, inFlight)
}

func TestRedriveDryRunAndMax(t *testing.T) {
	e := newEnv(t)
	q := newDLQ(t, e)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	for i := range 5 {
		q.send(t, invocationRecord(t, "req-"+strconv.Itoa(i), delivery(t, "/app/dry", "ERROR thing "+strconv.Itoa(i)+" broke")))
	}
	r := redrive.New(q.sqs, q.url, redrive.Handler(p.Handle), redrive.WithWait(0))

	sum, err := r.Run(t.Context(), redrive.Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, 5, sum.WouldRedrive)
	assert.Empty(t, e.incidents(t), "a dry run processes nothing")
	visible, inFlight := q.depth(t)
	assert.Equal(t, 5, visible, "a dry run deletes nothing and leaves every message visible")
	assert.Equal(t, 0, inFlight)

	sum, err = r.Run(t.Context(), redrive.Options{Max: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Redriven)
	assert.Len(t, sum.Outcomes, 2)
	assert.Equal(t, int64(2), counts(e.incidents(t))["/app/dry ERROR thing <num> broke"])
	visible, inFlight = q.depth(t)
	assert.Equal(t, 3, visible, "the messages beyond --max are released")
	assert.Equal(t, 0, inFlight)

	sum, err = r.Run(t.Context(), redrive.Options{})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Redriven)
	assert.Equal(t, int64(5), counts(e.incidents(t))["/app/dry ERROR thing <num> broke"])
}

func TestRedriveMissingQueue(t *testing.T) {
	e := newEnv(t)
	r := redrive.New(sqs.NewFromConfig(e.cfg), "http://127.0.0.1:1/123456789012/nope", nil)
	_, err := r.Run(t.Context(), redrive.Options{DryRun: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read queue http://127.0.0.1:1/123456789012/nope")
}
