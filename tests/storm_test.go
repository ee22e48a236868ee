package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An error storm (24 processor instances × 5 deliveries of 40 events on one
// incident) against DynamoDB that answers a quarter of the writes with the
// conflicts of overlapping requests: every delivery lands (none would reach
// the dead-letter queue) and every event is counted once.
func TestStormWithConflictsStaysExact(t *testing.T) {
	e := newEnv(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	e.proxy.SetFaults(e.proxy.Conflicts(0.25))
	const writers, perWriter = 24, 5
	errs, _ := storm(t, e, writers, perWriter)
	for i, err := range errs {
		require.NoError(t, err, "delivery %d would go to the dead-letter queue", i)
	}
	got := e.incidents(t)
	require.Len(t, got, 1)
	for _, in := range got {
		assert.Equal(t, int64(writers*perWriter*40), in.occurrences)
		assert.Equal(t, "2026-11-25T14:00:00.000Z", in.firstSeen, "the min of event time")
		assert.Equal(t, "2026-11-25T14:02:38.000Z", in.lastSeen, "the max of event time")
		assert.Equal(t, "OPEN", in.status)
	}
	assert.Greater(t, e.proxy.Injected(), writers, "the proxy must actually have answered conflicts")
}
