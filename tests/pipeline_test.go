package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/pipeline"
)

// eventSeq makes event ids unique across the whole test binary.
var eventSeq atomic.Int64

// delivery encodes one subscription delivery of msgs, a second apart.
func delivery(tb testing.TB, logGroup string, msgs ...string) events.CloudwatchLogsEvent {
	tb.Helper()
	return deliveryAt(tb, time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), logGroup, msgs...)
}

// deliveryAt is delivery with the first event at start.
func deliveryAt(tb testing.TB, start time.Time, logGroup string, msgs ...string) events.CloudwatchLogsEvent {
	tb.Helper()
	t0 := start.UnixMilli()
	p := &awslogs.Payload{
		MessageType: awslogs.MessageTypeData, Owner: "123456789012", LogGroup: logGroup,
		LogStream: "2026/11/25/[$LATEST]abc", SubscriptionFilters: []string{"logalert"},
	}
	for i, m := range msgs {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{
			ID: fmt.Sprintf("%056d", eventSeq.Add(1)), Timestamp: t0 + int64(i)*1000, Message: m,
		})
	}
	data, err := awslogs.Encode(p)
	require.NoError(tb, err)
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
}

// repeat returns n messages made by f(i).
func repeat(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// newProcessor builds a processor on its own SDK clients through endpoint.
func (e *env) newProcessor(tb testing.TB, endpoint, topic string, log *bytes.Buffer) *pipeline.Processor {
	tb.Helper()
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(tb, err)
	// HomeAccount as the template sets it: the deliveries' owner.
	cfg := pipeline.Config{Table: e.table, TopicARN: topic, Pattern: pattern, Limits: awslogs.DefaultLimits, HomeAccount: "123456789012"}
	var w syncWriter
	if log != nil {
		w.w = log
	} else {
		w.w = &bytes.Buffer{}
	}
	c := newConfig(tb, endpoint)
	return pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithLogger(slog.New(slog.NewJSONHandler(&w, nil))))
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// stored is an incident item as the table holds it.
type stored struct {
	occurrences           int64
	status, severity      string
	logGroup, sample      string
	firstSeen, lastSeen   string
	fingerprint, template string
}

// incidents reads every incident item of the table, keyed by sample
// template, straight from DynamoDB (a full scan: fine for a test table).
func (e *env) incidents(tb testing.TB) map[string]stored {
	tb.Helper()
	db := dynamodb.NewFromConfig(newConfig(tb, motoURL))
	out, err := db.Scan(tb.Context(), &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: aws.Bool(true)})
	require.NoError(tb, err)
	got := map[string]stored{}
	s := func(item map[string]types.AttributeValue, k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	for _, item := range out.Items {
		if _, ok := item["incident_id"]; !ok {
			continue // idempotency marker
		}
		n, err := strconv.ParseInt(item["occurrences"].(*types.AttributeValueMemberN).Value, 10, 64)
		require.NoError(tb, err)
		got[s(item, "log_group")+" "+s(item, "template")] = stored{
			occurrences: n, status: s(item, "status"), severity: s(item, "severity"), logGroup: s(item, "log_group"),
			sample: s(item, "sample_message"), firstSeen: s(item, "first_seen"), lastSeen: s(item, "last_seen"),
			fingerprint: s(item, "fingerprint"), template: s(item, "template"),
		}
	}
	return got
}

// counts reduces incidents to their occurrence counts.
func counts(in map[string]stored) map[string]int64 {
	out := map[string]int64{}
	for k, v := range in {
		out[k] = v.occurrences
	}
	return out
}

// mixedBatch has three incidents (5 ERROR, 3 FATAL, 2 CRITICAL) and four
// info lines, in /app/orders.
func mixedBatch(tb testing.TB) events.CloudwatchLogsEvent {
	var msgs []string
	msgs = append(msgs, repeat(5, func(i int) string {
		return fmt.Sprintf("2026-11-25T14:00:%02d.000Z ERROR order %d failed for \"user%d\" password=hunter%d", i, 100+i, i, i)
	})...)
	msgs = append(msgs, repeat(4, func(i int) string { return fmt.Sprintf("INFO served request %d in %dms", i, 10+i) })...)
	msgs = append(msgs, repeat(3, func(i int) string { return fmt.Sprintf("FATAL disk /dev/nvme%dn1 unreadable at sector %d", i, 4096*i) })...)
	msgs = append(msgs, repeat(2, func(i int) string { return fmt.Sprintf("CRITICAL pool exhausted (%d/50 in use) on 10.0.0.%d", 50, i+1) })...)
	return delivery(tb, "/app/orders", msgs...)
}

var mixedCounts = map[string]int64{
	`/app/orders <ts> ERROR order <num> failed for "<*>" password=<redacted>`: 5,
	`/app/orders FATAL disk /dev/<id> unreadable at sector <num>`:             3,
	`/app/orders CRITICAL pool exhausted (<num>/<num> in use) on <ip>`:        2,
}

func TestProcessorRecordsIncidents(t *testing.T) {
	e := newEnv(t)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))

	got := e.incidents(t)
	assert.Equal(t, mixedCounts, counts(got))
	orders := got[`/app/orders <ts> ERROR order <num> failed for "<*>" password=<redacted>`]
	assert.Equal(t, "OPEN", orders.status)
	assert.Equal(t, "ERROR", orders.severity)
	assert.Equal(t, "2026-11-25T14:00:00.000Z", orders.firstSeen)
	assert.Equal(t, "2026-11-25T14:00:04.000Z", orders.lastSeen)
	assert.Equal(t, `2026-11-25T14:00:04.000Z ERROR order 104 failed for "user4" password=<redacted>`, orders.sample)
	assert.NotContains(t, orders.sample, "hunter")
	assert.Len(t, orders.fingerprint, 16)
	assert.Equal(t, "FATAL", got[`/app/orders FATAL disk /dev/<id> unreadable at sector <num>`].severity)
	assert.Equal(t, "CRITICAL", got[`/app/orders CRITICAL pool exhausted (<num>/<num> in use) on <ip>`].severity)

	// One BatchGetItem and one TransactWriteItems for the whole delivery.
	assert.Equal(t, 1, e.proxy.Count("BatchGetItem"))
	assert.Equal(t, 1, e.proxy.Count("TransactWriteItems"))

	// The same error in another log group is another incident.
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/billing", "CRITICAL pool exhausted (50/50 in use) on 10.0.0.9")))
	got = e.incidents(t)
	assert.Len(t, got, 4)
	assert.Equal(t, int64(1), got[`/app/billing CRITICAL pool exhausted (<num>/<num> in use) on <ip>`].occurrences)
	assert.Equal(t, int64(2), got[`/app/orders CRITICAL pool exhausted (<num>/<num> in use) on <ip>`].occurrences)
}

