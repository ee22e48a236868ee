package pipeline_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/pipeline"
)

// realisticData is the reference batch: 10,000 events, about 2 MB
// of JSON, half of them errors in 20 fingerprints, encoded as CloudWatch
// Logs delivers it. It returns the data string and the decompressed size.
func realisticData(tb testing.TB) (string, int) {
	tb.Helper()
	data, err := awslogs.Encode(awslogstest.RealisticBatch(10_000, 0.5, 20, 1))
	require.NoError(tb, err)
	plain, err := awslogstest.Inflate(data)
	require.NoError(tb, err)
	return data, len(plain)
}

// BenchmarkDecodeMatchGroup measures the processor's CPU path — decode
// (awslogs.View, as the processor does),
// match every event against the default pattern, group the matches — in
// MB/s of decompressed JSON, beside raw gunzip of the same bytes with
// klauspost/compress, and reports their ratio (target: at least 0.5). Each
// iteration times one gunzip and one pipeline run back to back, so both see
// the same machine (this one's speed drifts), and the ratio is of the totals.
func BenchmarkDecodeMatchGroup(b *testing.B) {
	data, size := realisticData(b)
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(b, err)
	raw, err := base64.StdEncoding.DecodeString(data)
	require.NoError(b, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(b, err)

	b.SetBytes(int64(size))
	b.ReportAllocs()
	var gunzip, full time.Duration
	for b.Loop() {
		start := time.Now()
		if err := zr.Reset(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		var g incident.Grouping
		if err := awslogs.View(data, awslogs.DefaultLimits, func(p *awslogs.Payload) error {
			g = incident.Group(p, pattern)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if len(g.Deltas) != 20 {
			b.Fatalf("%d incidents, want 20", len(g.Deltas))
		}
		gunzip += mid.Sub(start)
		full += time.Since(mid)
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(full), "pipeline-MB/s")
	b.ReportMetric(mbps(gunzip), "gunzip-MB/s")
	b.ReportMetric(mbps(full)/mbps(gunzip), "ratio")
}
