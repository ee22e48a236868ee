package incident_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logalert/logalert/internal/incident"
)

// FuzzNormalize checks that any message normalises without panicking, to
// a bounded, valid template that is stable (normalising the same message
// twice gives the same template), and that a sample is valid and bounded.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"ERROR order 17 failed", `{"level":"ERROR","password":"x"}`, "password=", `"unclosed`, "'",
		"Authorization: Bearer", "AKIAIOSFODNN7EXAMPLE", "10.0.0.1:80", "\xff\xfe", "eyJ.a.b", "0x", "-1.-",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := incident.Normalize(msg)
		if got != incident.Normalize(msg) {
			t.Fatalf("unstable template for %q", msg)
		}
		// Every input byte becomes at most one placeholder of <= 10 bytes.
		if len(got) > 10*incident.MaxTemplateInput+10 {
			t.Fatalf("template of %d bytes", len(got))
		}
		if utf8.ValidString(msg) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 template %q from %q", got, msg)
		}
		s := incident.Sample(msg)
		if len(s) > incident.MaxSampleBytes || !utf8.ValidString(s) {
			t.Fatalf("bad sample %q", s)
		}
		if strings.Contains(msg, "password=hunter2") && strings.Contains(s, "hunter2") {
			t.Fatalf("secret survived in %q", s)
		}
	})
}
