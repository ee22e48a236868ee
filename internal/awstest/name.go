package awstest

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// NameMax is the length of the longest name Name returns: short enough
// for an S3 bucket (63) and for an SQS queue named after a stack
// ("<stack>-ProcessorDeadLetterQueue", 80).
const NameMax = 40

var (
	validPrefix = regexp.MustCompile(`^[a-z][a-z0-9-]{0,15}$`)
	notNameChar = regexp.MustCompile(`[^a-z0-9]+`)
	// run tells this process's names from those of earlier runs against
	// the same moto_server; seq tells them from each other.
	run = strconv.FormatUint(rand.Uint64N(36*36*36*36), 36)
	seq atomic.Uint64
)

// Name returns a fresh name for one test's own AWS resource (a table, a
// queue, a topic, a bucket, a log group's last part, a stack): prefix, as
// much of the end of tb.Name() as fits, and a suffix no other call in this
// process, nor likely in any other run, returns. A test that runs again
// (go test -count) or in another order (-shuffle) therefore never meets
// what an earlier run left behind.
//
// prefix is 1 to 16 characters of [a-z0-9-] starting with a letter; any
// other fails tb. The name is at most NameMax characters of [a-z0-9-],
// starts with prefix and ends with a letter or digit, which every AWS
// service the tests use accepts, S3 and CloudFormation stack names
// included.
func Name(tb testing.TB, prefix string) string {
	tb.Helper()
	if !validPrefix.MatchString(prefix) {
		tb.Fatalf("awstest.Name: prefix %q is not 1-16 characters of [a-z0-9-] starting with a letter", prefix)
	}
	suffix := run + strconv.FormatUint(seq.Add(1), 36)
	room := NameMax - len(prefix) - len(suffix) - 2 // two hyphens
	test := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(tb.Name()), "-"), "-")
	if len(test) > room {
		test = strings.TrimLeft(test[len(test)-room:], "-")
	}
	if test == "" {
		return prefix + "-" + suffix
	}
	return prefix + "-" + test + "-" + suffix
}
