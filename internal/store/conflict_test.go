package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/incident"
)

// DynamoDB answers a write that overlaps a transaction on the same item
// with TransactionConflict (a transaction) or TransactionConflictException
// (a single-item write), which the SDK does not retry: the store does, and
// every count stays exact.
func TestConflictsAreRetried(t *testing.T) {
	e := newTestEnv(t)
	e.proxy.SetFaults(e.proxy.Conflicts(0.25))
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	deltas := threeDeltas()
	var pub publisher
	const deliveries = 12
	for i := range 2 * deliveries { // each delivery, and its redelivery
		delivery := fmt.Sprintf("d%d", i%deliveries)
		res, err := st.Record(t.Context(), delivery, deltas)
		require.NoError(t, err, "delivery %s", delivery)
		_, err = st.Announce(t.Context(), res.Alerts, pub.publish)
		require.NoError(t, err, "delivery %s", delivery)
		_, err = st.Acknowledge(t.Context(), deltas[i%len(deltas)].ID, "ana")
		if err != nil {
			require.ErrorIs(t, err, incident.ErrTransition, "acknowledged already")
		}
	}
	for _, d := range deltas {
		in, err := st.Get(t.Context(), d.ID)
		require.NoError(t, err)
		assert.Equal(t, deliveries*d.Count, in.Occurrences, "each distinct delivery once")
		assert.Equal(t, incident.StatusAcknowledged, in.Status)
	}
	assert.ElementsMatch(t, ids(func() []Alert {
		var a []Alert
		for _, d := range deltas {
			a = append(a, Alert{Incident: incident.Incident{ID: d.ID}})
		}
		return a
	}()), pub.sent, "one alert per opened incident")
	assert.Greater(t, e.proxy.Injected(), 0, "the proxy must actually have answered conflicts")
}

func TestItemConflictIsRetriedUntilTheDeadline(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	d := threeDeltas()[0]
	_, err := st.Record(t.Context(), "d1", []incident.Delta{d})
	require.NoError(t, err)

	e.proxy.SetFaults(func(op string, n int) *awstest.Fault {
		if op == "UpdateItem" && n <= 2 {
			return &awstest.ItemConflict
		}
		return nil
	})
	_, err = st.Acknowledge(t.Context(), d.ID, "ana")
	require.NoError(t, err)
	assert.Equal(t, 3, e.proxy.Count("UpdateItem"), "two conflicts, then the write")

	// A conflict that never ends gives up a second before the deadline,
	// with ErrContention, so that the invocation is retried.
	e.proxy.SetFaults(func(op string, _ int) *awstest.Fault {
		if op == "UpdateItem" {
			return &awstest.ItemConflict
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err = st.Resolve(ctx, d.ID, "ana")
	assert.ErrorIs(t, err, ErrContention)
	assert.ErrorContains(t, err, "TransactionConflictException")
	assert.NoError(t, ctx.Err(), "gave up before the deadline")
}
