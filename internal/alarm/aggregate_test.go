package alarm_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

func TestAggregate(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	samples := []alarm.Datapoint{
		{Timestamp: t0.Add(7*time.Minute + 59*time.Second), Value: 4}, // 14:05 bucket
		{Timestamp: t0.Add(time.Minute), Value: 1},                    // 14:00 bucket
		{Timestamp: t0, Value: 2},                                     // 14:00 bucket, on the boundary
		{Timestamp: t0.Add(4*time.Minute + 59*time.Second), Value: 6}, // 14:00 bucket
		{Timestamp: t0.Add(5 * time.Minute), Value: -3},               // 14:05 bucket, on the boundary
		{Timestamp: t0.Add(20 * time.Minute), Value: 0.5},             // 14:20 bucket; 14:10 and 14:15 are empty
	}
	tests := []struct {
		statistic string
		want      []float64 // for 14:00, 14:05, 14:20
	}{
		{alarm.StatisticSum, []float64{9, 1, 0.5}},
		{alarm.StatisticAverage, []float64{3, 0.5, 0.5}},
		{alarm.StatisticMinimum, []float64{1, -3, 0.5}},
		{alarm.StatisticMaximum, []float64{6, 4, 0.5}},
		{alarm.StatisticSampleCount, []float64{3, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.statistic, func(t *testing.T) {
			got, err := alarm.Aggregate(samples, tc.statistic, 5*time.Minute)
			require.NoError(t, err)
			want := []alarm.Bucket{
				{Start: t0, Value: tc.want[0], SampleCount: 3},
				{Start: t0.Add(5 * time.Minute), Value: tc.want[1], SampleCount: 2},
				{Start: t0.Add(20 * time.Minute), Value: tc.want[2], SampleCount: 1},
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestAggregateAlignment checks that buckets start on multiples of the period
// since the epoch, in UTC, whatever the time zone of the samples.
func TestAggregateAlignment(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name   string
		period time.Duration
		sample time.Time
		want   time.Time
	}{
		{"minute", time.Minute, time.Date(2026, 11, 25, 14, 3, 59, 999, time.UTC), time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)},
		{"five minutes", 5 * time.Minute, time.Date(2026, 11, 25, 14, 9, 0, 0, time.UTC), time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)},
		{"hour, other zone", time.Hour, time.Date(2026, 11, 25, 15, 30, 0, 0, paris), time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)},
		{"ten seconds", 10 * time.Second, time.Date(2026, 11, 25, 14, 0, 19, 0, time.UTC), time.Date(2026, 11, 25, 14, 0, 10, 0, time.UTC)},
		{"before the epoch", time.Minute, time.Unix(-30, 0), time.Unix(-60, 0).UTC()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := alarm.Aggregate([]alarm.Datapoint{{Timestamp: tc.sample, Value: 1}}, alarm.StatisticSum, tc.period)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, got[0].Start)
		})
	}
}

func TestAggregateEmpty(t *testing.T) {
	got, err := alarm.Aggregate(nil, alarm.StatisticSum, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestAggregateErrors(t *testing.T) {
	ok := []alarm.Datapoint{{Timestamp: time.Unix(0, 0), Value: 1}}
	tests := []struct {
		name      string
		samples   []alarm.Datapoint
		statistic string
		period    time.Duration
		want      error
	}{
		{"unknown statistic", ok, "Median", time.Minute, alarm.ErrInvalidConfig},
		{"zero period", ok, alarm.StatisticSum, 0, alarm.ErrInvalidConfig},
		{"negative period", ok, alarm.StatisticSum, -time.Minute, alarm.ErrInvalidConfig},
		{"NaN sample", []alarm.Datapoint{{Value: math.NaN()}}, alarm.StatisticSum, time.Minute, alarm.ErrInvalidDatapoint},
		{"infinite sample", []alarm.Datapoint{{Value: math.Inf(-1)}}, alarm.StatisticSum, time.Minute, alarm.ErrInvalidDatapoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alarm.Aggregate(tc.samples, tc.statistic, tc.period)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}
