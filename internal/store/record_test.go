package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/incident"
)

// occurrences reads every incident of deltas and returns its occurrences.
func occurrences(t *testing.T, st *Store, deltas []incident.Delta) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	for _, d := range deltas {
		in, err := st.Get(t.Context(), d.ID)
		if err == nil {
			got[d.ID] = in.Occurrences
		} else {
			require.ErrorIs(t, err, ErrNotFound)
		}
	}
	return got
}

func TestRecordOpensThenUpdates(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	deltas := threeDeltas()

	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Opened)
	assert.Zero(t, res.Duplicates)
	require.Len(t, res.Alerts, 3)
	for i, a := range res.Alerts {
		assert.Equal(t, incident.Opened, a.Change)
		assert.Equal(t, deltas[i].ID, a.Incident.ID)
	}
	assert.Equal(t, 1, e.proxy.Count("BatchGetItem"), "one read for the delivery")
	assert.Equal(t, 1, e.proxy.Count("TransactWriteItems"), "one write for the delivery")

	// A new delivery of the first incident: earlier and later events, a
	// higher severity.
	clk.Advance(time.Minute)
	d := deltas[0]
	d.Count, d.Severity = 4, incident.SeverityCritical
	d.FirstSeen, d.LastSeen, d.Sample = d.FirstSeen.Add(-time.Hour), d.LastSeen.Add(time.Hour), "the latest"
	res, err = st.Record(t.Context(), "delivery-2", []incident.Delta{d})
	require.NoError(t, err)
	assert.Zero(t, res.Opened)
	assert.Empty(t, res.Alerts, "an update owes no alert")

	in, err := st.Get(t.Context(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(9), in.Occurrences)
	assert.Equal(t, d.FirstSeen, in.FirstSeen, "first_seen is the min of event time")
	assert.Equal(t, d.LastSeen, in.LastSeen, "last_seen is the max of event time")
	assert.Equal(t, incident.SeverityCritical, in.Severity)
	assert.Equal(t, "the latest", in.SampleMessage)
	assert.Equal(t, int64(2), in.Version)
	assert.Equal(t, clk.Now(), in.UpdatedAt)

	// An older, lower one lowers nothing.
	d2 := deltas[0]
	d2.Count, d2.Severity, d2.Sample = 1, incident.SeverityWarn, "older"
	_, err = st.Record(t.Context(), "delivery-3", []incident.Delta{d2})
	require.NoError(t, err)
	in, err = st.Get(t.Context(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(10), in.Occurrences)
	assert.Equal(t, incident.SeverityCritical, in.Severity, "severity is never lowered")
	assert.Equal(t, "the latest", in.SampleMessage, "the sample follows the latest event")
}

func TestRecordRedeliveryChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	deltas := threeDeltas()
	_, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	want := occurrences(t, st, deltas)

	e.proxy.ResetCounts()
	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Duplicates)
	assert.Zero(t, res.Opened)
	assert.Equal(t, want, occurrences(t, st, deltas))
	assert.Zero(t, e.proxy.Count("TransactWriteItems"), "a duplicate writes nothing")
}

func TestRecordWithoutAlerts(t *testing.T) {
	e := newTestEnv(t)
	st := e.store(WithAlerts(false))
	res, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	assert.Equal(t, 3, res.Opened)
	assert.Empty(t, res.Alerts)
	again, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	assert.Empty(t, again.Alerts, "the markers carry no alert")
}

func TestRecordReopensOnNewerEvents(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	d := threeDeltas()[0]
	_, err := st.Record(t.Context(), "delivery-1", []incident.Delta{d})
	require.NoError(t, err)
	_, err = st.Resolve(t.Context(), d.ID, "ana")
	require.NoError(t, err)

	// Events from before the resolve are counted but reopen nothing.
	res, err := st.Record(t.Context(), "delivery-2", []incident.Delta{d})
	require.NoError(t, err)
	assert.Zero(t, res.Reopened)
	in, err := st.Get(t.Context(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, in.Status)

	later := d
	later.FirstSeen, later.LastSeen = clk.Now().Add(time.Second), clk.Now().Add(2*time.Second)
	res, err = st.Record(t.Context(), "delivery-3", []incident.Delta{later})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Reopened)
	require.Len(t, res.Alerts, 1)
	assert.Equal(t, incident.Reopened, res.Alerts[0].Change)
	in, err = st.Get(t.Context(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusOpen, in.Status)
	assert.Equal(t, int64(1), in.ReopenCount)
	assert.Equal(t, 3*d.Count, in.Occurrences)
}

// manyDeltas is a delivery of n distinct incidents of one event each.
func manyDeltas(n int) []incident.Delta {
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	out := make([]incident.Delta, n)
	for i := range out {
		out[i] = delta(fmt.Sprintf("ERROR job %d failed", i), incident.SeverityError, 1, t0, t0)
	}
	return out
}

// A delivery of more than ChunkSize incidents commits chunk by chunk; a
// redelivery after a chunk failed skips what committed and adds the rest.
func TestRecordPartialFailureThenRedelivery(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	deltas := manyDeltas(ChunkSize + 11)
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "TransactWriteItems" && n >= 2 {
			return &awstest.Rejected
		}
		return nil
	})
	_, err := st.Record(t.Context(), "delivery-1", deltas)
	require.Error(t, err)
	assert.Len(t, occurrences(t, st, deltas), ChunkSize, "the first chunk committed")

	e.proxy.SetFaults(nil)
	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	assert.Equal(t, ChunkSize, res.Duplicates)
	assert.Equal(t, 11, res.Opened)
	got := occurrences(t, st, deltas)
	require.Len(t, got, len(deltas))
	for id, n := range got {
		assert.Equal(t, int64(1), n, id)
	}
}

