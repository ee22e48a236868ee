package alarm

import (
	"fmt"
	"math"
	"time"
)

// maxValue is the largest magnitude PutMetricData accepts (2^360).
var maxValue = math.Ldexp(1, 360)

// Datapoint is one raw sample of the metric, as PutMetricData (or a metric
// filter) would record it.
type Datapoint struct {
	Timestamp time.Time
	Value     float64
}

// accumulator computes every statistic of one period in one pass.
type accumulator struct {
	sum, min, max float64
	n             int
}

// add records one sample value.
func (a *accumulator) add(v float64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.sum += v
	a.n++
}

// value returns the named statistic; callers have validated statistic.
func (a *accumulator) value(statistic string) float64 {
	switch statistic {
	case StatisticSum:
		return a.sum
	case StatisticAverage:
		return a.sum / float64(a.n)
	case StatisticMinimum:
		return a.min
	case StatisticMaximum:
		return a.max
	case StatisticSampleCount:
		return float64(a.n)
	}
	return math.NaN()
}

// checkSample reports a sample value that PutMetricData would reject.
func checkSample(d Datapoint) error {
	if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) || math.Abs(d.Value) > maxValue {
		return fmt.Errorf("%w: value %v at %s is NaN, infinite or beyond ±2^360",
			ErrInvalidDatapoint, d.Value, d.Timestamp.UTC().Format(time.RFC3339Nano))
	}
	return nil
}
