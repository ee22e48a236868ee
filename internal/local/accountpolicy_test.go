package local

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/emf"
)

func TestEMFMetricsFeedsObserversOnDrain(t *testing.T) {
	var m EMFMetrics
	var got []Sample
	m.Observe(func(s Sample) { got = append(got, s) })
	at := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	require.NoError(t, emf.Write(&m, "LogAlert/s/Processor", at, nil, []emf.Metric{{Name: "EventsMatched", Unit: "Count", Value: 3}, {Name: "BadPayloads", Unit: "Count", Value: 0}}))
	_, err := m.Write([]byte("not an EMF record\n"))
	require.NoError(t, err)
	assert.Empty(t, got, "nothing before Drain")
	assert.Equal(t, 2, m.Drain())
	require.Len(t, got, 2)
	byName := map[string]Sample{}
	for _, s := range got {
		byName[s.MetricName] = s
	}
	assert.Equal(t, "LogAlert/s/Processor", byName["EventsMatched"].Namespace)
	assert.Equal(t, 3.0, byName["EventsMatched"].Value)
	assert.Equal(t, at, byName["EventsMatched"].Timestamp)
	assert.Empty(t, byName["EventsMatched"].Dimensions)
	assert.Zero(t, m.Drain())
}
