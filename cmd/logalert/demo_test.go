package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoRuns numbers the demo runs, so that each has a stack of its own.
var demoRuns atomic.Int64

func TestDemoUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"argument", []string{"now"}, `demo takes no arguments, got ["now"]`},
		{"output", []string{"-o", "yaml"}, `--output must be text or json, not "yaml"`},
		{"period", []string{"--period", "-1s"}, "--period must not be negative"},
		{"count", []string{"--errors", "-1"}, "emit: bad request: counts must not be negative (error_count=-1, warn_count=2, info_count=10)"},
		{"overrides", []string{"--parameter-overrides", `ErrorPattern="?ERROR`}, "parameter overrides: unterminated \" quote"},
		{"fail deliveries", []string{"--fail-deliveries", "-1"}, "--fail-deliveries must be 0 or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"demo"}, tc.args...)...)
			var usage usageError
			require.ErrorAs(t, err, &usage)
			assert.EqualError(t, err, tc.want)
		})
	}
	_, stderr, err := runCLI(t, "demo", "-h")
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, stderr, "usage: logalert demo")
}

func TestFailFirst(t *testing.T) {
	fault := failFirst(2)
	ev := func(data string) events.CloudwatchLogsEvent {
		return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
	}
	assert.Error(t, fault(1, ev("a")))
	assert.Error(t, fault(1, ev("b")))
	assert.NoError(t, fault(1, ev("c")), "only the first two deliveries fail")
	assert.Error(t, fault(2, ev("a")), "every attempt of a doomed delivery fails")
	assert.Error(t, fault(3, ev("b")))
	assert.NoError(t, fault(2, ev("c")))
}

