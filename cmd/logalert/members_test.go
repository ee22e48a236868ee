package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/local"
)

// A member account's batch that the processor keeps failing ends in the
// dead-letter queue as the event source mapping's on-failure record (the
// shard and sequence numbers, not the data); logalert redrive --local reads
// the records back from the stream and records their incidents, once, in
// the member's account.
func TestRedriveLocalKinesisFailure(t *testing.T) {
	url := useMoto(t)
	cfg, err := awstest.Config(t.Context(), url)
	require.NoError(t, err)
	stack := fmt.Sprintf("climemfail%d", demoRuns.Add(1))
	const a, b = "111111111111", "222222222222"
	group := "/" + stack + "/orders"
	// Every attempt at a batch with a line of member b fails.
	fromB := func(_ int, ev events.CloudwatchLogsEvent) error {
		p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
		if err == nil && p.Owner == b {
			return fmt.Errorf("made to fail: a delivery of %s", b)
		}
		return nil
	}
	tw, err := local.New(t.Context(), cfg, local.Config{
		Template: "../../template.yaml", StackName: stack, Period: time.Second,
		Overrides:       map[string]string{"MemberAccountIds": a + "," + b, "AlarmEmail": demoEmail},
		MemberOverrides: map[string]string{"LogGroupNames": group},
		KinesisFault:    local.FaultPerRecord(fromB),
	})
	require.NoError(t, err)
	for _, acct := range []string{a, b} {
		w, err := tw.MemberWriter(acct, group, "app/1")
		require.NoError(t, err)
		require.NoError(t, w.WriteLines(t.Context(), []string{"ERROR order 7 lost", "ERROR order 8 lost", "INFO fine"}))
	}
	require.NoError(t, tw.Run(t.Context()))
	res, err := tw.Result(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, res.PathB.Kinesis.Processed, "member a's record")
	assert.Equal(t, 1, res.PathB.Kinesis.FailureRecords, "member b's, after its retries")
	assert.Equal(t, 1, res.DLQDepth)
	for _, in := range res.Incidents {
		assert.Equal(t, a, in.AccountID, "nothing of b's is recorded yet")
	}

	out, _, err := runCLI(t, "redrive", "--stack", stack, "--local")
	require.NoError(t, err)
	assert.Contains(t, out, "redriven 1, failed 0")
	list, _, err := runCLI(t, "incidents", "list", "--stack", stack, "--account", b, "-o", "json")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(list, `"incident_id"`), list)
	assert.Contains(t, list, `"occurrences": 2`, "both of b's lines, once")

	out, _, err = runCLI(t, "redrive", "--stack", stack, "--local")
	require.NoError(t, err)
	assert.Contains(t, out, "the dead-letter queue is empty", "nothing is redriven twice")
}
