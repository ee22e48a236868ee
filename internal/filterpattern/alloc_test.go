package filterpattern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// TestMatchUnstructuredDoesNotAllocate asserts that matching a term pattern
// allocates nothing per event, whether the event matches or not.
func TestMatchUnstructuredDoesNotAllocate(t *testing.T) {
	tests := []struct {
		name, pattern string
	}{
		{"empty", ``},
		{"term", `ERROR`},
		{"terms", `ERROR ARGUMENTS`},
		{"phrase", `"INTERNAL SERVER ERROR"`},
		{"match everything", `" "`},
		{"or terms", `?ERROR ?WARN ?"Task timed out"`},
		{"exclusion", `ERROR -ARGUMENTS`},
		{"term groups", `?"ERROR" "MainThread" ?"WARN" "Deadlock"`},
		{"? terms ignored next to others", `?ERROR ?ARGUMENTS REQUEST`},
	}
	messages := []string{evBadRequest, evMissingArgs, evInternal, evAuthorized, ""}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			for _, msg := range messages {
				allocs := testing.AllocsPerRun(100, func() { p.Match(msg) })
				assert.Zero(t, allocs, "allocations matching %q", msg)
			}
		})
	}
}
