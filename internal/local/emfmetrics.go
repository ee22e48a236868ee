package local

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"github.com/logalert/logalert/internal/alarm"
)

// EMFMetrics plays what CloudWatch Logs does with the processor's Embedded
// Metric Format records: it turns each record's values into metric samples
// for the alarms on them (WatchAccount's alarm on EventsMatched). The
// processor writes from its invocations' goroutines; the samples wait
// until Drain, which the twin calls before it evaluates the alarms. Lines
// that are not EMF records are ignored.
type EMFMetrics struct {
	mu        sync.Mutex
	pending   []Sample
	observers []func(Sample)
}

// emfRecord is the part of an EMF record the twin reads.
type emfRecord struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// Write reads EMF records, one per line.
func (m *EMFMetrics) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte("\n")) {
		var rec emfRecord
		var values map[string]any
		if json.Unmarshal(line, &rec) != nil || json.Unmarshal(line, &values) != nil {
			continue
		}
		at := time.UnixMilli(rec.AWS.Timestamp).UTC()
		for _, d := range rec.AWS.CloudWatchMetrics {
			var dims map[string]string
			for _, set := range d.Dimensions {
				for _, name := range set {
					if dims == nil {
						dims = map[string]string{}
					}
					dims[name], _ = values[name].(string)
				}
			}
			for _, metric := range d.Metrics {
				v, ok := values[metric.Name].(float64)
				if !ok {
					continue
				}
				m.mu.Lock()
				m.pending = append(m.pending, Sample{Namespace: d.Namespace, MetricName: metric.Name, Dimensions: dims, Datapoint: alarm.Datapoint{Timestamp: at, Value: v}})
				m.mu.Unlock()
			}
		}
	}
	return len(p), nil
}

// Observe calls fn with every sample Drain hands on.
func (m *EMFMetrics) Observe(fn func(Sample)) { m.observers = append(m.observers, fn) }

// Drain hands the samples written so far to the observers and returns how
// many there were.
func (m *EMFMetrics) Drain() int {
	m.mu.Lock()
	samples := m.pending
	m.pending = nil
	m.mu.Unlock()
	for _, s := range samples {
		for _, fn := range m.observers {
			fn(s)
		}
	}
	return len(samples)
}
