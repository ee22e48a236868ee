package tests

import (
	"context"
	"encoding/json"
	"strings"
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

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/store"
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
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(awstest.Name(tb, "alerts"))})
	require.NoError(tb, err)
	queue := awstest.Name(tb, "inbox")
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
	require.NoError(tb, err)
	_, err = snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:" + queue),
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

// A claim that fails part-way releases the claims it took, so the retry
// (here two at once) publishes every alert, once.
func TestAlertClaimFailureLosesNothing(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true)
	inbox := newTopicInbox(t)
	procs := []*pipeline.Processor{e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil), e.newProcessor(t, e.proxy.URL, inbox.topicARN, nil)}
	ev := mixedBatch(t)

	// 1. Publishing fails: the three alerts the delivery created (claimed
	// with their markers) are released (UpdateItem 1-3) and stay pending.
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "Publish" {
			return &awstest.Rejected
		}
		return nil
	})
	require.Error(t, procs[0].Handle(t.Context(), ev))
	// 2. The redelivery claims the pending alerts (UpdateItem 4-6); the
	// second claim fails, so the first is released and nothing published.
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "UpdateItem" && n == 5 {
			return &awstest.Rejected
		}
		return nil
	})
	require.Error(t, procs[0].Handle(t.Context(), ev))
	assert.Empty(t, subjects(inbox.drain(t)), "nothing published yet")

	// 3. Two redeliveries at once publish each alert once.
	e.proxy.SetFaults(nil)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { assert.NoError(t, procs[i].Handle(t.Context(), ev)) })
	}
	wg.Wait()
	assert.Len(t, subjects(inbox.drain(t)), 3)
}

// A delivery that finds its alerts held by another waits: an alert the
// holder clears is done, an alert whose lease runs out (the holder died) is
// taken over and published.
func TestHeldAlertsAreWaitedForOrTakenOver(t *testing.T) {
	e := newEnv(t)
	inbox := newTopicInbox(t)
	ev := mixedBatch(t)
	p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
	require.NoError(t, err)
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(t, err)

	// The holder records the delivery (its alerts are born claimed, for
	// 500 ms), publishes and clears one while the processor waits on them,
	// and dies. The processor goes through a proxy of its own, which shows
	// where it is: the holder records just before the processor's first
	// request, so that the processor finds all three alerts held however
	// slow the machine, and clears one when the processor comes back for
	// them after a wait (its claim after the first three, one per alert),
	// before that claim reaches DynamoDB.
	holder := e.newStore(t, e.proxy.URL, store.WithAlertLease(500*time.Millisecond))
	var (
		recorded, cleared sync.Once
		res               store.Result
		recordErr         error
		holderErr         error
		start             time.Time // when the holder's lease began
	)
	proxy, err := awstest.NewProxy(motoURL)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	proxy.SetFaults(func(op string, n int) *awstest.Fault {
		recorded.Do(func() {
			res, recordErr = holder.Record(context.Background(), incident.DeliveryID(p), incident.Group(p, pattern).Deltas)
			start = time.Now()
		})
		if op == "UpdateItem" && n > len(res.Alerts) {
			cleared.Do(func() {
				_, holderErr = holder.Announce(context.Background(), res.Alerts[:1], func(context.Context, incident.Incident, incident.Change) error { return nil })
			})
		}
		return nil
	})

	require.NoError(t, e.newProcessor(t, proxy.URL, inbox.topicARN, nil).Handle(t.Context(), ev))
	recorded.Do(func() { t.Fatal("the processor sent no request") })
	took := time.Since(start)
	require.NoError(t, recordErr)
	require.Len(t, res.Alerts, 3)
	require.NoError(t, holderErr)
	assert.Greater(t, proxy.Count("UpdateItem"), 3, "the processor found its alerts held and claimed again")
	var want []string
	for _, a := range res.Alerts[1:] {
		want = append(want, a.Incident.ID)
	}
	msgs := inbox.drain(t)
	assert.Len(t, msgs, 2)
	var got []string
	for _, n := range msgs {
		for _, id := range want {
			if strings.Contains(n.Message, id) {
				got = append(got, id)
			}
		}
	}
	assert.ElementsMatch(t, want, got, "the two alerts the holder left are taken over, the cleared one is not sent again")
	assert.Less(t, took, 5*time.Second, "no wait much past the lease")
	t.Logf("the processor was done %s after the holder took its lease", took.Round(time.Millisecond))
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
