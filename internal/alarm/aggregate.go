package alarm

import (
	"fmt"
	"math"
	"sort"
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

// Bucket is the aggregate of the samples that fall in one period.
type Bucket struct {
	// Start is the inclusive start of the period; the period ends, exclusive,
	// one Period later. CloudWatch labels a datapoint with this time.
	Start time.Time
	// Value is the statistic over the period's samples.
	Value float64
	// SampleCount is the number of samples in the period (at least 1).
	SampleCount int
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

// Aggregate buckets raw samples into periods aligned to multiples of period
// since the Unix epoch (for a 5-minute period: :00, :05, :10, ...) and
// computes statistic over each. It returns only the periods that hold at
// least one sample, oldest first; samples may be in any order. It fails with
// ErrInvalidConfig for an unknown statistic or a period that is not
// positive, and with ErrInvalidDatapoint for a value PutMetricData would
// reject.
//
// Evaluator does not use this alignment: like CloudWatch, it lines its
// periods up with the evaluation time (see the package documentation).
func Aggregate(samples []Datapoint, statistic string, period time.Duration) ([]Bucket, error) {
	if _, ok := upperStatistic[statistic]; !ok {
		return nil, fmt.Errorf("%w: Statistic %q is not one of SampleCount, Average, Sum, Minimum, Maximum", ErrInvalidConfig, statistic)
	}
	if period <= 0 {
		return nil, fmt.Errorf("%w: Period %s is not positive", ErrInvalidConfig, period)
	}
	p := int64(period)
	accs := make(map[int64]*accumulator)
	for _, d := range samples {
		if err := checkSample(d); err != nil {
			return nil, err
		}
		k := floorDiv(d.Timestamp.UnixNano(), p)
		a := accs[k]
		if a == nil {
			a = &accumulator{}
			accs[k] = a
		}
		a.add(d.Value)
	}
	keys := make([]int64, 0, len(accs))
	for k := range accs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]Bucket, 0, len(keys))
	for _, k := range keys {
		a := accs[k]
		out = append(out, Bucket{Start: time.Unix(0, k*p).UTC(), Value: a.value(statistic), SampleCount: a.n})
	}
	return out, nil
}

// floorDiv divides rounding towards negative infinity, so that samples
// before the epoch land in the right bucket.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
