package awstest_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/awstest"
)

// valid is what S3 bucket names allow, the strictest of the services the
// tests use: CloudFormation stack names also need the first letter.
var valid = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

func TestName(t *testing.T) {
	tests := []struct {
		name, prefix string
	}{
		{"plain", "incidents"},
		{"prefix with hyphen", "dlq-x"},
		{"long prefix", "abcdefghijklmnop"},
		{"Subtest/with spaces, UPPER case & symbols!", "t"},
		{strings.Repeat("very_long_test_name_", 20), "inbox"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for range 1000 {
				got := awstest.Name(t, tc.prefix)
				assert.LessOrEqual(t, len(got), awstest.NameMax, got)
				assert.Regexp(t, valid, got)
				assert.True(t, strings.HasPrefix(got, tc.prefix+"-"), got)
				assert.False(t, seen[got], "%s returned twice", got)
				seen[got] = true
			}
		})
	}
}

func TestNameKeepsTheEndOfTheTestName(t *testing.T) {
	t.Run("with email", func(t *testing.T) {
		assert.Regexp(t, `^stack-[a-z0-9-]*-with-email-[a-z0-9]+$`, awstest.Name(t, "stack"))
	})
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestNameRejectsABadPrefix(t *testing.T) {
	for _, prefix := range []string{"", "Upper", "1digit", "under_score", "seventeen-chars-x"} {
		t.Run(prefix, func(t *testing.T) {
			tb := &fatalTB{TB: t}
			awstest.Name(tb, prefix)
			assert.Equal(t, fmt.Sprintf("awstest.Name: prefix %q is not 1-16 characters of [a-z0-9-] starting with a letter", prefix), tb.fatal)
		})
	}
}
