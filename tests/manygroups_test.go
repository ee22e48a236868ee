package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/store"
)

// Incidents stay per log group with many groups watched (LogGroupNames or
// WatchAccount): listing one group returns only its incidents, and the
// stats count every group apart.
func TestIncidentsOfManyLogGroups(t *testing.T) {
	e := newEnv(t)
	p := e.newProcessor(t, e.proxy.URL, "", nil)
	const groups = 40
	run := eventSeq.Add(1) // the table outlives -count runs: groups of this run's own
	prefix := fmt.Sprintf("/aws/lambda/run%d-", run)
	name := func(i int) string { return fmt.Sprintf("%ssvc-%02d", prefix, i) }
	for i := range groups {
		// Group i has 1 + i%3 incidents, the first seen twice.
		msgs := []string{"ERROR payment declined order=1", "ERROR payment declined order=2"}
		for k := 1; k <= i%3; k++ {
			msgs = append(msgs, fmt.Sprintf("FATAL worker %d crashed: kind%c", k, 'a'+k))
		}
		require.NoError(t, p.Handle(t.Context(), delivery(t, name(i), msgs...)))
	}
	st := e.newStore(t, e.proxy.URL)
	s, err := st.Stats(t.Context(), store.Filter{})
	require.NoError(t, err)
	ours, total, sum := 0, 0, 0
	for g := range s.ByLogGroup {
		if strings.HasPrefix(g, prefix) {
			ours++
		}
	}
	assert.Equal(t, groups, ours)
	for i := range groups {
		want := 1 + i%3
		total += want
		sum += s.ByLogGroup[name(i)].Incidents
		assert.Equal(t, store.Tally{Incidents: want, Occurrences: int64(2 + i%3)}, s.ByLogGroup[name(i)], name(i))

		list, err := st.List(t.Context(), store.Filter{LogGroup: name(i)})
		require.NoError(t, err)
		require.Len(t, list, want, name(i))
		for _, in := range list {
			assert.Equal(t, name(i), in.LogGroup)
		}
	}
	assert.Equal(t, total, sum)
	assert.GreaterOrEqual(t, s.Total.Incidents, total)
}
