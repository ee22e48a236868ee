package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// runCLI runs the CLI with args, an empty stdin and the process's
// environment (which the tests set with t.Setenv), and returns stdout,
// stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr, os.Getenv)
	return stdout.String(), stderr.String(), err
}

// runWith runs the CLI with stdin and the environment given as a map,
// and the OS user name username returns.
func runWith(t *testing.T, stdin string, environ map[string]string, username func() (string, error), args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.dispatch(t.Context(), args, &env{
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return environ[k] }, username: username,
	})
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
		{"bad output", []string{"test-pattern", "-o", "xml", "ERROR", logFile}, `--output must be table, json or yaml, not "xml"`},
		{"former output name", []string{"test-pattern", "-o", "text", "ERROR", logFile}, `--output must be table, json or yaml, not "text"`},
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

func TestTestPatternReadsRunsStdin(t *testing.T) {
	stdout, stderr, err := runWith(t, "INFO a\nERROR b\n", nil, nil, "test-pattern", "ERROR")
	require.NoError(t, err)
	assert.Equal(t, "2\tERROR b\n", stdout)
	assert.Equal(t, "1 of 2 lines matched\n", stderr, "no notice when stdin is not a terminal")

	stdout, _, err = runWith(t, "ERROR b\n", nil, nil, "test-pattern", "ERROR", "-", "-o", "yaml")
	require.NoError(t, err)
	assert.Equal(t, "- line: 1\n  match: true\n", stdout)
}

// Like grep, test-pattern exits 1 when no line matched, after saying so.
func TestTestPatternNoMatch(t *testing.T) {
	for _, output := range []string{"table", "json", "yaml"} {
		stdout, stderr, err := runWith(t, "INFO a\nINFO b\n", nil, nil, "test-pattern", "ERROR", "-o", output)
		require.ErrorIs(t, err, errNoMatch, output)
		var usage usageError
		assert.False(t, errors.As(err, &usage), "exit 1, not 2")
		assert.Equal(t, "0 of 2 lines matched\n", stderr)
		if output == "yaml" {
			assert.Equal(t, "- line: 1\n  match: false\n- line: 2\n  match: false\n", stdout, "one list of every line")
		}
	}
}

// The parser's *SyntaxError stays reachable through the usage error.
func TestTestPatternSyntaxError(t *testing.T) {
	_, _, err := runWith(t, "", nil, nil, "test-pattern", "[a, b")
	var usage usageError
	require.ErrorAs(t, err, &usage)
	var syntax *filterpattern.SyntaxError
	require.ErrorAs(t, err, &syntax)
	assert.Equal(t, 5, syntax.Pos)
	assert.Equal(t, "invalid pattern: "+syntax.Error(), err.Error())
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, isTerminal(f), "a file")
	assert.False(t, isTerminal(null), "/dev/null is a character device, not a terminal")
	assert.False(t, isTerminal(&bytes.Buffer{}))
	_, ok := terminalColumns(f)
	assert.False(t, ok)
}