func TestSequentialRedelivery(t *testing.T) {
	e := newEnv(t)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	ev := mixedBatch(t)
	for range 4 { // the delivery and three redeliveries
		require.NoError(t, p.Handle(t.Context(), ev))
	}
	assert.Equal(t, mixedCounts, counts(e.incidents(t)))

	// A new delivery with the same errors adds to the same incidents.
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	got := counts(e.incidents(t))
	for k, n := range mixedCounts {
		assert.Equal(t, 2*n, got[k], k)
	}
}

func TestConcurrentRedelivery(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	// Two processors with separate clients, as two Lambda instances.
	procs := []*pipeline.Processor{e.newProcessor(t, e.proxy.URL, "", nil), e.newProcessor(t, e.proxy.URL, "", nil)}
	deliveries := []events.CloudwatchLogsEvent{mixedBatch(t), mixedBatch(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			errs <- procs[i%2].Handle(t.Context(), deliveries[(i/2)%2])
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	got := counts(e.incidents(t))
	for k, n := range mixedCounts {
		assert.Equal(t, 2*n, got[k], k)
	}
}

// manyIncidents returns one delivery with n distinct incidents, incident i
// occurring i%3+1 times.
func manyIncidents(tb testing.TB, n int) (events.CloudwatchLogsEvent, map[string]int64) {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	var msgs []string
	want := map[string]int64{}
	for i := range n {
		name := words[i%10] + "_" + words[(i/10)%10] + "_" + words[(i/100)%10]
		for k := range i%3 + 1 {
			msgs = append(msgs, fmt.Sprintf("ERROR job %s failed attempt %d", name, k))
		}
		want["/app/jobs ERROR job "+name+" failed attempt <num>"] = int64(i%3 + 1)
	}
	return delivery(tb, "/app/jobs", msgs...), want
}

func TestPartialFailureThenRedelivery(t *testing.T) {
	e := newEnv(t)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	ev, want := manyIncidents(t, 60) // two transactions: 49 + 11 incidents
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "TransactWriteItems" && n >= 2 {
			return &awstest.Rejected
		}
		return nil
	})
	err := p.Handle(t.Context(), ev)
	require.Error(t, err, "the second transaction failed, so the delivery must fail")
	assert.Len(t, e.incidents(t), 49, "the first transaction committed")

	e.proxy.SetFaults(nil)
	require.NoError(t, p.Handle(t.Context(), ev)) // Lambda's retry
	require.NoError(t, p.Handle(t.Context(), ev)) // and one more for good measure
	assert.Equal(t, want, counts(e.incidents(t)))
}

