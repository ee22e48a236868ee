package awslogs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
)

// benchBatch is the realistic batch of the benchmarks: 10,000 events, half
// of them error lines of 20 fingerprints, about 2 MB of JSON.
type benchBatch struct {
	data string // awslogs.data
	zip  []byte // gzip stream
	raw  []byte // JSON document
}

// realisticBatch returns the benchmark batch, built once.
func realisticBatch(tb testing.TB) benchBatch {
	tb.Helper()
	batch, err := buildBatch()
	require.NoError(tb, err)
	return batch
}

// buildBatch builds the benchmark batch on its first call.
var buildBatch = sync.OnceValues(func() (benchBatch, error) {
	data, err := awslogs.Encode(awslogstest.RealisticBatch(10_000, 0.5, 20, 1))
	if err != nil {
		return benchBatch{}, err
	}
	zip, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return benchBatch{}, err
	}
	raw, err := awslogstest.Inflate(data)
	if err != nil {
		return benchBatch{}, err
	}
	return benchBatch{data: data, zip: zip, raw: raw}, nil
})

// gunzipper inflates the batch the fastest way klauspost/compress offers:
// a reused gzip.Reader writing into a reused buffer.
type gunzipper struct {
	br  bytes.Reader
	zr  gzip.Reader
	out bytes.Buffer
}

// gunzip inflates zip and returns the number of bytes it inflated to.
func (g *gunzipper) gunzip(tb testing.TB, zip []byte) int {
	g.br.Reset(zip)
	require.NoError(tb, g.zr.Reset(&g.br))
	g.out.Reset()
	n, err := g.out.ReadFrom(&g.zr)
	require.NoError(tb, err)
	return int(n)
}

// BenchmarkDecode measures a warm Decoder on the realistic batch, in MB/s
// of inflated JSON.
func BenchmarkDecode(b *testing.B) {
	batch := realisticBatch(b)
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	var p awslogs.Payload
	b.SetBytes(int64(len(batch.raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(batch.data, &p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.LogEvents)), "events/op")
}

// BenchmarkDecodePackage measures the package-level Decode, which borrows an
// idle Decoder and allocates a fresh Payload each time.
func BenchmarkDecodePackage(b *testing.B) {
	batch := realisticBatch(b)
	b.SetBytes(int64(len(batch.raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := awslogs.Decode(batch.data, awslogs.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGunzipBaseline measures raw klauspost gunzip of the same bytes.
func BenchmarkGunzipBaseline(b *testing.B) {
	batch := realisticBatch(b)
	var g gunzipper
	b.SetBytes(int64(len(batch.raw)))
	b.ReportAllocs()
	for b.Loop() {
		g.gunzip(b, batch.zip)
	}
}

// BenchmarkDecodeEncodingJSON measures what Decode replaces: base64,
// klauspost gunzip and encoding/json, for comparison.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	batch := realisticBatch(b)
	var g gunzipper
	b.SetBytes(int64(len(batch.raw)))
	b.ReportAllocs()
	for b.Loop() {
		zip, err := base64.StdEncoding.DecodeString(batch.data)
		if err != nil {
			b.Fatal(err)
		}
		g.gunzip(b, zip)
		var v struct {
			MessageType         string   `json:"messageType"`
			Owner               string   `json:"owner"`
			LogGroup            string   `json:"logGroup"`
			LogStream           string   `json:"logStream"`
			SubscriptionFilters []string `json:"subscriptionFilters"`
			LogEvents           []struct {
				ID        string `json:"id"`
				Timestamp int64  `json:"timestamp"`
				Message   string `json:"message"`
			} `json:"logEvents"`
		}
		if err := json.Unmarshal(g.out.Bytes(), &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeVsGunzip alternates a warm Decode and a raw gunzip of the
// realistic batch and reports each one's throughput, from the median time
// of each (robust to a busy machine), and their ratio: decode MB/s ÷ gunzip
// MB/s of the same bytes.
func BenchmarkDecodeVsGunzip(b *testing.B) {
	batch := realisticBatch(b)
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	var (
		p             awslogs.Payload
		g             gunzipper
		decode, unzip []time.Duration
	)
	b.SetBytes(int64(len(batch.raw)))
	for b.Loop() {
		start := time.Now()
		if err := d.Decode(batch.data, &p); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		g.gunzip(b, batch.zip)
		decode = append(decode, mid.Sub(start))
		unzip = append(unzip, time.Since(mid))
	}
	mb := float64(len(batch.raw)) / 1e6
	decodeMBps := mb / median(decode).Seconds()
	zipMBps := mb / median(unzip).Seconds()
	b.ReportMetric(decodeMBps, "decode-MB/s")
	b.ReportMetric(zipMBps, "gunzip-MB/s")
	b.ReportMetric(decodeMBps/zipMBps, "ratio")
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkParseJSON measures the JSON parser alone on the inflated batch.
func BenchmarkParseJSON(b *testing.B) {
	batch := realisticBatch(b)
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	var p awslogs.Payload
	b.SetBytes(int64(len(batch.raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.ParseJSON(batch.raw, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBase64 measures base64 decoding of the batch, for reference.
func BenchmarkBase64(b *testing.B) {
	batch := realisticBatch(b)
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(batch.data)))
	src := []byte(batch.data)
	b.SetBytes(int64(len(batch.raw)))
	for b.Loop() {
		if _, err := base64.StdEncoding.Decode(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
