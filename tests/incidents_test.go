package tests

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/store"
)

// newStore returns a store on e's table with its own clients through
// endpoint, as one person's CLI.
func (e *env) newStore(tb testing.TB, endpoint string, opts ...store.Option) *store.Store {
	tb.Helper()
	return store.New(dynamodb.NewFromConfig(newConfig(tb, endpoint)), e.table, opts...)
}

// idOf is the ID of the incident in e's table with this log group and
// template (as e.incidents keys them).
func idOf(tb testing.TB, st *store.Store, key string) string {
	tb.Helper()
	all, err := st.List(tb.Context(), store.Filter{})
	require.NoError(tb, err)
	for _, in := range all {
		if in.LogGroup+" "+in.Template == key {
			return in.ID
		}
	}
	tb.Fatalf("no incident %q", key)
	return ""
}

func ids(ins []incident.Incident) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.LogGroup + " " + in.Template
	}
	return out
}

const (
	ordersError    = `/app/orders <ts> ERROR order <num> failed for "<*>" password=<redacted>`
	ordersFatal    = `/app/orders FATAL disk /dev/<id> unreadable at sector <num>`
	ordersCritical = `/app/orders CRITICAL pool exhausted (<num>/<num> in use) on <ip>`
	billingError   = `/app/billing ERROR invoice <num> not sent`
)

// seedIncidents records mixedBatch (last seen 14:00:13 for CRITICAL,
// 14:00:11 for FATAL, 14:00:04 for ERROR) and one billing incident (last
// seen 14:00:01), then acknowledges FATAL and resolves CRITICAL.
func seedIncidents(tb testing.TB, e *env, st *store.Store) {
	tb.Helper()
	p := e.newProcessor(tb, motoURL, "", nil)
	require.NoError(tb, p.Handle(tb.Context(), mixedBatch(tb)))
	require.NoError(tb, p.Handle(tb.Context(), delivery(tb, "/app/billing", "INFO start", "ERROR invoice 77 not sent")))
	_, err := st.Acknowledge(tb.Context(), idOf(tb, st, ordersFatal), "alice")
	require.NoError(tb, err)
	_, err = st.Resolve(tb.Context(), idOf(tb, st, ordersCritical), "bob")
	require.NoError(tb, err)
}

func TestListQueriesTheStatusIndex(t *testing.T) {
	e := newEnv(t)
	st := e.newStore(t, e.proxy.URL)
	seedIncidents(t, e, st)
	e.proxy.ResetCounts()

	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		filter   store.Filter
		want     []string
		statuses int // statuses queried, each in store.StatusShards shards
	}{
		{"every status, newest first", store.Filter{}, []string{ordersCritical, ordersFatal, ordersError, billingError}, 3},
		{"open", store.Filter{Status: incident.StatusOpen}, []string{ordersError, billingError}, 1},
		{"acknowledged", store.Filter{Status: incident.StatusAcknowledged}, []string{ordersFatal}, 1},
		{"resolved", store.Filter{Status: incident.StatusResolved}, []string{ordersCritical}, 1},
		{"log group", store.Filter{LogGroup: "/app/billing"}, []string{billingError}, 3},
		{"since", store.Filter{Since: t0.Add(5 * time.Second)}, []string{ordersCritical, ordersFatal}, 3},
		{"since, open", store.Filter{Status: incident.StatusOpen, Since: t0.Add(2 * time.Second)}, []string{ordersError}, 1},
		{"limit", store.Filter{Limit: 2}, []string{ordersCritical, ordersFatal}, 3},
		{"nothing", store.Filter{LogGroup: "/app/none"}, []string{}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.proxy.ResetCounts()
			got, err := st.List(t.Context(), tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids(got))
			assert.Equal(t, tc.statuses*store.StatusShards, e.proxy.Count("Query"), "one query of the status index per shard of each status")
			assert.Equal(t, min(len(tc.want), 1), e.proxy.Count("BatchGetItem"), "the listed incidents read by key in one request")
			assert.Zero(t, e.proxy.Count("Scan"), "never a scan")
		})
	}

	_, err := st.List(t.Context(), store.Filter{Status: "CLOSED"})
	assert.ErrorContains(t, err, `unknown status "CLOSED"`)
}

