package filterpattern_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// BenchmarkMatch measures Match per pattern family; it reports ns/event.
func BenchmarkMatch(b *testing.B) {
	lambdaLine := "2024-05-01T12:00:00.000Z\t4f1c8a2e-1b2c-4d5e-8f90-123456789abc\tERROR\tpayment failed: upstream timeout after 3 retries"
	benches := []struct {
		name, pattern, message string
	}{
		{"unstructured term", `ERROR`, lambdaLine},
		{"OR terms", `?FATAL ?ERROR ?"Task timed out"`, lambdaLine},
		{"JSON equality", `{ $.eventType = "UpdateTrail" }`, evJSON},
		{"JSON wildcard", `{ $.objectList[*].id = 2 }`, evJSON},
		{"JSON numeric", `{ $.latency >= 500 && $.status != 200 }`, `{"latency": 734, "status": 503, "path": "/api/orders", "user": {"id": 42}}`},
		{"space-delimited", `[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes > 1000]`, evApacheProd},
		{"regex", `%timeout\safter\s\d+\sretries%`, lambdaLine},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			p, err := filterpattern.Parse(bc.pattern)
			require.NoError(b, err)
			require.True(b, p.Match(bc.message))
			b.SetBytes(int64(len(bc.message)))
			b.ReportAllocs()
			for b.Loop() {
				p.Match(bc.message)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}
