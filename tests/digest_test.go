package tests

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/pipeline"
)

// scheduledEvent is what the processor's EventBridge schedule sends.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-11-25T14:05:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/logalert-FlushDigests"],"detail":{}}`

// testClock is a clock the test moves, in nanoseconds since the epoch.
type testClock struct{ atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.Add(int64(d)) }

// groupingProcessor is a processor with alert grouping (5 alerts alone
// per log group per 5 minutes, as the template's defaults) on clk.
func (e *env) groupingProcessor(tb testing.TB, topic string, clk *testClock) *pipeline.Processor {
	tb.Helper()
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(tb, err)
	cfg := pipeline.Config{Table: e.table, TopicARN: topic, Pattern: pattern, Limits: awslogs.DefaultLimits,
		Stack: "logalert", AlertBurst: 5, AlertWindow: 5 * time.Minute}
	c := newConfig(tb, e.proxy.URL)
	return pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithClock(clk.Now))
}

// A bad deploy starts 200 new kinds of error in one delivery: through the
// processor, 5 alerts go out at once, and the schedule's first tick after
// the window publishes one digest of the other 195. Redeliveries and later
// ticks publish nothing more.
func TestStormOfNewIncidentsSendsSinglesThenADigest(t *testing.T) {
	e := newEnv(t)
	inbox := newTopicInbox(t)
	clk := newTestClock(time.Date(2026, 11, 25, 14, 0, 30, 0, time.UTC))
	p := e.groupingProcessor(t, inbox.topicARN, clk)
	ev, want := manyIncidents(t, 200)
	require.Len(t, want, 200)

	require.NoError(t, p.Handle(t.Context(), ev))
	singles := inbox.drain(t)
	require.Len(t, singles, 5, "the burst: %v", subjects(singles))
	for _, n := range singles {
		assert.True(t, strings.HasPrefix(n.Subject, "[logalert] ERROR opened in /app/jobs: "), n.Subject)
	}

	tick := func() {
		t.Helper()
		out, err := p.Invoke(t.Context(), json.RawMessage(scheduledEvent))
		require.NoError(t, err)
		assert.Nil(t, out)
	}
	tick()
	assert.Empty(t, inbox.drain(t), "the window has not ended")

	require.NoError(t, p.Handle(t.Context(), ev), "a redelivery")
	clk.Advance(5 * time.Minute)
	tick()
	digests := inbox.drain(t)
	require.Len(t, digests, 1, "one digest: %v", subjects(digests))
	d := digests[0]
	assert.Equal(t, "[logalert] digest: 195 more incidents opened in /app/jobs", d.Subject)
	assert.Contains(t, d.Message, "Incidents:    195 (195 opened, 0 reopened)\n")
	assert.Contains(t, d.Message, "Window:       2026-11-25T14:00:00Z to 2026-11-25T14:05:00Z\n")
	assert.Contains(t, d.Message, "logalert incidents list --log-group '/app/jobs' --since ")
	assert.Contains(t, d.Message, " --limit 0 --stack logalert --region us-east-1\n")
	assert.Contains(t, d.Message, "... and 185 more\n")

	// Every incident once: 5 alone, the rest listed in the digest (its
	// top 10 by name here; the count for the rest).
	for _, n := range singles {
		assert.NotContains(t, d.Message, strings.TrimPrefix(n.Subject, "[logalert] ERROR opened in /app/jobs: "), "announced alone, not again in the digest")
	}

	require.NoError(t, p.Handle(t.Context(), ev), "a late redelivery")
	clk.Advance(5 * time.Minute)
	tick()
	assert.Empty(t, inbox.drain(t), "nothing is announced twice")
}

// The same storm spread over 40 deliveries of 5 new incidents each, 8 at a
// time, every delivery also redelivered: still 5 singles and one digest
// of 195; the next window starts a fresh burst.
func TestStormOverManyDeliveriesThroughTheProcessor(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	inbox := newTopicInbox(t)
	clk := newTestClock(time.Date(2026, 11, 25, 14, 0, 30, 0, time.UTC))
	p := e.groupingProcessor(t, inbox.topicARN, clk)
	kind := func(i int) string { return fmt.Sprintf("ERROR job %s failed", strings.Repeat("x", i+1)) }
	var wg sync.WaitGroup
	errs := make([]error, 80)
	for batch := range 5 {
		for j := range 8 {
			i := 8*batch + j
			ev := delivery(t, "/app/jobs", repeat(5, func(k int) string { return kind(5*i + k) })...)
			wg.Add(2)
			go func() { defer wg.Done(); errs[2*i] = p.Handle(t.Context(), ev) }()
			go func() { defer wg.Done(); errs[2*i+1] = p.Handle(t.Context(), ev) }()
		}
		wg.Wait()
	}
	for i, err := range errs {
		require.NoError(t, err, "delivery %d", i/2)
	}
	require.Len(t, inbox.drain(t), 5, "the burst")
	clk.Advance(5 * time.Minute)
	_, err := p.Invoke(t.Context(), json.RawMessage(scheduledEvent))
	require.NoError(t, err)
	digests := inbox.drain(t)
	require.Len(t, digests, 1)
	assert.Equal(t, "[logalert] digest: 195 more incidents opened in /app/jobs", digests[0].Subject)

	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/jobs", repeat(7, func(k int) string { return kind(200 + k) })...)))
	assert.Len(t, inbox.drain(t), 5, "a fresh burst in the new window")
	clk.Advance(5 * time.Minute)
	_, err = p.Invoke(t.Context(), json.RawMessage(scheduledEvent))
	require.NoError(t, err)
	digests = inbox.drain(t)
	require.Len(t, digests, 1)
	assert.Equal(t, "[logalert] digest: 2 more incidents opened in /app/jobs", digests[0].Subject)
}

// TestDemoStormSendsADigest: in the local twin, 12 new kinds of error in
// the app group mail 5 alerts at once and, after the 5-minute window (of
// the twin's compressed clock), one digest of the other 7: Run does not
// settle while the digest is due.
func TestDemoStormSendsADigest(t *testing.T) {
	ctx := t.Context()
	tw, outbox := quietTwin(t, newConfig(t, motoURL), awstest.Name(t, "digest"))
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"}
	lines := make([]string, len(words))
	for i, w := range words {
		lines[i] = "ERROR storm job " + w + " failed"
	}
	require.NoError(t, tw.Writer("storm").WriteLines(ctx, lines))
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	group := tw.Deployment().LogGroup
	var singles, digests []string
	for _, m := range res.Emails {
		switch {
		case strings.HasPrefix(m.Subject, "[logalert] ERROR opened in "+group+": ERROR storm job "):
			singles = append(singles, m.Subject)
		case strings.HasPrefix(m.Subject, "[logalert] digest: "):
			digests = append(digests, m.Subject)
		}
	}
	assert.Len(t, singles, 5, "the burst")
	assert.Equal(t, []string{"[logalert] digest: 7 more incidents opened in " + group}, digests)
	files, err := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
	require.NoError(t, err)
	found := false
	for _, f := range files {
		if m := readMail(t, f); strings.HasPrefix(m.subject, "[logalert] digest: ") {
			found = true
			assert.Contains(t, m.body, "Incidents:    7 (7 opened, 0 reopened)")
		}
	}
	assert.True(t, found, "the digest is in the outbox")
}
