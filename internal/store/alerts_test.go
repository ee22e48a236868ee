package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
