package incident_test

import (
	"testing"

	"github.com/logalert/logalert/internal/incident"
)

// benchLines are a typical matching line with no secret (the common case)
// and one that carries secrets of several shapes.
var benchLines = []struct{ name, line string }{
	{"no-secret", "2026-11-25T14:00:00.000Z\t3f2b8c1e-9d4a-4b7e-8f00-12ab34cd56ef\tERROR\tpayment declined for order 4821733: card issuer returned code 5031"},
	{"secret", "2026-11-25T14:00:00.000Z\tERROR\tdeploy failed: token=ghp_R2x9LmQ7vT4kPz8WnB3cYd6FhJ1sA5eU0oIi with key AKIAIOSFODNN7EXAMPLE card 4111 1111 1111 1111"},
}

// BenchmarkRedaction measures Normalize, which redacts on every matching
// event (the grouping loop runs it), and Sample, which redacts the stored
// message once per incident and delivery, on each of benchLines.
func BenchmarkRedaction(b *testing.B) {
	for _, fn := range []struct {
		name string
		f    func(string) string
	}{{"Normalize", incident.Normalize}, {"Sample", incident.Sample}} {
		for _, bl := range benchLines {
			b.Run(fn.name+"/"+bl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(bl.line)))
				for b.Loop() {
					fn.f(bl.line)
				}
			})
		}
	}
}