func TestListFollowsPages(t *testing.T) {
	e := newEnv(t)
	p := e.newProcessor(t, motoURL, "", nil)
	var msgs []string
	for i := range 23 {
		msgs = append(msgs, fmt.Sprintf("ERROR kind%c failed", 'a'+i)) // 23 templates, one a second
	}
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/pages", msgs...)))

	// Pages of one item: every item of every shard is a page of its own.
	st := e.newStore(t, e.proxy.URL, store.WithPageSize(1))
	e.proxy.ResetCounts()
	got, err := st.List(t.Context(), store.Filter{Status: incident.StatusOpen})
	require.NoError(t, err)
	require.Len(t, got, 23)
	for i := 1; i < len(got); i++ {
		assert.True(t, got[i-1].LastSeen.After(got[i].LastSeen), "newest first across pages and shards")
	}
	assert.GreaterOrEqual(t, e.proxy.Count("Query"), 23, "23 items in pages of 1")

	e.proxy.ResetCounts()
	limited, err := st.List(t.Context(), store.Filter{Status: incident.StatusOpen, Limit: 7})
	require.NoError(t, err)
	assert.Equal(t, ids(got[:7]), ids(limited), "the 7 most recent of all shards")

	e.proxy.ResetCounts()
	one, err := st.List(t.Context(), store.Filter{Status: incident.StatusOpen, Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, ids(got[:1]), ids(one))
	assert.Equal(t, store.StatusShards, e.proxy.Count("Query"), "a limit stops reading pages: one page of each shard")
}

func TestGetAndFind(t *testing.T) {
	e := newEnv(t)
	st := e.newStore(t, e.proxy.URL)
	seedIncidents(t, e, st)
	id := idOf(t, st, ordersError)

	in, err := st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(5), in.Occurrences)
	assert.Equal(t, "/app/orders", in.LogGroup)

	_, err = st.Get(t.Context(), "inc-000000000000000000000000")
	assert.ErrorIs(t, err, store.ErrNotFound)

	for _, ref := range []string{id, id[:12], id[4:12]} {
		in, err := st.Find(t.Context(), ref)
		require.NoError(t, err, ref)
		assert.Equal(t, id, in.ID)
	}
	_, err = st.Find(t.Context(), "inc-")
	assert.ErrorIs(t, err, store.ErrAmbiguous)
	_, err = st.Find(t.Context(), "inc-zzz")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Find(t.Context(), "marker#")
	assert.ErrorIs(t, err, store.ErrNotFound, "markers are not incidents")
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	st := e.newStore(t, e.proxy.URL)
	seedIncidents(t, e, st)
	e.proxy.ResetCounts()

	s, err := st.Stats(t.Context(), store.Filter{})
	require.NoError(t, err)
	assert.Equal(t, store.Stats{
		Total: store.Tally{Incidents: 4, Occurrences: 11},
		ByStatus: map[incident.Status]store.Tally{
			incident.StatusOpen: {Incidents: 2, Occurrences: 6}, incident.StatusAcknowledged: {Incidents: 1, Occurrences: 3},
			incident.StatusResolved: {Incidents: 1, Occurrences: 2},
		},
		BySeverity: map[incident.Severity]store.Tally{
			incident.SeverityError: {Incidents: 2, Occurrences: 6}, incident.SeverityFatal: {Incidents: 1, Occurrences: 3},
			incident.SeverityCritical: {Incidents: 1, Occurrences: 2},
		},
		ByLogGroup: map[string]store.Tally{"/app/orders": {Incidents: 3, Occurrences: 10}, "/app/billing": {Incidents: 1, Occurrences: 1}},
	}, s)
	assert.Equal(t, 3*store.StatusShards, e.proxy.Count("Query"), "one query per shard of each status")
	assert.Zero(t, e.proxy.Count("BatchGetItem"), "stats reads the index only")
	assert.Zero(t, e.proxy.Count("Scan"))

	s, err = st.Stats(t.Context(), store.Filter{Status: incident.StatusOpen, LogGroup: "/app/orders"})
	require.NoError(t, err)
	assert.Equal(t, store.Tally{Incidents: 1, Occurrences: 5}, s.Total)
}

