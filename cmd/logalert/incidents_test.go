package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/store"
)

func TestIncidentsViews(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"list", []string{"list"}, ""},
		{"list_open", []string{"list", "--status", "open"}, ""},
		{"list_log_group", []string{"list", "--log-group", seedWorker}, ""},
		{"list_since", []string{"list", "--since", "2026-11-25T14:01:00Z"}, ""},
		{"list_limit", []string{"list", "--limit", "2"}, "showing the 2 most recently seen incidents; --limit 0 lists them all\n"},
		{"list_width_80", []string{"list", "--width", "80"}, ""},
		{"list_json", []string{"list", "-o", "json", "--status", "resolved"}, ""},
		{"show", []string{"show", shortID(seedPool)}, ""},
		{"show_json", []string{"show", seedJob, "--output", "json"}, ""},
		{"stats", []string{"stats"}, ""},
		{"stats_json", []string{"stats", "-o", "json", "--log-group", seedApp}, ""},
		{"list_yaml", []string{"list", "-o", "yaml", "--status", "resolved"}, ""},
		{"show_yaml", []string{"show", seedJob, "--output=yaml"}, ""},
		{"stats_yaml", []string{"stats", "-o", "yaml", "--log-group", seedApp}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"incidents"}, tc.args...)
			stdout, stderr, err := runCLI(t, append(args, "--table", table)...)
			require.NoError(t, err, stderr)
			assert.Equal(t, tc.wantStderr, stderr)
			golden(t, "incidents_"+tc.name, stdout)
		})
	}
	t.Run("yaml and json say the same", func(t *testing.T) {
		asJSON, _, err := runCLI(t, "incidents", "list", "--table", table, "-o", "json")
		require.NoError(t, err)
		asYAML, _, err := runCLI(t, "incidents", "list", "--table", table, "-o", "yaml")
		require.NoError(t, err)
		var fromJSON, fromYAML []incidentView
		require.NoError(t, json.Unmarshal([]byte(asJSON), &fromJSON))
		require.NoError(t, yaml.Unmarshal([]byte(asYAML), &fromYAML))
		require.Len(t, fromJSON, 4)
		assert.Equal(t, fromJSON, fromYAML)
	})
	t.Run("no incidents", func(t *testing.T) {
		stdout, stderr, err := runCLI(t, "incidents", "list", "--table", table, "--log-group", "/nowhere")
		require.NoError(t, err)
		assert.Empty(t, stdout)
		assert.Equal(t, "no incidents\n", stderr)
		stdout, _, err = runCLI(t, "incidents", "list", "--table", table, "--log-group", "/nowhere", "-o", "json")
		require.NoError(t, err)
		assert.Equal(t, "[]\n", stdout)
	})
}

