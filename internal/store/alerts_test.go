package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/incident"
)

// The store's side of a claim: a live lease makes an alert "held" (not
// done), and once the lease runs out (its claimer died) the alert can be
// claimed again; a cleared alert is neither. The lease runs on the store's
// clock, which the test moves.
func TestAlertLease(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	deltas := threeDeltas()
	ctx := t.Context()

	res, err := st.Record(ctx, "delivery-1", deltas)
	require.NoError(t, err)
	require.Len(t, res.Alerts, 3)
	won, held, err := st.claim(ctx, res.Alerts)
	require.NoError(t, err)
	assert.Len(t, won, 3)
	assert.Empty(t, held)

	again, err := st.Record(ctx, "delivery-1", deltas) // a racing redelivery
	require.NoError(t, err)
	require.Len(t, again.Alerts, 3, "the alerts are still pending")
	won, held, err = st.claim(ctx, again.Alerts)
	require.NoError(t, err)
	assert.Empty(t, won, "the first claimer's lease is live")
	assert.Len(t, held, 3)

	clk.Advance(AlertLease - time.Millisecond) // not quite yet
	won, held, err = st.claim(ctx, again.Alerts)
	require.NoError(t, err)
	assert.Empty(t, won, "the lease is live until it runs out")
	assert.Len(t, held, 3)

	clk.Advance(2 * time.Millisecond) // the first claimer died: its lease runs out
	won, held, err = st.claim(ctx, again.Alerts)
	require.NoError(t, err)
	assert.Len(t, won, 3, "an expired lease is taken over")
	assert.Empty(t, held)

	require.NoError(t, st.clear(ctx, won))
	won, held, err = st.claim(ctx, again.Alerts)
	require.NoError(t, err)
	assert.Empty(t, won, "published and cleared: nothing to claim")
	assert.Empty(t, held)
}

// publisher records what it publishes and fails the incidents in fail.
type publisher struct {
	mu   sync.Mutex
	sent []string
	fail map[string]bool
}

func (p *publisher) publish(_ context.Context, in incident.Incident, _ incident.Change) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail[in.ID] {
		return errors.New("publish refused")
	}
	p.sent = append(p.sent, in.ID)
	return nil
}

func ids(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Incident.ID)
	}
	return out
}

func TestAnnouncePublishesOnceAndClears(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	res, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	var pub publisher
	n, err := st.Announce(t.Context(), res.Alerts, pub.publish)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, ids(res.Alerts), pub.sent)
	assert.Zero(t, e.proxy.Count("UpdateItem"), "alerts born claimed need no claim")

	again, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	assert.Empty(t, again.Alerts, "cleared: a redelivery owes nothing")
}

// A failed publish is released at once and stays owed: the redelivery
// claims it without waiting for the lease, and publishes it.
func TestAnnounceFailedPublishIsReleasedAndOwed(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	deltas := threeDeltas()
	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	pub := publisher{fail: map[string]bool{deltas[1].ID: true}}
	n, err := st.Announce(t.Context(), res.Alerts, pub.publish)
	assert.ErrorContains(t, err, "1 alerts still owed: publish refused")
	assert.Equal(t, 2, n)

	again, err := st.Record(t.Context(), "delivery-1", deltas) // the redelivery, same instant
	require.NoError(t, err)
	require.Equal(t, []string{deltas[1].ID}, ids(again.Alerts))
	clear(pub.fail)
	n, err = st.Announce(t.Context(), again.Alerts, pub.publish)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "released: claimed at once, not held")
	assert.Equal(t, []string{deltas[0].ID, deltas[2].ID, deltas[1].ID}, pub.sent)
}

// With too little time left to publish and clear, nothing is published and
// the claims are released for the redelivery.
func TestAnnounceOutOfTimeReleases(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	res, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), publishMargin/2)
	defer cancel()
	var pub publisher
	n, err := st.Announce(ctx, res.Alerts, pub.publish)
	assert.ErrorContains(t, err, "3 alerts still owed: out of time with 3 alerts to publish")
	assert.Zero(t, n)
	assert.Empty(t, pub.sent)
	assert.Equal(t, 3, e.proxy.Count("UpdateItem"), "three releases")

	again, err := st.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	won, held, err := st.claim(t.Context(), again.Alerts)
	require.NoError(t, err)
	assert.Len(t, won, 3, "released, so claimed at once")
	assert.Empty(t, held)
}

// A delivery that finds its alerts held by another waits: an alert the
// holder clears meanwhile is done, alerts whose lease runs out (the holder
// died) are taken over and published. The holder acts, and the clock moves,
// right after the waiter's first round of claims, which the proxy sees.
func TestAnnounceWaitsForHeldAlertsOrTakesThemOver(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	holder := New(e.direct(t), e.table, WithClock(clk.Now))
	waiter := e.store(WithClock(clk.Now))
	deltas := threeDeltas()
	mine, err := holder.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	res, err := waiter.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	require.Len(t, res.Alerts, 3, "pending, under the holder's lease")

	var holderErr error
	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "UpdateItem" && n == len(deltas) { // the first round's last claim
			_, holderErr = holder.Announce(context.Background(), mine.Alerts[:1], noPublish)
			clk.Advance(AlertLease + time.Millisecond)
		}
		return nil
	})
	var pub publisher
	n, err := waiter.Announce(t.Context(), res.Alerts, pub.publish)
	require.NoError(t, holderErr)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.ElementsMatch(t, ids(res.Alerts[1:]), pub.sent, "the two the holder left are taken over, the cleared one is not sent again")
	assert.Equal(t, 2*len(deltas), e.proxy.Count("UpdateItem"), "two rounds of claims")
}

// A held alert that is neither cleared nor released in time fails the
// delivery, so that it comes back; nothing is published.
func TestAnnounceHeldPastTheDeadlineFails(t *testing.T) {
	e := newTestEnv(t)
	holder := e.store()
	waiter := e.store()
	mine, err := holder.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	require.Len(t, mine.Alerts, 3)
	res, err := waiter.Record(t.Context(), "delivery-1", threeDeltas())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), publishMargin+time.Second)
	defer cancel()
	var pub publisher
	n, err := waiter.Announce(ctx, res.Alerts, pub.publish)
	assert.ErrorContains(t, err, "3 alerts still owed: 3 alerts are still held by another delivery")
	assert.Zero(t, n)
	assert.Empty(t, pub.sent)
}

// noPublish publishes nothing and succeeds: an alert that went out.
func noPublish(context.Context, incident.Incident, incident.Change) error { return nil }
