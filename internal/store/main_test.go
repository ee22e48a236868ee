package store

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// motoURL is the endpoint of the moto_server TestMain started.
var motoURL string

func TestMain(m *testing.M) {
	os.Exit(awstest.RunWithMoto(context.Background(), m, "store", &motoURL))
}

// testEnv is one test's incidents table, created from template.yaml, with
// a proxy in front of moto that counts (and can fault) requests.
type testEnv struct {
	proxy *awstest.Proxy
	db    *dynamodb.Client
	table string
}

func newTestEnv(tb testing.TB) *testEnv {
	tb.Helper()
	proxy, err := awstest.NewProxy(motoURL)
	require.NoError(tb, err)
	tb.Cleanup(func() { proxy.Close() })
	cfg, err := awstest.Config(tb.Context(), proxy.URL)
	require.NoError(tb, err)
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(tb, err)
	db := dynamodb.NewFromConfig(cfg)
	table := awstest.Name(tb, "store")
	require.NoError(tb, provision.CreateTable(tb.Context(), db, tmpl, "IncidentsTable", table))
	proxy.ResetCounts()
	return &testEnv{proxy: proxy, db: db, table: table}
}

// direct returns a client of e's table that bypasses the proxy.
func (e *testEnv) direct(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	cfg, err := awstest.Config(tb.Context(), motoURL)
	require.NoError(tb, err)
	return dynamodb.NewFromConfig(cfg)
}

// store returns a Store on e's table.
func (e *testEnv) store(opts ...Option) *Store { return New(e.db, e.table, opts...) }

// clock is a controllable clock for WithClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// delta is one delivery's share of an incident in /app/orders.
func delta(template string, sev incident.Severity, count int64, first, last time.Time) incident.Delta {
	fp := incident.Fingerprint(template)
	return incident.Delta{
		ID: incident.ID("/app/orders", fp), LogGroup: "/app/orders", LogStream: "stream-1",
		Fingerprint: fp, Template: template, Severity: sev, Count: count,
		FirstSeen: first, LastSeen: last, Sample: template,
	}
}

// threeDeltas is a delivery with three incidents, as the processor groups
// a mixed batch.
func threeDeltas() []incident.Delta {
	t0 := time.Date(2026, 11, 25, 13, 59, 0, 0, time.UTC)
	return []incident.Delta{
		delta("ERROR order <num> failed", incident.SeverityError, 5, t0, t0.Add(4*time.Second)),
		delta("FATAL disk /dev/<id> unreadable", incident.SeverityFatal, 3, t0, t0.Add(2*time.Second)),
		delta("CRITICAL pool exhausted", incident.SeverityCritical, 2, t0, t0.Add(time.Second)),
	}
}