func TestAcknowledgeAndResolve(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	st := e.newStore(t, e.proxy.URL, store.WithClock(func() time.Time { return now }))
	p := e.newProcessor(t, motoURL, "", nil)
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	id := idOf(t, st, ordersError)

	acked, err := st.Acknowledge(t.Context(), id, "alice")
	require.NoError(t, err)
	assert.Equal(t, incident.StatusAcknowledged, acked.Status)
	assert.Equal(t, int64(2), acked.Version)
	stored, err := st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, acked, stored, "what Acknowledge returns is what it wrote")
	assert.Equal(t, "alice", stored.AcknowledgedBy)
	assert.Equal(t, now, stored.AcknowledgedAt)

	_, err = st.Acknowledge(t.Context(), id, "bob")
	require.ErrorIs(t, err, incident.ErrTransition)
	assert.ErrorContains(t, err, "it is ACKNOWLEDGED (acknowledged by alice at 2026-11-25T15:00:00Z)")

	// New occurrences keep the acknowledgement.
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	stored, err = st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusAcknowledged, stored.Status)
	assert.Equal(t, int64(10), stored.Occurrences)
	assert.Equal(t, "alice", stored.AcknowledgedBy)

	resolved, err := st.Resolve(t.Context(), id, "bob")
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, resolved.Status)
	assert.Equal(t, int64(4), resolved.Version)
	_, err = st.Resolve(t.Context(), id, "carol")
	require.ErrorIs(t, err, incident.ErrTransition)
	assert.ErrorContains(t, err, "cannot resolve incident "+id+": it is RESOLVED (resolved by bob at 2026-11-25T15:00:00Z)")
	_, err = st.Acknowledge(t.Context(), id, "carol")
	require.ErrorIs(t, err, incident.ErrTransition)

	// More of the errors it resolved (events from before 15:00, say a late
	// redrive) are counted but do not reopen it.
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))
	stored, err = st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, stored.Status)
	assert.Equal(t, int64(0), stored.ReopenCount)
	assert.Equal(t, int64(15), stored.Occurrences)

	// The next occurrence after the resolve reopens it.
	require.NoError(t, p.Handle(t.Context(), deliveryAt(t, now.Add(time.Minute), "/app/orders",
		`2026-11-25T15:01:00.000Z ERROR order 999 failed for "user9" password=hunter9`)))
	stored, err = st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusOpen, stored.Status)
	assert.Equal(t, int64(1), stored.ReopenCount)
	assert.Equal(t, int64(16), stored.Occurrences)

	_, err = st.Acknowledge(t.Context(), "inc-000000000000000000000000", "alice")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// TestConcurrentAckAndResolve has two people, each with their own clients,
// act on the same incident at the same moment, many times over. Every
// write is conditioned on the version read, so one of them loses the race,
// reads again and either goes ahead (resolve after ack) or is refused (ack
// after resolve, ack after ack): never a lost update.
func TestConcurrentAckAndResolve(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	e.proxy.SetLatency(5 * time.Millisecond)
	alice := e.newStore(t, e.proxy.URL)
	bob := e.newStore(t, e.proxy.URL)
	p := e.newProcessor(t, e.proxy.URL, "", nil)

	type act func(*store.Store, context.Context, string, string) (incident.Incident, error)
	rounds := []struct {
		name     string
		a, b     act
		outcomes map[string]bool // allowed "a-ok/b-refused" combinations
	}{
		{"ack and resolve", (*store.Store).Acknowledge, (*store.Store).Resolve, map[string]bool{"ok ok": true, "refused ok": true}},
		{"ack and ack", (*store.Store).Acknowledge, (*store.Store).Acknowledge, map[string]bool{"ok refused": true, "refused ok": true}},
		{"resolve and resolve", (*store.Store).Resolve, (*store.Store).Resolve, map[string]bool{"ok refused": true, "refused ok": true}},
	}
	var writes int
	for _, round := range rounds {
		t.Run(round.name, func(t *testing.T) {
			for i := range 6 {
				require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/race", fmt.Sprintf("ERROR race %c%c lost", 'a'+len(round.name), 'a'+i))))
				id := func() string {
					all, err := alice.List(t.Context(), store.Filter{LogGroup: "/app/race", Status: incident.StatusOpen})
					require.NoError(t, err)
					require.NotEmpty(t, all)
					return all[0].ID
				}()
				before, err := alice.Get(t.Context(), id)
				require.NoError(t, err)

				start := make(chan struct{})
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for k, who := range []struct {
					st   *store.Store
					name string
					do   act
				}{{alice, "alice", round.a}, {bob, "bob", round.b}} {
					wg.Go(func() {
						<-start
						_, errs[k] = who.do(who.st, t.Context(), id, who.name)
					})
				}
				close(start)
				wg.Wait()

				outcome := func(err error) string {
					if err == nil {
						return "ok"
					}
					require.ErrorIs(t, err, incident.ErrTransition)
					return "refused"
				}
				got := outcome(errs[0]) + " " + outcome(errs[1])
				assert.True(t, round.outcomes[got], "outcome %q", got)

				after, err := alice.Get(t.Context(), id)
				require.NoError(t, err)
				succeeded := 0
				for _, err := range errs {
					if err == nil {
						succeeded++
					}
				}
				writes += succeeded
				assert.Equal(t, before.Version+int64(succeeded), after.Version, "one version per successful write: none lost")
				assert.Equal(t, before.Occurrences, after.Occurrences)
				if round.name == "ack and resolve" {
					assert.Equal(t, incident.StatusResolved, after.Status, "resolve always wins through: after ack, or before it")
					assert.Equal(t, "bob", after.ResolvedBy)
					if errs[0] == nil {
						assert.Equal(t, "alice", after.AcknowledgedBy, "the acknowledgement is kept, not overwritten")
					} else {
						assert.Empty(t, after.AcknowledgedBy)
					}
				}
			}
		})
	}
	assert.Greater(t, e.proxy.Count("UpdateItem"), writes, "some writes lost the race and were retried")
}