// TestIncidentsAccounts seeds, beside the processor's own incidents, one
// of a member account in a group of the same name and one stored before
// accounts were recorded (no owner), and shows, filters and counts them by
// account.
func TestIncidentsAccounts(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	const member = "111111111111"
	p := processor(t, endpoint, table, func() time.Time { return seedTime })
	require.NoError(t, p.Handle(t.Context(), deliveryFrom(t, member, seedApp, event{"14:04:00", "ERROR db timeout after 3000 ms on 10.0.0.12"})))
	require.NoError(t, p.Handle(t.Context(), deliveryFrom(t, "", "/logalert/demo/legacy", event{"14:05:00", "ERROR old"})))
	incidents := func(args ...string) (string, string, error) {
		return runCLI(t, append(append([]string{"incidents"}, args...), "--table", table)...)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{{"list_accounts", []string{"list"}}, {"stats_by_account", []string{"stats", "--by-account"}}} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := incidents(tc.args...)
			require.NoError(t, err, stderr)
			golden(t, "incidents_"+tc.name, stdout)
		})
	}
	t.Run("list --account", func(t *testing.T) {
		stdout, stderr, err := incidents("list", "--account", member, "-o", "json")
		require.NoError(t, err, stderr)
		var got []incidentView
		require.NoError(t, json.Unmarshal([]byte(stdout), &got))
		require.Len(t, got, 1)
		assert.Equal(t, member, got[0].AccountID)
		assert.Equal(t, seedApp, got[0].LogGroup)
		assert.NotEqual(t, seedTimeout, got[0].ID, "one group name, two accounts: two incidents")

		stdout, _, err = incidents("list", "--account", homeAccount, "--limit", "1", "-o", "json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal([]byte(stdout), &got))
		require.Len(t, got, 1, "--limit counts the account's incidents")
		assert.Equal(t, homeAccount, got[0].AccountID)
		assert.Equal(t, seedUpstream, got[0].ID, "the home account's most recent")
	})
	t.Run("show --account picks among the accounts", func(t *testing.T) {
		_, _, err := incidents("show", "inc-")
		require.ErrorIs(t, err, store.ErrAmbiguous)
		stdout, stderr, err := incidents("show", "inc-", "--account", member)
		require.NoError(t, err, stderr)
		assert.Contains(t, stdout, "Account          "+member+"\n")
		_, _, err = incidents("show", seedTimeout, "--account", member)
		assert.ErrorIs(t, err, store.ErrNotFound, "the home account's incident is not the member's")
	})
	t.Run("stats --account", func(t *testing.T) {
		stdout, stderr, err := incidents("stats", "--account", member, "-o", "json")
		require.NoError(t, err, stderr)
		var got statsView
		require.NoError(t, json.Unmarshal([]byte(stdout), &got))
		assert.Equal(t, tallyView{Incidents: 1, Occurrences: 1}, got.Total)
		assert.Equal(t, map[string]tallyView{member: {Incidents: 1, Occurrences: 1}}, got.ByAccount)
	})
	t.Run("export --account", func(t *testing.T) {
		stdout, stderr, err := incidents("export", "--account", member)
		require.NoError(t, err, stderr)
		var got report
		require.NoError(t, json.Unmarshal([]byte(stdout), &got))
		assert.Equal(t, member, got.Filter.Account)
		require.Len(t, got.Incidents, 1)
		assert.Equal(t, member, got.Incidents[0].AccountID)
		assert.Equal(t, map[string]tallyView{member: {Incidents: 1, Occurrences: 1}}, got.Summary.ByAccount)
	})
	t.Run("a bad account is a usage error", func(t *testing.T) {
		for _, cmd := range []string{"list", "show", "stats", "export"} {
			args := []string{cmd, "--account", "12345"}
			if cmd == "show" {
				args = append(args, "inc-1")
			}
			_, _, err := incidents(args...)
			var usage usageError
			require.ErrorAs(t, err, &usage, cmd)
			assert.ErrorContains(t, err, `--account "12345": want a 12-digit AWS account id`)
		}
	})
}

func TestIncidentsListFitsTheWidth(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	for _, width := range []string{"80", "100", "132"} {
		stdout, _, err := runCLI(t, "incidents", "list", "--table", table, "--width", width)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			assert.LessOrEqual(t, len([]rune(line)), map[string]int{"80": 80, "100": 100, "132": 132}[width], line)
		}
	}
}

