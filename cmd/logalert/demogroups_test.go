package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demo --parameter-overrides LogGroupNames=...: the groups are created as
// the user's, the emitter writes into both, the alarm fires, both get
// incidents, and -o json lists each incident with its log_group; the
// incidents commands then filter and count by group.
func TestDemoLogGroupNames(t *testing.T) {
	useMoto(t)
	stack := fmt.Sprintf("cligrp%d", demoRuns.Add(1))
	api, worker := "/shop/"+stack+"/api", "/shop/"+stack+"/worker"
	var stdout, stderr bytes.Buffer
	require.NoError(t, demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack, "--period", "1s", "--quiet", "--outbox", t.TempDir(),
		"--errors", "3", "--warnings", "0", "--infos", "1", "-o", "json",
		"--parameter-overrides", "LogGroupNames=" + api + "," + worker,
	}, &stdout, &stderr, os.Getenv), stderr.String())
	var res struct {
		Deployment struct {
			LogGroups []string `json:"log_groups"`
		} `json:"deployment"`
		Alarms []struct {
			Transitions []struct {
				New string `json:"new_state"`
			} `json:"transitions"`
		} `json:"alarms"`
		Incidents []struct {
			LogGroup string `json:"log_group"`
		} `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
	assert.Equal(t, []string{api, worker}, res.Deployment.LogGroups)
	require.Len(t, res.Alarms, 1)
	assert.Contains(t, fmt.Sprint(res.Alarms[0].Transitions), "ALARM")
	byGroup := map[string]int{}
	for _, in := range res.Incidents {
		byGroup[in.LogGroup]++
	}
	assert.Equal(t, map[string]int{api: 3, worker: 3}, byGroup)

	list, _, err := runCLI(t, "incidents", "list", "--stack", stack, "--log-group", worker, "-o", "json")
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(list, `"incident_id"`))
	assert.Equal(t, 3, strings.Count(list, `"log_group": "`+worker+`"`), list)
	stats, _, err := runCLI(t, "incidents", "stats", "--stack", stack, "-o", "json")
	require.NoError(t, err)
	var st struct {
		ByLogGroup map[string]struct {
			Incidents int `json:"incidents"`
		} `json:"by_log_group"`
	}
	require.NoError(t, json.Unmarshal([]byte(stats), &st), stats)
	assert.Equal(t, 3, st.ByLogGroup[api].Incidents)
	assert.Equal(t, 3, st.ByLogGroup[worker].Incidents)
}

// demo --parameter-overrides WatchAccount=true: the summary shows several
// groups watched, the processor's own excluded, and incidents in the other
// teams' groups but never in the processor's.
func TestDemoWatchAccount(t *testing.T) {
	useMoto(t)
	stack := fmt.Sprintf("cliacct%d", demoRuns.Add(1))
	var stdout, stderr bytes.Buffer
	require.NoError(t, demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack, "--period", "1s", "--quiet", "--outbox", t.TempDir(),
		"--errors", "3", "--warnings", "0", "--infos", "1",
		"--parameter-overrides", "WatchAccount=true",
	}, &stdout, &stderr, os.Getenv), stderr.String())
	out := stdout.String()
	proc := "/logalert/" + stack + "/processor"
	assert.Contains(t, out, "account policy     logalert-"+stack+": every log group but /logalert/"+stack+"/app, "+proc+"\n")
	var watched string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "watched groups     "); ok {
			watched = rest
		}
	}
	for _, g := range []string{"/aws/lambda/" + stack + "-orders", "/ecs/" + stack + "-web", "/logalert/" + stack + "/app"} {
		assert.Contains(t, watched, g)
		assert.Contains(t, out, " "+g+" ", "an incident in %s", g)
	}
	assert.NotContains(t, watched, proc)
	assert.NotContains(t, out, " "+proc+" ", "no incident from the processor's own group")
}

// demo --parameter-overrides MemberAccountIds=...: both member accounts
// run through Path B (their own group, the central destination, Kinesis)
// and Path A (the writer role, into the central group); -o json and
// incidents list show the incidents of both with their account_id, and
// --account keeps one account's.
func TestDemoMemberAccounts(t *testing.T) {
	useMoto(t)
	stack := fmt.Sprintf("climem%d", demoRuns.Add(1))
	const a, b = "111111111111", "222222222222"
	var stdout, stderr bytes.Buffer
	require.NoError(t, demo(t.Context(), []string{
		"--template", "../../template.yaml", "--stack", stack, "--period", "1s", "--quiet", "--outbox", t.TempDir(),
		"--errors", "2", "--warnings", "0", "--infos", "1", "-o", "json",
		"--parameter-overrides", "MemberAccountIds=" + a + "," + b,
	}, &stdout, &stderr, os.Getenv), stderr.String())
	var res struct {
		Deployment struct {
			AccountID  string `json:"account_id"`
			LogGroup   string `json:"log_group"`
			WriterRole string `json:"writer_role"`
			Parameters map[string]string
			Members    []struct {
				AccountID string   `json:"account_id"`
				LogGroups []string `json:"log_groups"`
			} `json:"members"`
		} `json:"deployment"`
		PathB struct {
			Kinesis struct {
				Processed int `json:"processed"`
			} `json:"kinesis"`
		} `json:"path_b"`
		Incidents []struct {
			AccountID   string `json:"account_id"`
			LogGroup    string `json:"log_group"`
			Occurrences int    `json:"occurrences"`
		} `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
	d := res.Deployment
	require.Len(t, d.Members, 2)
	assert.NotEmpty(t, d.WriterRole, "Path A's role, with the ExternalId the demo generated")
	assert.Regexp(t, `^demo-[0-9a-f]{16}$`, d.Parameters["WriterExternalId"])
	assert.Equal(t, 2, res.PathB.Kinesis.Processed, "one record per member account")
	type key struct{ account, group string }
	got := map[key]int{}
	for _, in := range res.Incidents {
		got[key{in.AccountID, in.LogGroup}] += in.Occurrences
	}
	assert.Equal(t, map[key]int{
		{d.AccountID, d.LogGroup}:      2 * 3, // the emitter's, and each member's through Path A
		{a, d.Members[0].LogGroups[0]}: 2,
		{b, d.Members[1].LogGroups[0]}: 2,
	}, got)

	list, _, err := runCLI(t, "incidents", "list", "--stack", stack, "-o", "json")
	require.NoError(t, err)
	for _, acct := range []string{a, b, d.AccountID} {
		assert.Contains(t, list, `"account_id": "`+acct+`"`)
	}
	only, _, err := runCLI(t, "incidents", "list", "--stack", stack, "--account", b, "-o", "json")
	require.NoError(t, err)
	assert.Positive(t, strings.Count(only, `"incident_id"`), only)
	assert.Equal(t, strings.Count(only, `"incident_id"`), strings.Count(only, `"account_id": "`+b+`"`), only)
	assert.NotContains(t, only, `"account_id": "`+a+`"`)
}
