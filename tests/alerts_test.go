package tests

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/pipeline"
)

// topicInbox creates an SNS topic with an SQS queue subscribed, so a test
// can read what was published.
type topicInbox struct {
	topicARN, queueURL string
	sqs                *sqs.Client
}

func newTopicInbox(tb testing.TB) *topicInbox {
	tb.Helper()
	cfg := newConfig(tb, motoURL)
	ctx := tb.Context()
	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	name := sanitize(tb.Name())
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts-" + name)})
	require.NoError(tb, err)
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox-" + name)})
	require.NoError(tb, err)
	_, err = snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:inbox-" + name),
	})
	require.NoError(tb, err)
	return &topicInbox{topicARN: *topic.TopicArn, queueURL: *q.QueueUrl, sqs: sqsc}
}

// notification is the SNS envelope SQS receives.
type notification struct {
	Subject, Message string
}

// drain returns every message published so far.
func (in *topicInbox) drain(tb testing.TB) []notification {
	tb.Helper()
	var out []notification
	for {
		res, err := in.sqs.ReceiveMessage(tb.Context(), &sqs.ReceiveMessageInput{QueueUrl: &in.queueURL, MaxNumberOfMessages: 10})
		require.NoError(tb, err)
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var n notification
			require.NoError(tb, json.Unmarshal([]byte(*m.Body), &n))
			out = append(out, n)
			_, err := in.sqs.DeleteMessage(tb.Context(), &sqs.DeleteMessageInput{QueueUrl: &in.queueURL, ReceiptHandle: m.ReceiptHandle})
			require.NoError(tb, err)
		}
	}
}

func subjects(ns []notification) []string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Subject)
	}
	return s
}

func TestAlertsOncePerOpenedIncident(t *testing.T) {
	e := newEnv(t)
	inbox := newTopicInbox(t)
	p := e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil)
	ev := mixedBatch(t)
	require.NoError(t, p.Handle(t.Context(), ev))
	got := inbox.drain(t)
	assert.ElementsMatch(t, []string{
		`[logalert] ERROR opened in /app/orders: <ts> ERROR order <num> failed for "<*>" password=<redacted>`,
		`[logalert] FATAL opened in /app/orders: FATAL disk /dev/<id> unreadable at sector <num>`,
		`[logalert] CRITICAL opened in /app/orders: CRITICAL pool exhausted (<num>/<num> in use) on <ip>`,
	}, subjects(got))
	for _, n := range got {
		assert.Contains(t, n.Message, "logalert incidents show inc-")
		assert.NotContains(t, n.Message, "hunter", "secrets never leave redacted")
	}

	// A redelivery and a new delivery of the same errors announce nothing.
	require.NoError(t, p.Handle(t.Context(), ev))
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	assert.Empty(t, inbox.drain(t))
}

// Concurrent redeliveries of one payload all see the pending alerts of the
// incidents it opened; each alert is claimed before it is published, so it
// goes out once.
func TestConcurrentRedeliveryAlertsOnce(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	e.proxy.SetLatency(20 * time.Millisecond)
	inbox := newTopicInbox(t)
	procs := []*pipeline.Processor{e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil), e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil)}
	ev := mixedBatch(t)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() { assert.NoError(t, procs[i%2].Handle(t.Context(), ev)) })
	}
	wg.Wait()
	assert.Len(t, subjects(inbox.drain(t)), 3, "one alert per opened incident, however many deliveries raced")
	assert.Equal(t, mixedCounts, counts(e.incidents(t)))
}

func TestAlertOnReopen(t *testing.T) {
	e := newEnv(t)
	inbox := newTopicInbox(t)
	p := e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil)
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/a", "ERROR cache miss storm on shard 7")))
	require.Len(t, inbox.drain(t), 1)

	resolveAll(t, e)
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/a", "ERROR cache miss storm on shard 9")))
	got := inbox.drain(t)
	require.Len(t, got, 1)
	assert.Equal(t, "[logalert] ERROR reopened in /app/a: ERROR cache miss storm on shard <num>", got[0].Subject)
	inc := e.incidents(t)["/app/a ERROR cache miss storm on shard <num>"]
	assert.Equal(t, "OPEN", inc.status)
	assert.Equal(t, int64(2), inc.occurrences)
}

// resolveAll marks every incident RESOLVED the way a writer must: with the
// version bumped under a condition.
func resolveAll(tb testing.TB, e *env) {
	tb.Helper()
	db := dynamodb.NewFromConfig(newConfig(tb, motoURL))
	out, err := db.Scan(tb.Context(), &dynamodb.ScanInput{TableName: &e.table})
	require.NoError(tb, err)
	for _, item := range out.Items {
		if _, ok := item["incident_id"]; !ok {
			continue
		}
		_, err := db.UpdateItem(tb.Context(), &dynamodb.UpdateItemInput{
			TableName: &e.table, Key: map[string]types.AttributeValue{"pk": item["pk"]},
			UpdateExpression:          aws.String("SET #s = :r, #v = #v + :one"),
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#s": "status", "#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberS{Value: "RESOLVED"}, ":one": &types.AttributeValueMemberN{Value: "1"}, ":v": item["version"]},
		})
		require.NoError(tb, err)
	}
}

func TestFailedAlertIsRetriedNotLost(t *testing.T) {
	e := newEnv(t)
	inbox := newTopicInbox(t)
	p := e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil)
	e.proxy.SetFaults(func(op string, _ int) *awstest.Fault {
		if op == "Publish" {
			return &awstest.Fault{Status: 403, Type: "AuthorizationError"}
		}
		return nil
	})
	ev := mixedBatch(t)
	require.Error(t, p.Handle(t.Context(), ev), "an alert that could not be published fails the delivery")
	assert.Empty(t, inbox.drain(t))
	assert.Equal(t, mixedCounts, counts(e.incidents(t)), "the incidents are recorded all the same")

	e.proxy.SetFaults(nil)
	require.NoError(t, p.Handle(t.Context(), ev)) // Lambda's retry
	assert.Len(t, inbox.drain(t), 3, "the retry publishes the pending alerts")
	require.NoError(t, p.Handle(t.Context(), ev))
	assert.Empty(t, inbox.drain(t), "and clears them")
	assert.Equal(t, mixedCounts, counts(e.incidents(t)))
}