func TestIncidentsAckResolve(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	incidents := func(args ...string) (string, string, error) {
		return runCLI(t, append(append([]string{"incidents"}, args...), "--table", table)...)
	}
	show := func(id string) incidentView {
		t.Helper()
		stdout, _, err := incidents("show", id, "-o", "json")
		require.NoError(t, err)
		var v incidentView
		require.NoError(t, json.Unmarshal([]byte(stdout), &v))
		return v
	}
	before := show(seedTimeout)

	stdout, _, err := incidents("ack", shortID(seedTimeout), "--by", "carol")
	require.NoError(t, err)
	assert.Equal(t, "acknowledged "+seedTimeout+" by carol: ERROR db timeout after <num> ms on <ip>\n", stdout)
	acked := show(seedTimeout)
	assert.Equal(t, "ACKNOWLEDGED", acked.Status)
	assert.Equal(t, "carol", acked.AcknowledgedBy)
	assert.Equal(t, before.Version+1, acked.Version)
	ackedAt, err := time.Parse(time.RFC3339, acked.AcknowledgedAt)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ackedAt, time.Minute)
	assert.Equal(t, before.Occurrences, acked.Occurrences)

	_, _, err = incidents("ack", seedTimeout, "--by", "dave", "--strict")
	require.ErrorIs(t, err, incident.ErrTransition)
	assert.Contains(t, err.Error(), "cannot acknowledge incident "+seedTimeout+": it is ACKNOWLEDGED (acknowledged by carol at ")
	assert.Equal(t, acked.Version, show(seedTimeout).Version, "a refused change writes nothing")

	// Without --strict, one already acknowledged is a notice, not a failure.
	stdout, stderr, err := incidents("ack", seedTimeout, "--by", "dave")
	require.NoError(t, err)
	assert.Empty(t, stdout)
	assert.Equal(t, seedTimeout+" is already acknowledged (by carol at "+ackedAt.UTC().Format(time.RFC3339)+"): nothing to do\n", stderr)
	assert.Equal(t, acked.Version, show(seedTimeout).Version, "and writes nothing")

	// Resolve takes several incidents; --by defaults to $USER (tester).
	stdout, _, err = incidents("resolve", seedTimeout, seedUpstream, "-o", "json")
	require.NoError(t, err)
	var resolved []incidentView
	require.NoError(t, json.Unmarshal([]byte(stdout), &resolved))
	require.Len(t, resolved, 2)
	for _, v := range resolved {
		assert.Equal(t, "RESOLVED", v.Status)
		assert.Equal(t, "tester", v.ResolvedBy)
	}
	assert.Equal(t, "carol", resolved[0].AcknowledgedBy, "resolving keeps who acknowledged")

	// One refused, one unknown, one fine: the fine one is done, both errors reported.
	stdout, _, err = incidents("resolve", seedJob, "inc-ffffffff", seedPool, "--by", "erin", "--strict")
	require.Error(t, err)
	assert.ErrorIs(t, err, incident.ErrTransition)
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), "it is RESOLVED (resolved by bob at 2026-11-25T14:15:00Z)")
	assert.Contains(t, err.Error(), "no incident inc-ffffffff in table "+table)
	assert.Equal(t, "resolved "+seedPool+" by erin: CRITICAL payment pool exhausted: <num> waiting, token=<redacted>\n", stdout)

	stdout, stderr, err = incidents("resolve", seedJob, "-o", "json")
	require.NoError(t, err, "resolving a RESOLVED incident is done already")
	assert.Equal(t, seedJob+" is already resolved (by bob at 2026-11-25T14:15:00Z): nothing to do\n", stderr)
	require.NoError(t, json.Unmarshal([]byte(stdout), &resolved))
	require.Len(t, resolved, 1, "-o json lists it as it is")
	assert.Equal(t, "bob", resolved[0].ResolvedBy)

	_, _, err = incidents("ack", seedJob)
	require.ErrorIs(t, err, incident.ErrTransition, "a RESOLVED incident cannot be acknowledged")

	_, _, err = incidents("show", "inc-")
	require.ErrorIs(t, err, store.ErrAmbiguous)
	assert.Regexp(t, `^ambiguous incident ID prefix: "inc-" matches inc-[0-9a-f]+, inc-[0-9a-f]+, inc-[0-9a-f]+, inc-[0-9a-f]+: type more of the ID$`, err.Error(),
		"the candidates, and no package name")
}

