package local

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/provision"
)

// maxDatums is how many MetricDatum one PutMetricData call may carry.
const maxDatums = 1000

// metricPutter is the subset of *cloudwatch.Client that MetricFilter calls.
type metricPutter interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Sample is one value a metric filter derived from one log event.
type Sample struct {
	Namespace, MetricName string
	Dimensions            map[string]string // nil without dimensions
	alarm.Datapoint
	// Default is set when the event did not match and Value is the
	// transformation's DefaultValue.
	Default bool
}

// MetricStats counts what a MetricFilter did.
type MetricStats struct {
	Events   int     `json:"events"`   // events read
	Matched  int     `json:"matched"`  // events that matched the pattern and yielded a value
	Samples  int     `json:"samples"`  // values published, defaults included
	Sum      float64 `json:"sum"`      // sum of the values published
	Datums   int     `json:"datums"`   // MetricDatum sent (one per metric, minute and dimensions per call)
	Requests int     `json:"requests"` // PutMetricData calls
}

// MetricFilter turns log events into metric values as a CloudWatch Logs
// metric filter does: each event is evaluated against the filter pattern
// and each transformation (filterpattern.Evaluate), matching events yield
// their value and, when the transformation has a DefaultValue, the others
// yield it. The values are published with PutMetricData, aggregated per
// minute into statistic sets as metric filters publish them, and handed
// one by one to the observers (the alarms).
type MetricFilter struct {
	cw         metricPutter
	name       string
	pattern    *filterpattern.Pattern
	transforms []provision.MetricTransformation
	observers  []func(Sample)
	stats      MetricStats
}

// NewMetricFilter returns the metric filter name with pattern and its
// transformations, each validated as CloudWatch validates PutMetricFilter.
func NewMetricFilter(cw metricPutter, name string, pattern *filterpattern.Pattern, transforms []provision.MetricTransformation) (*MetricFilter, error) {
	for _, t := range transforms {
		if err := pattern.ValidateTransformation(t.Transformation); err != nil {
			return nil, fmt.Errorf("metric filter %s, metric %s/%s: %w", name, t.Namespace, t.MetricName, err)
		}
	}
	return &MetricFilter{cw: cw, name: name, pattern: pattern, transforms: transforms}, nil
}

// Observe adds fn to the functions that receive every Sample.
func (m *MetricFilter) Observe(fn func(Sample)) { m.observers = append(m.observers, fn) }

// Stats returns what the filter has done so far.
func (m *MetricFilter) Stats() MetricStats { return m.stats }

// datumKey groups samples into one statistic set.
type datumKey struct {
	transform int
	minute    int64
	dims      string
}

// Apply evaluates events and publishes their values. The observers see the
// values only once PutMetricData has succeeded for all of them.
func (m *MetricFilter) Apply(ctx context.Context, events []Event) error {
	var (
		samples []Sample
		sets    = map[datumKey]*types.StatisticSet{}
		dims    = map[datumKey]map[string]string{}
		keys    []datumKey
		matched int
	)
	for _, e := range events {
		for i, t := range m.transforms {
			res, ok := m.pattern.Evaluate(e.Message, t.Transformation)
			if !ok && !res.Default {
				continue
			}
			if ok {
				matched++
			}
			at := time.UnixMilli(e.Timestamp).UTC()
			samples = append(samples, Sample{
				Namespace: t.Namespace, MetricName: t.MetricName, Dimensions: res.Dimensions,
				Datapoint: alarm.Datapoint{Timestamp: at, Value: res.Value}, Default: res.Default,
			})
			k := datumKey{transform: i, minute: at.Truncate(time.Minute).Unix(), dims: dimsKey(res.Dimensions)}
			s := sets[k]
			if s == nil {
				s = &types.StatisticSet{SampleCount: aws.Float64(0), Sum: aws.Float64(0), Minimum: aws.Float64(res.Value), Maximum: aws.Float64(res.Value)}
				sets[k], dims[k] = s, res.Dimensions
				keys = append(keys, k)
			}
			*s.SampleCount++
			*s.Sum += res.Value
			*s.Minimum = min(*s.Minimum, res.Value)
			*s.Maximum = max(*s.Maximum, res.Value)
		}
	}
	byNamespace := map[string][]types.MetricDatum{}
	for _, k := range keys {
		t := m.transforms[k.transform]
		d := types.MetricDatum{
			MetricName:      aws.String(t.MetricName),
			Timestamp:       aws.Time(time.Unix(k.minute, 0).UTC()),
			StatisticValues: sets[k],
			Dimensions:      cwDimensions(dims[k]),
		}
		if t.Unit != "" {
			d.Unit = types.StandardUnit(t.Unit)
		}
		byNamespace[t.Namespace] = append(byNamespace[t.Namespace], d)
	}
	for _, ns := range slices.Sorted(maps.Keys(byNamespace)) {
		data := byNamespace[ns]
		for start := 0; start < len(data); start += maxDatums {
			chunk := data[start:min(start+maxDatums, len(data))]
			if _, err := m.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: chunk}); err != nil {
				return fmt.Errorf("metric filter %s: put %d datapoints into %s: %w", m.name, len(chunk), ns, err)
			}
			m.stats.Requests++
			m.stats.Datums += len(chunk)
		}
	}
	m.stats.Events += len(events)
	m.stats.Matched += matched
	for _, s := range samples {
		m.stats.Samples++
		m.stats.Sum += s.Value
		for _, fn := range m.observers {
			fn(s)
		}
	}
	return nil
}

// dimsKey is a canonical string for a dimension set.
func dimsKey(d map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(d)) {
		fmt.Fprintf(&b, "%q=%q,", k, d[k])
	}
	return b.String()
}

// cwDimensions converts a dimension map, sorted by name.
func cwDimensions(d map[string]string) []types.Dimension {
	out := make([]types.Dimension, 0, len(d))
	for _, k := range slices.Sorted(maps.Keys(d)) {
		out = append(out, types.Dimension{Name: aws.String(k), Value: aws.String(d[k])})
	}
	return out
}
