package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs the CLI with args and returns stdout, stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func writeLines(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

func TestTestPattern(t *testing.T) {
	logFile := writeLines(t,
		`INFO started`,
		`ERROR disk full`,
		`{"level":"ERROR","latency":120}`,
		`CRITICAL pool exhausted`,
		`{"level":"INFO","latency":7}`,
	)
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{"default error pattern", []string{"test-pattern", "?ERROR ?FATAL ?CRITICAL", logFile},
			"2\tERROR disk full\n3\t{\"level\":\"ERROR\",\"latency\":120}\n4\tCRITICAL pool exhausted\n", "3 of 5 lines matched\n"},
		{"json pattern with metric value", []string{"test-pattern", "--metric-value", "$.latency", `{ $.latency > 100 }`, logFile},
			"3\t120\t{\"level\":\"ERROR\",\"latency\":120}\n", "1 of 5 lines matched\n"},
		{"flags after the pattern", []string{"test-pattern", `{ $.latency > 100 }`, logFile, "-o", "json", "--metric-value", "1", "--default-value", "0"},
			`{"line":1,"match":false,"value":0}` + "\n" + `{"line":2,"match":false,"value":0}` + "\n" + `{"line":3,"match":true,"value":1}` + "\n" +
				`{"line":4,"match":false,"value":0}` + "\n" + `{"line":5,"match":false,"value":0}` + "\n", "1 of 5 lines matched\n"},
		{"json without metric", []string{"test-pattern", "--output=json", "ERROR", logFile},
			`{"line":1,"match":false}` + "\n" + `{"line":2,"match":true}` + "\n" + `{"line":3,"match":true}` + "\n" + `{"line":4,"match":false}` + "\n" + `{"line":5,"match":false}` + "\n",
			"2 of 5 lines matched\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(t, tc.args...)
			require.NoError(t, err)
			assert.Equal(t, tc.wantStdout, stdout)
			assert.Equal(t, tc.wantStderr, stderr)
		})
	}
}

func TestTestPatternUsageErrors(t *testing.T) {
	logFile := writeLines(t, "ERROR x")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"invalid pattern", []string{"test-pattern", "[a, b", logFile}, "invalid pattern: filterpattern: at "},
		{"no pattern", []string{"test-pattern"}, "test-pattern takes PATTERN"},
		{"bad output", []string{"test-pattern", "-o", "xml", "ERROR", logFile}, "--output must be text or json"},
		{"default without metric", []string{"test-pattern", "--default-value", "0", "ERROR", logFile}, "--default-value needs --metric-value"},
		{"unknown flag", []string{"test-pattern", "--nope", "ERROR"}, "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			var usage usageError
			require.ErrorAs(t, err, &usage, "a usage error exits 2")
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestTestPatternRejectsOverlongLine(t *testing.T) {
	path := writeLines(t, "ERROR ok", strings.Repeat("x", maxLine+1))
	_, _, err := runCLI(t, "test-pattern", "ERROR", path)
	assert.ErrorContains(t, err, "line 2 is longer than 1024 KiB")
}