func TestIncidentsReopenAfterResolve(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	_, _, err := runCLI(t, "incidents", "resolve", seedTimeout, "--table", table)
	require.NoError(t, err)
	p := processor(t, endpoint, table, time.Now)
	show := func() incidentView {
		stdout, _, err := runCLI(t, "incidents", "show", seedTimeout, "--table", table, "-o", "json")
		require.NoError(t, err)
		var v incidentView
		require.NoError(t, json.Unmarshal([]byte(stdout), &v))
		return v
	}

	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedApp, event{"14:20:00", "ERROR db timeout after 999 ms on 10.0.0.99"})))
	v := show()
	assert.Equal(t, "RESOLVED", v.Status, "an error from before the resolve reopens nothing")
	assert.Equal(t, int64(4), v.Occurrences, "but it is counted")

	later := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedApp, event{later, "ERROR db timeout after 998 ms on 10.0.0.98"})))
	v = show()
	assert.Equal(t, "OPEN", v.Status, "a new occurrence reopens a resolved incident")
	assert.Equal(t, int64(1), v.ReopenCount)
	assert.Equal(t, int64(5), v.Occurrences)
	assert.Equal(t, "tester", v.ResolvedBy, "who resolved it last stays on record")
}

// createStack creates a CloudFormation stack in moto whose outputs are the
// given literal values (and one queue, so that it has a resource).
func createStack(t *testing.T, endpoint, name string, outputs map[string]string) {
	t.Helper()
	outs := map[string]any{}
	for k, v := range outputs {
		outs[k] = map[string]any{"Value": v}
	}
	body, err := json.Marshal(map[string]any{
		"Resources": map[string]any{"Placeholder": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
		"Outputs":   outs,
	})
	require.NoError(t, err)
	cfn := cloudformation.NewFromConfig(testConfig(t, endpoint))
	_, err = cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: &name, TemplateBody: aws.String(string(body))})
	require.NoError(t, err)
}

func TestIncidentsFindTheTable(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	stack := uniqueName(t, "logalert", 100)
	createStack(t, endpoint, stack, map[string]string{outputTable: table})
	createStack(t, endpoint, stack+"-old", map[string]string{"Other": "x"})

	count := func(t *testing.T, stdout string) int {
		var vs []incidentView
		require.NoError(t, json.Unmarshal([]byte(stdout), &vs))
		return len(vs)
	}
	t.Run("stack output", func(t *testing.T) {
		stdout, _, err := runCLI(t, "incidents", "list", "--stack", stack, "-o", "json")
		require.NoError(t, err)
		assert.Equal(t, 4, count(t, stdout))
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(tableEnv, table)
		stdout, _, err := runCLI(t, "incidents", "list", "-o", "json")
		require.NoError(t, err)
		assert.Equal(t, 4, count(t, stdout))
	})
	t.Run("default stack from the environment", func(t *testing.T) {
		t.Setenv(stackEnv, stack)
		stdout, _, err := runCLI(t, "incidents", "list", "-o", "json")
		require.NoError(t, err)
		assert.Equal(t, 4, count(t, stdout))
		t.Setenv(stackEnv, "nope")
		_, _, err = runCLI(t, "incidents", "list")
		assert.EqualError(t, err, "stack nope (from $LOGALERT_STACK) not found in us-east-1 (check --stack and AWS_REGION)")
	})
	t.Run("default stack from samconfig.toml", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		require.NoError(t, os.WriteFile(filepath.Join(dir, samconfigFile), []byte("version = 0.1\n[default.global.parameters]\nstack_name = \""+stack+"\"\n"), 0o600))
		stdout, _, err := runCLI(t, "incidents", "list", "-o", "json")
		require.NoError(t, err)
		assert.Equal(t, 4, count(t, stdout))
		_, _, err = runCLI(t, "incidents", "list", "--table", table)
		require.NoError(t, err, "a flag beats the default")
	})
	tests := []struct {
		name    string
		args    []string
		usage   bool
		wantErr string
	}{
		{"nothing", nil, true, "no incidents table: pass --table NAME or --stack NAME, or set LOGALERT_TABLE"},
		{"both", []string{"--table", table, "--stack", stack}, true, "--table and --stack are exclusive"},
		{"missing stack", []string{"--stack", "nope"}, false, "stack nope not found in us-east-1 (check --stack and AWS_REGION)"},
		{"stack without the output", []string{"--stack", stack + "-old"}, false, "stack " + stack + "-old has no IncidentsTableName output: pass --table"},
		{"missing table", []string{"--table", "nope"}, false, "table nope (or its by-status-shard index) not found in us-east-1: check --table/--stack/$LOGALERT_TABLE and AWS_REGION"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"incidents", "list"}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			var usage usageError
			assert.Equal(t, tc.usage, errors.As(err, &usage), "usage error (exit 2)")
		})
	}
}

func TestIncidentsUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"incidents"}, "incidents: missing subcommand"},
		{"unknown subcommand", []string{"incidents", "frob"}, `incidents: unknown subcommand "frob"`},
		{"bad status", []string{"incidents", "list", "--status", "closed", "--table", "t"}, `--status must be open, acknowledged or resolved, not "closed"`},
		{"bad since", []string{"incidents", "list", "--since", "yesterday", "--table", "t"}, `--since "yesterday": want a duration`},
		{"bad output", []string{"incidents", "stats", "-o", "xml", "--table", "t"}, `--output must be table, json or yaml, not "xml"`},
		{"show without id", []string{"incidents", "show", "--table", "t"}, "incidents show takes one incident ID"},
		{"ack without id", []string{"incidents", "ack", "--table", "t"}, "incidents ack takes one or more incident IDs"},
		{"ack without anyone", []string{"incidents", "ack", "inc-1", "--by", "", "--table", "t"}, "--by is required"},
		{"list with an argument", []string{"incidents", "list", "extra", "--table", "t"}, `incidents list takes no arguments, got "extra"`},
		{"export bad format", []string{"incidents", "export", "-o", "csv", "--table", "t"}, `--output must be table, json or yaml, not "csv"`},
		{"export bad format, former flag", []string{"incidents", "export", "--format", "csv", "--table", "t"}, `--output must be table, json or yaml, not "csv"`},
		{"export bad s3", []string{"incidents", "export", "--s3", "bucket/prefix", "--table", "t"}, `--s3 "bucket/prefix": want s3://bucket or s3://bucket/prefix`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			var usage usageError
			require.ErrorAs(t, err, &usage)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

// syncBuffer is a bytes.Buffer for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestIncidentsWatch(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"incidents", "list", "--watch", "--interval", "50ms", "--status", "open", "--width", "160", "--table", table}, strings.NewReader(""), &stdout, &stderr, os.Getenv)
	}()
	lines := func() []string { return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") }
	require.Eventually(t, func() bool { return len(lines()) == 3 }, 10*time.Second, 20*time.Millisecond, "the header and the two OPEN incidents")

	// A new incident and a new occurrence of a listed one show up as rows.
	p := processor(t, endpoint, table, time.Now)
	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedApp,
		event{"14:30:00", "ERROR disk /var/lib/data is full"},
		event{"14:30:01", "ERROR db timeout after 1 ms on 10.0.0.1"})))
	require.Eventually(t, func() bool { return len(lines()) == 5 }, 10*time.Second, 20*time.Millisecond, stdout.String())
	got := lines()
	assert.Contains(t, got[3]+got[4], shortID(seedTimeout))
	assert.Contains(t, got[3]+got[4], "ERROR disk")
	// Acknowledging moves it out of OPEN: no further row, and no repeat of the others.
	st := store.New(dynamodb.NewFromConfig(testConfig(t, endpoint)), table)
	_, err := st.Acknowledge(t.Context(), seedUpstream, "alice")
	require.NoError(t, err)
	// A later change is the condition to wait for: the poll that shows it
	// has seen the acknowledgement too, so by then a row for it, or a
	// repeat, would be there.
	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedApp,
		event{"14:31:00", "ERROR disk /var/lib/logs is full"})))
	require.Eventually(t, func() bool { return len(lines()) >= 6 }, 10*time.Second, 20*time.Millisecond, stdout.String())
	got = lines()
	assert.Len(t, got, 6, stdout.String())
	assert.Contains(t, got[5], "ERROR disk", "the later change, and nothing for the acknowledgement")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "Ctrl-C ends a watch cleanly")
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop")
	}
	assert.Equal(t, "watching for new and changed incidents every 50ms; Ctrl-C stops\n", stderr.String())
}