// A transaction cancelled for throttling is retried by the store; one
// cancelled for a reason no retry helps fails at once.
func TestRecordRetriesOnlyRetryableCancellations(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "TransactWriteItems" && n <= 2 {
			return &awstest.TransactionThrottled
		}
		return nil
	})
	_, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	assert.Equal(t, 3, e.proxy.Count("TransactWriteItems"))

	e.proxy.ResetCounts()
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "TransactWriteItems" {
			return &awstest.Fault{Status: 400, Type: awstest.TransactionThrottled.Type, Reasons: []string{"ValidationError"}}
		}
		return nil
	})
	_, err = st.Record(t.Context(), "delivery-2", threeDeltas())
	require.Error(t, err)
	assert.ErrorContains(t, err, "write 3 incidents")
	assert.Equal(t, 1, e.proxy.Count("TransactWriteItems"))
}

// TestRecordStoresTheAccount: a new incident stores its delta's account;
// one stored before accounts were recorded gets it with its next
// occurrence, and keeps it.
func TestRecordStoresTheAccount(t *testing.T) {
	e := newTestEnv(t)
	st := e.store(WithClock(newClock().Now))
	deltas := threeDeltas()
	legacy, member := deltas[0], deltas[1]
	member.AccountID = "111111111111"
	_, err := st.Record(t.Context(), "delivery-1", []incident.Delta{legacy, member})
	require.NoError(t, err)
	in, err := st.Get(t.Context(), legacy.ID)
	require.NoError(t, err)
	assert.Empty(t, in.AccountID, "written as before accounts were recorded")
	in, err = st.Get(t.Context(), member.ID)
	require.NoError(t, err)
	assert.Equal(t, "111111111111", in.AccountID)

	legacy.AccountID = "123456789012"
	_, err = st.Record(t.Context(), "delivery-2", []incident.Delta{legacy})
	require.NoError(t, err)
	in, err = st.Get(t.Context(), legacy.ID)
	require.NoError(t, err)
	assert.Equal(t, "123456789012", in.AccountID, "filled in by the next occurrence")
	assert.Equal(t, 2*legacy.Count, in.Occurrences)

	for _, f := range []struct {
		account string
		want    []string
	}{{"111111111111", []string{member.ID}}, {"123456789012", []string{legacy.ID}}, {"", []string{legacy.ID, member.ID}}} {
		got, err := st.List(t.Context(), Filter{Account: f.account})
		require.NoError(t, err)
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		assert.ElementsMatch(t, f.want, ids, "account %q", f.account)
	}
	_, err = st.FindIn(t.Context(), member.ID, "123456789012")
	assert.ErrorIs(t, err, ErrNotFound, "another account's incident")
	found, err := st.FindIn(t.Context(), member.ID[:8], "111111111111")
	require.NoError(t, err)
	assert.Equal(t, member.ID, found.ID)
	stats, err := st.StatsByAccount(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Equal(t, map[string]Tally{"111111111111": {1, member.Count}, "123456789012": {1, 2 * legacy.Count}}, stats.ByAccount)
	stats, err = st.Stats(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Nil(t, stats.ByAccount, "without accounts: the index alone")
}

// TestGetManyReadsADuplicateOnce: an incident whose status changes while
// the index's shards are read is named by two of them; BatchGetItem
// refuses duplicate keys, so getMany reads it once.
func TestGetManyReadsADuplicateOnce(t *testing.T) {
	e := newTestEnv(t)
	st := e.store(WithClock(newClock().Now))
	deltas := threeDeltas()
	_, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	got, err := st.getMany(t.Context(), []string{deltas[0].ID, deltas[1].ID, deltas[0].ID})
	require.NoError(t, err)
	assert.Len(t, got, 2)
}
