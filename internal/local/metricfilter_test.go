package local

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/provision"
)

// fakeMetrics records PutMetricData calls.
type fakeMetrics struct {
	calls []*cloudwatch.PutMetricDataInput
}

func (f *fakeMetrics) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.calls = append(f.calls, in)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

func TestMetricFilter(t *testing.T) {
	zero := 0.0
	pattern, err := filterpattern.Parse("?ERROR ?FATAL ?CRITICAL")
	require.NoError(t, err)
	cw := &fakeMetrics{}
	mf, err := NewMetricFilter(cw, "errors", pattern, []provision.MetricTransformation{{
		Namespace: "LogAlert/test", MetricName: "ErrorCount", Unit: "Count",
		Transformation: filterpattern.Transformation{MetricValue: "1", DefaultValue: &zero},
	}})
	require.NoError(t, err)
	var seen []Sample
	mf.Observe(func(s Sample) { seen = append(seen, s) })

	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	require.NoError(t, mf.Apply(t.Context(), []Event{
		{Message: "ERROR one", Timestamp: at(time.Second)},
		{Message: "INFO fine", Timestamp: at(2 * time.Second)},
		{Message: "CRITICAL two", Timestamp: at(59 * time.Second)},
		{Message: "FATAL three", Timestamp: at(61 * time.Second)},
	}))

	require.Len(t, cw.calls, 1)
	call := cw.calls[0]
	assert.Equal(t, "LogAlert/test", *call.Namespace)
	require.Len(t, call.MetricData, 2, "one statistic set per minute")
	want := []struct {
		minute              time.Time
		count, sum, min, mx float64
	}{
		{t0, 3, 2, 0, 1},
		{t0.Add(time.Minute), 1, 1, 1, 1},
	}
	for i, w := range want {
		d := call.MetricData[i]
		assert.Equal(t, "ErrorCount", *d.MetricName)
		assert.Equal(t, types.StandardUnitCount, d.Unit)
		assert.Equal(t, w.minute, *d.Timestamp)
		assert.Equal(t, types.StatisticSet{SampleCount: aws.Float64(w.count), Sum: aws.Float64(w.sum), Minimum: aws.Float64(w.min), Maximum: aws.Float64(w.mx)}, *d.StatisticValues)
		assert.Empty(t, d.Dimensions)
	}

	require.Len(t, seen, 4, "every value reaches the observers, the default ones included")
	assert.Equal(t, Sample{Namespace: "LogAlert/test", MetricName: "ErrorCount", Datapoint: seen[0].Datapoint}, seen[0])
	assert.Equal(t, 1.0, seen[0].Value)
	assert.True(t, seen[1].Default)
	assert.Equal(t, 0.0, seen[1].Value)
	assert.Equal(t, MetricStats{Events: 4, Matched: 3, Samples: 4, Sum: 3, Datums: 2, Requests: 1}, mf.Stats())
}

func TestMetricFilterDimensions(t *testing.T) {
	pattern, err := filterpattern.Parse(`{ $.level = "ERROR" && $.service = * }`)
	require.NoError(t, err)
	cw := &fakeMetrics{}
	mf, err := NewMetricFilter(cw, "by-service", pattern, []provision.MetricTransformation{{
		Namespace: "ns", MetricName: "Errors",
		Transformation: filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"Service": "$.service"}},
	}})
	require.NoError(t, err)
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	require.NoError(t, mf.Apply(t.Context(), []Event{
		{Message: `{"level":"ERROR","service":"pay"}`, Timestamp: ts},
		{Message: `{"level":"ERROR","service":"cart"}`, Timestamp: ts},
		{Message: `{"level":"ERROR","service":"pay"}`, Timestamp: ts},
		{Message: `{"level":"INFO","service":"pay"}`, Timestamp: ts},
	}))
	require.Len(t, cw.calls, 1)
	got := map[string]float64{}
	for _, d := range cw.calls[0].MetricData {
		require.Len(t, d.Dimensions, 1)
		got[*d.Dimensions[0].Value] = *d.StatisticValues.Sum
	}
	assert.Equal(t, map[string]float64{"pay": 2, "cart": 1}, got)
}

func TestMetricFilterRejectsBadTransformation(t *testing.T) {
	pattern, err := filterpattern.Parse("ERROR")
	require.NoError(t, err)
	_, err = NewMetricFilter(&fakeMetrics{}, "bad", pattern, []provision.MetricTransformation{{
		Namespace: "ns", MetricName: "m", Transformation: filterpattern.Transformation{MetricValue: "$.latency"},
	}})
	assert.ErrorIs(t, err, filterpattern.ErrTransformation)
}