// TestAckRacesTheProcessor acknowledges and resolves an incident while the
// processor keeps counting new occurrences of it: the counts stay exact
// and the acknowledgement and resolution are both kept.
func TestAckRacesTheProcessor(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true)
	st := e.newStore(t, e.proxy.URL)
	procs := []*pipeline.Processor{e.newProcessor(t, e.proxy.URL, "", nil), e.newProcessor(t, e.proxy.URL, "", nil)}
	msg := func(i int) string { return fmt.Sprintf("ERROR queue depth %d over limit", i) }
	require.NoError(t, procs[0].Handle(t.Context(), delivery(t, "/app/busy", msg(0))))
	id := idOf(t, st, "/app/busy ERROR queue depth <num> over limit")

	// Deliveries from..to-1 in two processors, and a person acting
	// meanwhile: started is closed once the first of them is counted, so
	// that the person acts while the others are under way.
	deliver := func(from, to int, started chan<- struct{}) {
		var first sync.Once
		var wg sync.WaitGroup
		for k, p := range procs {
			wg.Go(func() {
				for i := from + k; i < to; i += len(procs) {
					assert.NoError(t, p.Handle(t.Context(), delivery(t, "/app/busy", msg(i), msg(i))))
					first.Do(func() { close(started) })
				}
			})
		}
		wg.Wait()
	}
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Go(func() { deliver(1, 11, started) })
	wg.Go(func() {
		<-started
		_, err := st.Acknowledge(t.Context(), id, "alice")
		assert.NoError(t, err)
	})
	wg.Wait()
	in, err := st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(1+2*10), in.Occurrences)
	assert.Equal(t, incident.StatusAcknowledged, in.Status)
	assert.Equal(t, "alice", in.AcknowledgedBy)
	assert.Equal(t, int64(1+10+1), in.Version, "one version per delivery, one for the ack")

	started = make(chan struct{})
	wg.Go(func() { deliver(11, 21, started) })
	wg.Go(func() {
		<-started
		_, err := st.Resolve(t.Context(), id, "bob")
		assert.NoError(t, err)
	})
	wg.Wait()
	in, err = st.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(1+2*20), in.Occurrences)
	assert.Equal(t, "bob", in.ResolvedBy)
	assert.Equal(t, int64(1+20+2), in.Version)
	if in.Status == incident.StatusOpen {
		assert.Equal(t, int64(1), in.ReopenCount, "deliveries after the resolution reopened it")
	} else {
		assert.Equal(t, incident.StatusResolved, in.Status)
	}
}

func TestWatch(t *testing.T) {
	e := newEnv(t)
	st := e.newStore(t, e.proxy.URL)
	p := e.newProcessor(t, motoURL, "", nil)
	require.NoError(t, p.Handle(t.Context(), mixedBatch(t)))

	ctx, cancel := context.WithCancel(t.Context())
	batches := make(chan []string, 10)
	done := make(chan error, 1)
	go func() {
		done <- st.Watch(ctx, store.Filter{}, 50*time.Millisecond, func(ins []incident.Incident) error {
			batch := ids(ins)
			for i, in := range ins {
				batch[i] += " " + string(in.Status)
			}
			batches <- batch
			return nil
		})
	}()
	next := func() []string {
		t.Helper()
		select {
		case b := <-batches:
			return b
		case err := <-done:
			t.Fatalf("watch stopped: %v", err)
			return nil
		case <-time.After(10 * time.Second):
			t.Fatal("no batch")
			return nil
		}
	}
	assert.Equal(t, []string{ordersCritical + " OPEN", ordersFatal + " OPEN", ordersError + " OPEN"}, next(), "first the list")

	_, err := st.Acknowledge(t.Context(), idOf(t, st, ordersFatal), "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{ordersFatal + " ACKNOWLEDGED"}, next())

	require.NoError(t, p.Handle(t.Context(), delivery(t, "/app/billing", "ERROR invoice 77 not sent")))
	assert.Equal(t, []string{billingError + " OPEN"}, next())

	// The next batch holds the next change alone: the ones before were
	// reported once.
	_, err = st.Acknowledge(t.Context(), idOf(t, st, ordersError), "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{ordersError + " ACKNOWLEDGED"}, next(), "a change is reported once")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}
