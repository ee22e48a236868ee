package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/motoserver"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
	"github.com/logalert/logalert/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// moto is the moto_server of the tests that need one, started on first use.
var moto struct {
	once   sync.Once
	server *motoserver.Server
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if moto.server != nil {
		moto.server.Stop()
	}
	os.Exit(code)
}

// useMoto starts moto_server if need be and points the SDK's standard
// chain at it through the environment, as a user would with
// AWS_ENDPOINT_URL. It returns the endpoint.
func useMoto(t *testing.T) string {
	t.Helper()
	moto.once.Do(func() { moto.server, moto.err = motoserver.Start(context.Background()) })
	require.NoError(t, moto.err)
	useEndpoint(t, moto.server.URL)
	return moto.server.URL
}

// useEndpoint points the SDK at endpoint with test credentials, and clears
// the variables the CLI reads.
func useEndpoint(t *testing.T, endpoint string) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": awstest.Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		tableEnv: "", stackEnv: "", "INCIDENTS_TABLE": "", "ALERTS_TOPIC_ARN": "", "INCIDENT_PATTERN": "", "USER": "tester",
	} {
		t.Setenv(k, v)
	}
}

func testConfig(t *testing.T, endpoint string) aws.Config {
	t.Helper()
	cfg, err := awstest.Config(t.Context(), endpoint)
	require.NoError(t, err)
	return cfg
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9-]+`)

// names numbers the names uniqueName makes.
var names atomic.Int64

// uniqueName is a resource name of at most maxLen characters (lower case,
// digits and dashes) made of prefix, the test's name and a suffix that no
// other call in this process and no earlier run shares: every test, every
// -count and every -shuffle order gets fresh tables, queues, buckets and
// stacks in the moto_server the package's tests share.
func uniqueName(t testing.TB, prefix string, maxLen int) string {
	t.Helper()
	suffix := fmt.Sprintf("-%d-%s", names.Add(1), rand.Text()[:6])
	base := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(prefix+"-"+t.Name()), "-"), "-")
	if room := maxLen - len(suffix); len(base) > room {
		base = strings.TrimRight(base[:room], "-")
	}
	return strings.ToLower(base + suffix)
}

// newTable creates an incidents table from template.yaml, named after the test.
func newTable(t *testing.T, endpoint string) string {
	t.Helper()
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(t, err)
	name := uniqueName(t, "cli", 255)
	require.NoError(t, provision.CreateTable(t.Context(), dynamodb.NewFromConfig(testConfig(t, endpoint)), tmpl, "IncidentsTable", name))
	return name
}

// seedTime is when the seeded incidents were written.
var seedTime = time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)

// event is one log line of a seeded delivery.
type event struct {
	at  string // 15:04:05 on 2026-11-25 UTC, or an RFC 3339 time
	msg string
}

// subscriptionEvent encodes one subscription delivery of events from the
// processor's own account.
func subscriptionEvent(t *testing.T, logGroup string, evs ...event) events.CloudwatchLogsEvent {
	t.Helper()
	return deliveryFrom(t, homeAccount, logGroup, evs...)
}

// homeAccount is the account of the seeded processor (HomeAccount).
const homeAccount = "123456789012"

// deliveryFrom encodes one subscription delivery of events of owner's
// logGroup.
func deliveryFrom(t *testing.T, owner, logGroup string, evs ...event) events.CloudwatchLogsEvent {
	t.Helper()
	p := &awslogs.Payload{
		MessageType: awslogs.MessageTypeData, Owner: owner, LogGroup: logGroup,
		LogStream: "2026/11/25/[$LATEST]5f0c1a", SubscriptionFilters: []string{"logalert-errors"},
	}
	for i, e := range evs {
		ts, err := time.Parse(time.RFC3339, e.at)
		if err != nil {
			ts, err = time.Parse(time.DateTime, "2026-11-25 "+e.at)
		}
		require.NoError(t, err)
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: fmt.Sprintf("%s-%d-%d", logGroup, ts.Unix(), i), Timestamp: ts.UnixMilli(), Message: e.msg})
	}
	data, err := awslogs.Encode(p)
	require.NoError(t, err)
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
}

// processor returns the pipeline on table, stamping writes with now.
func processor(t *testing.T, endpoint, table string, now func() time.Time) *pipeline.Processor {
	t.Helper()
	pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
	require.NoError(t, err)
	cfg := pipeline.Config{Table: table, Pattern: pattern, Limits: awslogs.DefaultLimits, HomeAccount: homeAccount}
	c := testConfig(t, endpoint)
	return pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithClock(now),
		pipeline.WithLogger(slog.New(slog.DiscardHandler)))
}

// Seeded incidents, by log group and template.
const (
	seedApp    = "/logalert/demo/app"
	seedWorker = "/logalert/demo/worker"
)

var (
	seedTimeout  = incidentOf(seedApp, "ERROR db timeout after 3000 ms on 10.0.0.12")
	seedPool     = incidentOf(seedApp, "CRITICAL payment pool exhausted: <num> waiting, token=sk_live_abc123")
	seedUpstream = incidentOf(seedApp, "ERROR upstream https://api.example.com/v1/orders/12345 returned 503 Service Unavailable after 3 retries (request 7f3a9c2e-1b4d-4c8e-9a2f-3d5e6f708192)")
	seedJob      = incidentOf(seedWorker, "FATAL job 8812 crashed: out of memory")
)

// incidentOf is the ID of the incident that msg belongs to in logGroup.
func incidentOf(logGroup, msg string) string {
	return incident.ID(logGroup, incident.Fingerprint(incident.Normalize(msg)))
}

// seed fills a new table as the processor would: four incidents in two
// log groups, the payment one acknowledged by alice and the job one
// resolved by bob, all at fixed times. It returns the table's name.
func seed(t *testing.T, endpoint string) string {
	t.Helper()
	table := newTable(t, endpoint)
	p := processor(t, endpoint, table, func() time.Time { return seedTime })
	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedApp,
		event{"14:00:00", "ERROR db timeout after 3000 ms on 10.0.0.12"},
		event{"14:00:05", "ERROR db timeout after 2500 ms on 10.0.0.13"},
		event{"14:01:10", "ERROR db timeout after 4100 ms on 10.0.0.12"},
		event{"14:02:00", "CRITICAL payment pool exhausted: 42 waiting, token=sk_live_abc123"},
		event{"14:03:30", "ERROR upstream https://api.example.com/v1/orders/12345 returned 503 Service Unavailable after 3 retries (request 7f3a9c2e-1b4d-4c8e-9a2f-3d5e6f708192)"},
	)))
	require.NoError(t, p.Handle(t.Context(), subscriptionEvent(t, seedWorker,
		event{"13:30:00", "FATAL job 8812 crashed: out of memory"},
		event{"13:45:00", "FATAL job 9034 crashed: out of memory"},
	)))
	st := store.New(dynamodb.NewFromConfig(testConfig(t, endpoint)), table,
		store.WithClock(func() time.Time { return seedTime.Add(10 * time.Minute) }))
	_, err := st.Acknowledge(t.Context(), seedPool, "alice")
	require.NoError(t, err)
	_, err = st.Resolve(t.Context(), seedJob, "bob")
	require.NoError(t, err)
	return table
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), got, "differs from %s (go test -update rewrites it)", path)
}

// commandPaths are the commands and subcommands that take flags.
var commandPaths = [][]string{
	{"test-pattern"}, {"demo"}, {"redrive"},
	{"incidents", "list"}, {"incidents", "show"}, {"incidents", "ack"}, {"incidents", "resolve"},
	{"incidents", "stats"}, {"incidents", "export"},
}

var (
	flagInUsage = regexp.MustCompile(`(?m)^\s+(?:-(\w), )?--([\w-]+)`)
	outputEntry = regexp.MustCompile(`(?m)^\s+-o, --output format\s+.*\btable\b.*\bjson\b.*\byaml\b`)
)

// Every synopsis lists every flag, and every command has one -o, --output
// entry naming the same three formats.
func TestSynopsesListEveryFlag(t *testing.T) {
	for _, path := range commandPaths {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			_, stderr, err := runCLI(t, append(path, "-h")...)
			require.ErrorIs(t, err, flag.ErrHelp)
			synopsis, flags, ok := strings.Cut(stderr, "\n\nflags:\n")
			require.True(t, ok, stderr)
			assert.True(t, strings.HasPrefix(synopsis, "usage: logalert "+strings.Join(path, " ")+" "), synopsis)
			found := flagInUsage.FindAllStringSubmatch(flags, -1)
			require.NotEmpty(t, found)
			for _, m := range found {
				long := "--" + m[2]
				if m[1] != "" {
					assert.Contains(t, synopsis, "-"+m[1]+" ", "the synopsis shows %s by its short name", long)
					continue
				}
				assert.Contains(t, synopsis, long, "the synopsis lists %s", long)
			}
			assert.Regexp(t, outputEntry, flags)
			assert.Contains(t, synopsis, "-o ")
		})
	}
}

// A mistake in the flags is reported once: the usage goes to stderr, the
// error is returned for main to print.
func TestUnknownFlagReportedOnce(t *testing.T) {
	for _, path := range commandPaths {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			stdout, stderr, err := runCLI(t, append(path, "--nope")...)
			var usage usageError
			require.ErrorAs(t, err, &usage)
			assert.EqualError(t, err, "flag provided but not defined: --nope")
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "usage: logalert "+strings.Join(path, " "))
			assert.NotContains(t, stderr, "nope", "main prints the error, once")
		})
	}
	_, _, err := runCLI(t, "incidents", "list", "-x")
	assert.EqualError(t, err, "flag provided but not defined: -x")
}