// With -o json, --watch writes one object per line; with -o yaml, each
// incident as an item of one list.
func TestIncidentsWatchStructured(t *testing.T) {
	tests := []struct {
		output string
		parse  func(string) []incidentView
	}{
		{"json", func(out string) []incidentView {
			var views []incidentView
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var v incidentView
				if json.Unmarshal([]byte(line), &v) == nil {
					views = append(views, v)
				}
			}
			return views
		}},
		{"yaml", func(out string) []incidentView {
			var views []incidentView
			if yaml.Unmarshal([]byte(out), &views) != nil {
				return nil
			}
			return views
		}},
	}
	for _, tc := range tests {
		t.Run(tc.output, func(t *testing.T) {
			endpoint := useMoto(t)
			table := seed(t, endpoint)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"incidents", "list", "--watch", "--interval", "50ms", "-o", tc.output, "--table", table}, strings.NewReader(""), &stdout, &stderr, os.Getenv)
			}()
			views := func() []incidentView { return tc.parse(stdout.String()) }
			require.Eventually(t, func() bool { return len(views()) == 4 }, 10*time.Second, 20*time.Millisecond)
			st := store.New(dynamodb.NewFromConfig(testConfig(t, endpoint)), table)
			_, err := st.Acknowledge(t.Context(), seedTimeout, "alice")
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(views()) == 5 }, 10*time.Second, 20*time.Millisecond, stdout.String())
			last := views()[4]
			assert.Equal(t, seedTimeout, last.ID)
			assert.Equal(t, "ACKNOWLEDGED", last.Status)
			cancel()
			require.NoError(t, <-done)
		})
	}
}

func TestIncidentsMigrateIndex(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	// As a version before the sharded index wrote them: no status_shard.
	db := dynamodb.NewFromConfig(testConfig(t, endpoint))
	for _, id := range []string{seedTimeout, seedPool, seedUpstream, seedJob} {
		_, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: id}},
			UpdateExpression: aws.String("REMOVE status_shard"),
		})
		require.NoError(t, err)
	}
	_, stderr, err := runCLI(t, "incidents", "list", "--table", table)
	require.NoError(t, err)
	assert.Equal(t, "no incidents\n", stderr, "the index misses them")

	stdout, stderr, err := runCLI(t, "incidents", "migrate-index", "--table", table)
	require.NoError(t, err, stderr)
	assert.Equal(t, table+": 4 incidents lacked status_shard: 4 migrated, 0 already had it by then\n", stdout)
	assert.Contains(t, stderr, "scanned 4 incidents without status_shard so far\n")

	stdout, _, err = runCLI(t, "incidents", "list", "--table", table)
	require.NoError(t, err)
	golden(t, "incidents_list", stdout)

	stdout, _, err = runCLI(t, "incidents", "migrate-index", "--table", table)
	require.NoError(t, err)
	assert.Equal(t, table+": 0 incidents lacked status_shard: 0 migrated, 0 already had it by then\n", stdout, "a second run finds nothing left")

	_, _, err = runCLI(t, "incidents", "migrate-index", "--table", table, "extra")
	assert.Error(t, err, "no positional arguments")
}