// --fail-deliveries puts a delivery in the dead-letter queue, for redrive to
// take it from there.
func TestDemoFailDeliveries(t *testing.T) {
	useMoto(t)
	stack := fmt.Sprintf("demo-fail-%d", demoRuns.Add(1))
	var stdout, stderr bytes.Buffer
	require.NoError(t, demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack, "--period", "1s", "--quiet", "--outbox", t.TempDir(),
		"--errors", "1", "--warnings", "0", "--infos", "0", "--fail-deliveries", "1", "-o", "json",
	}, &stdout, &stderr, os.Getenv)) // useMoto set AWS_ENDPOINT_URL
	var res struct {
		Invocations struct {
			DeadLettered int `json:"dead_lettered"`
		} `json:"invocations"`
		Incidents []json.RawMessage `json:"incidents"`
		DLQDepth  int               `json:"dlq_depth"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
	assert.Equal(t, 1, res.DLQDepth)
	assert.Equal(t, 1, res.Invocations.DeadLettered, "the one error event")
	assert.Empty(t, res.Incidents)

	out, _, err := runCLI(t, "redrive", "--stack", stack, "--local")
	require.NoError(t, err)
	assert.Contains(t, out, "redriven 1, failed 0, skipped 0")
	list, _, err := runCLI(t, "incidents", "list", "--stack", stack, "-o", "json")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(list, `"incident_id"`), "the redriven delivery counted")
}

// TestDemoRerun runs the demo twice in a row as make demo does, each run
// against a moto_server of its own: the second run's virtual clock starts
// at the same minute as the first's (same mail dates, same subjects), yet
// it succeeds and leaves the first run's emails as they were.
func TestDemoRerun(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "") // the demo starts its own moto_server
	outbox := filepath.Join(t.TempDir(), "outbox")
	args := []string{
		"--template", "../../template.yaml", "--period", "1s", "--quiet",
		"--errors", "1", "--warnings", "0", "--infos", "0", "--outbox", outbox,
	}
	getenv := func(k string) string {
		if k == "SMTP_ADDR" {
			return ""
		}
		return os.Getenv(k)
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, demo(t.Context(), args, &stdout, &stderr, getenv), "first run")
	first, err := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
	require.NoError(t, err)
	require.NotEmpty(t, first)
	before := map[string]string{}
	for _, f := range first {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		before[f] = string(data)
	}

	stdout.Reset()
	require.NoError(t, demo(t.Context(), args, &stdout, &stderr, getenv), "second run")
	all, err := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
	require.NoError(t, err)
	assert.Len(t, all, 2*len(first), "the second run's emails are added")
	runs, err := os.ReadDir(outbox)
	require.NoError(t, err)
	assert.Len(t, runs, 2, "a folder per run")
	for f, want := range before {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Equal(t, want, string(data), "the first run's %s is kept", f)
	}
}

// TestDemoCLI runs `logalert demo` against moto through AWS_ENDPOINT_URL,
// then finds its stack the way `make incidents` does.
func TestDemoCLI(t *testing.T) {
	endpoint := useMoto(t)
	outbox := filepath.Join(t.TempDir(), "outbox")
	stack := fmt.Sprintf("cli%d", demoRuns.Add(1)) // fresh for every -count
	var stdout, stderr bytes.Buffer
	err := demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack, "--period", "1s", "--quiet",
		"--errors", "3", "--warnings", "0", "--infos", "1", "--outbox", outbox,
	}, &stdout, &stderr, os.Getenv)
	require.NoError(t, err)
	assert.Empty(t, stderr.String(), "--quiet")
	out := stdout.String()
	emails, err := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
	require.NoError(t, err)
	assert.Len(t, emails, 6)
	require.NotEmpty(t, emails)
	runDir := filepath.Dir(emails[0])
	assert.Equal(t, outbox, filepath.Dir(runDir), "one folder for the run in the outbox")
	assert.True(t, strings.HasPrefix(out, "logalert demo: stack "+stack+", log group /logalert/"+stack+"/app ("), out)
	for _, want := range []string{
		"lines emitted      4 (3 errors, 0 warnings, 1 infos); 4 events stored in 1 PutLogEvents call",
		"metric             4 values (3 events matched the metric filter), sum 3, sent as 1 MetricDatum in 1 PutMetricData call",
		"alarm              " + stack + "-error-lines: now OK, 3 notifications published",
		"deliveries         1 payload of the 3 events the subscription matched: 1 processed, 0 dead-lettered (0 failed attempts)",
		"emails             6",
		"incidents          3 in " + stack + "-IncidentsTable",
		"dead-letter queue  0 messages",
		`Subject: ALARM: "` + stack + `-error-lines" in US East (N. Virginia)`,
		"look closer:",
		"  export AWS_ENDPOINT_URL=" + endpoint + " AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
		"  go run ./cmd/logalert incidents list --stack " + stack + "    # or: make incidents STACK_NAME=" + stack,
		"  ls " + runDir + "    # this run's emails, one .eml each",
	} {
		assert.Contains(t, out, want+"\n")
	}
	assert.Contains(t, out, "\n\nYou are receiving this email because your Amazon CloudWatch Alarm \""+stack+"-error-lines\" in the US East (N. Virginia) region has entered the ALARM state, because \"Threshold Crossed: 1 out of the last 1 datapoints [3.0 (",
		"the summary shows the alarm email")

	// The twin recorded the stack, so the commands that take --stack work.
	list, _, err := runCLI(t, "incidents", "list", "--stack", stack, "-o", "json")
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(list, `"incident_id"`), list)

	// -o json is the Result.
	stdout.Reset()
	require.NoError(t, demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack + "-json", "--period", "1s", "--quiet",
		"--errors", "0", "--warnings", "0", "--infos", "1", "--outbox", outbox, "-o", "json",
	}, &stdout, &stderr, os.Getenv))
	var res struct {
		Deployment struct {
			StackName string `json:"stack_name"`
		} `json:"deployment"`
		Emitted struct {
			Lines int `json:"lines"`
		} `json:"emitted"`
		Alarms []struct {
			Transitions []struct {
				Old string `json:"old_state"`
				New string `json:"new_state"`
			} `json:"transitions"`
		} `json:"alarms"`
		ElapsedSeconds float64           `json:"elapsed_seconds"`
		Incidents      []json.RawMessage `json:"incidents"`
		DLQDepth       *int              `json:"dlq_depth"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res))
	assert.Equal(t, stack+"-json", res.Deployment.StackName)
	assert.Equal(t, 1, res.Emitted.Lines)
	require.Len(t, res.Alarms, 1)
	require.Len(t, res.Alarms[0].Transitions, 1, "INSUFFICIENT_DATA -> OK only")
	assert.Equal(t, "INSUFFICIENT_DATA", res.Alarms[0].Transitions[0].Old)
	assert.Equal(t, "OK", res.Alarms[0].Transitions[0].New)
	assert.Greater(t, res.ElapsedSeconds, 0.0)
	assert.NotNil(t, res.Incidents, "incidents is a list, as in incidents list -o json")
	require.NotNil(t, res.DLQDepth)
	for _, goName := range []string{`"Deployment":`, `"Elapsed":`, `"Emitted":`, `"Time":`, `"Severity":`, `"DLQDepth":`} {
		assert.NotContains(t, stdout.String(), goName, "snake_case keys, like every other -o json")
	}
}
