// Package emf writes CloudWatch Embedded Metric Format records: one JSON
// log line that CloudWatch Logs turns into metrics, with no PutMetricData
// call and no extra permission.
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Metric is one value in a record. Unit is a CloudWatch unit such as
// "Count" or "Bytes".
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Write writes one EMF record of metrics in namespace, with dimensions
// dims (one dimension set of all of them), stamped at t, as a single line.
func Write(w io.Writer, namespace string, t time.Time, dims map[string]string, metrics []Metric) error {
	return WriteSets(w, namespace, t, dims, [][]string{slices.Sorted(maps.Keys(dims))}, metrics)
}

// WriteSets is Write with the dimension sets given: each set lists keys of
// dims, and CloudWatch records every metric once per set (an empty set
// aggregates over every value of the dimensions), for example
// [["AccountId"], []] for a metric per account and over all accounts.
func WriteSets(w io.Writer, namespace string, t time.Time, dims map[string]string, sets [][]string, metrics []Metric) error {
	defs := make([]map[string]string, 0, len(metrics))
	rec := make(map[string]any, len(metrics)+len(dims)+1)
	for _, m := range metrics {
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
		rec[m.Name] = m.Value
	}
	for k, v := range dims {
		rec[k] = v
	}
	rec["_aws"] = map[string]any{
		"Timestamp": t.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  namespace,
			"Dimensions": sets,
			"Metrics":    defs,
		}},
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode EMF record: %w", err)
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write EMF record: %w", err)
	}
	return nil
}