func TestThrottledDynamoDBKeepsCountsExact(t *testing.T) {
	e := newEnv(t)
	e.proxy.SetFaults(e.proxy.Chance(0.3, awstest.Throttle, func(op string) bool {
		return op == "BatchGetItem" || op == "TransactWriteItems" || op == "BatchWriteItem"
	}))
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	want := map[string]int64{}
	for range 10 {
		ev := mixedBatch(t)
		require.NoError(t, p.Handle(t.Context(), ev))
		require.NoError(t, p.Handle(t.Context(), ev)) // and a redelivery
		for k, n := range mixedCounts {
			want[k] += n
		}
	}
	assert.Equal(t, want, counts(e.incidents(t)))
	assert.Greater(t, e.proxy.Injected(), 5, "the proxy must actually have throttled")
}

// DynamoDB reports a throttled item of a transaction as a cancellation
// reason, which the SDK does not retry: the store must.
func TestThrottledTransactionIsRetried(t *testing.T) {
	e := newEnv(t)
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "TransactWriteItems" && n <= 3 {
			return &awstest.TransactionThrottled
		}
		return nil
	})
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	assert.Equal(t, mixedCounts, counts(e.incidents(t)))
	assert.Equal(t, 4, e.proxy.Count("TransactWriteItems"), "three throttled attempts, then the one that landed")
}

func TestControlMessageIsIgnored(t *testing.T) {
	e := newEnv(t)
	var log bytes.Buffer
	p := e.newProcessor(t, e.proxy.URL, "", &log)
	data, err := awslogs.Encode(&awslogs.Payload{
		MessageType: awslogs.MessageTypeControl, Owner: "CloudwatchLogs", LogGroup: "", LogStream: "",
		LogEvents: []awslogs.LogEvent{{ID: "", Timestamp: 1764079200000, Message: "CWL CONTROL MESSAGE: Checking health of destination Lambda function."}},
	})
	require.NoError(t, err)
	require.NoError(t, p.Handle(t.Context(), events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}))
	assert.Empty(t, e.incidents(t))
	assert.Contains(t, log.String(), "control message ignored")
	assert.Zero(t, e.proxy.Count("TransactWriteItems"))
}

func TestProcessorPublishesEMFMetrics(t *testing.T) {
	e := newEnv(t)
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(t, err)
	var metrics bytes.Buffer
	cfg := pipeline.Config{Table: e.table, Pattern: pattern, Namespace: "LogAlert/test/Processor", Limits: awslogs.DefaultLimits}
	c := newConfig(t, e.proxy.URL)
	p := pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithMetrics(&metrics),
		pipeline.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))

	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	require.Error(t, p.Handle(t.Context(), events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "%%%"}}))

	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	require.Len(t, lines, 2, "one EMF record per invocation")
	var ok, bad map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &ok))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &bad))
	assert.Equal(t, 14.0, ok["EventsProcessed"])
	assert.Equal(t, 10.0, ok["EventsMatched"])
	assert.Equal(t, 3.0, ok["IncidentsOpened"])
	assert.Equal(t, 0.0, ok["BadPayloads"])
	assert.Greater(t, ok["DecompressedBytes"], 1000.0)
	assert.Equal(t, 1.0, bad["BadPayloads"])
	aws := ok["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, "LogAlert/test/Processor", aws["Namespace"])
}

func TestStormOfOneErrorAcrossConcurrentDeliveries(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true)
	const deliveries, perDelivery = 48, 3
	procs := make([]*pipeline.Processor, 4) // four Lambda instances
	for i := range procs {
		procs[i] = e.newProcessor(t, e.proxy.URL, "", nil)
	}
	evs := make([]events.CloudwatchLogsEvent, deliveries)
	for i := range evs {
		evs[i] = delivery(t, "/app/hot", repeat(perDelivery, func(k int) string {
			return fmt.Sprintf("ERROR upstream 10.0.0.%d refused connection (attempt %d)", i%250, k)
		})...)
	}
	var wg sync.WaitGroup
	errs := make([]error, deliveries)
	for i := range evs {
		wg.Go(func() { errs[i] = procs[i%len(procs)].Handle(t.Context(), evs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "delivery %d", i)
	}
	assert.Equal(t, map[string]int64{
		"/app/hot ERROR upstream <ip> refused connection (attempt <num>)": deliveries * perDelivery,
	}, counts(e.incidents(t)))
}
