package local

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/incident"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestWriteSummary(t *testing.T) {
	at := func(m, s int) time.Time { return time.Date(2026, 11, 25, 14, m, s, 0, time.UTC) }
	r := &Result{
		Deployment: Deployment{StackName: "logalert", LogGroup: "/logalert/logalert/app", Table: "logalert-IncidentsTable"},
		Elapsed:    21600 * time.Millisecond,
		Emitted:    emit.Summary{Errors: 5, Warnings: 2, Infos: 10, Lines: 17},
		Shipped:    ShipStats{Events: 17, Batches: 1},
		Metrics:    MetricStats{Events: 17, Matched: 5, Samples: 17, Sum: 5, Datums: 1, Requests: 1},
		Alarms: []AlarmResult{{Name: "logalert-error-lines", State: alarm.StateOK, Published: 3, Transitions: []alarm.Transition{
			{Old: alarm.StateInsufficientData, New: alarm.StateOK, Time: at(0, 1)},
			{Old: alarm.StateOK, New: alarm.StateAlarm, Time: at(1, 1)},
			{Old: alarm.StateAlarm, New: alarm.StateOK, Time: at(4, 1)},
		}}},
		Deliveries:  SubscriptionStats{Events: 18, Matched: 6, Deliveries: 2},
		Invocations: InvokeStats{Events: 2, Invocations: 4, FailedAttempts: 3, Succeeded: 1, DeadLettered: 1},
		Emails:      []email.SentMail{{Where: "outbox/20261125T140001Z-001-ok-logalert-error-lines-in-us-east-n-virginia-alerts@example.com.eml"}},
		Incidents: []incident.Incident{
			{ID: "inc-2fb7c411afaad9be1580ead2", Severity: incident.SeverityError, Status: incident.StatusOpen, Occurrences: 2, SampleMessage: "ERROR payment declined order=1003 amount=13.03 run=run-20261125T140000.000"},
			{ID: "inc-d41802257399fa5da0dfb9b9", Severity: incident.SeverityCritical, Status: incident.StatusOpen, Occurrences: 1, SampleMessage: "CRITICAL database connection pool exhausted"},
		},
		DLQDepth: 1,
	}
	var b bytes.Buffer
	require.NoError(t, r.WriteSummary(&b))
	const golden = "testdata/summary.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())
}
