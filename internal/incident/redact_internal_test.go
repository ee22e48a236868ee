package incident

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Redact runs its secret-pair regexps only on messages holding a trigger:
// a suffix without one would never be redacted.
func TestEverySecretKeySuffixHasATrigger(t *testing.T) {
	for _, suffix := range secretKeySuffixes {
		found := false
		for _, trigger := range secretTriggers {
			found = found || strings.Contains(suffix, trigger)
		}
		assert.True(t, found, "secret key suffix %q contains none of secretTriggers", suffix)
		assert.Equal(t, "my_"+suffix+"=<redacted>", Redact("my_"+suffix+"=s3cr3t"))
		assert.True(t, isSecretKey("my_"+strings.ToUpper(suffix)), "the normaliser misses %q", suffix)
	}
}
