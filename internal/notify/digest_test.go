package notify_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// storm is a digest of n incidents of /app/orders, every fifth reopened,
// the i-th seen i+1 times; the last one is CRITICAL.
func storm(n int) notify.Digest {
	from := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	d := notify.Digest{LogGroup: "/app/orders", From: from, To: from.Add(5 * time.Minute)}
	for i := range n {
		in := incident.Incident{
			ID: fmt.Sprintf("inc-%024x", i), LogGroup: d.LogGroup, Severity: incident.SeverityError,
			Occurrences: int64(i + 1), FirstSeen: from.Add(time.Duration(i) * time.Second), LastSeen: from.Add(time.Duration(i+1) * time.Second),
			Template: fmt.Sprintf("ERROR order <num> failed: kind %d", i),
		}
		change := incident.Opened
		if i%5 == 4 {
			change = incident.Reopened
		}
		if i == n-1 {
			in.Severity = incident.SeverityCritical
			in.Template = "CRITICAL a pattern long enough to be cut in the list of the digest, with a line\nbreak and more words after it"
		}
		d.Alerts = append(d.Alerts, notify.Alert{Incident: in, Change: change})
	}
	return d
}

// The digest message of a storm, pinned in testdata/digest.golden
// (go test -update rewrites it).
func TestDigestMessage(t *testing.T) {
	origin := notify.OriginOf(notify.Origin{Stack: "logalert", Alarm: "logalert-error-lines", Dashboard: "logalert-overview"}, "arn:aws:sns:eu-west-1:123456789012:alerts")
	subject, body := notify.DigestMessage(storm(195), origin)
	got := subject + "\n\n" + body
	golden := filepath.Join("testdata", "digest.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func TestDigestSubjectAndAttributes(t *testing.T) {
	tests := []struct {
		name         string
		d            notify.Digest
		wantSubject  string
		wantSeverity string
		wantBody     []string
	}{
		{"opened and reopened", storm(7), "[logalert] digest: 7 more incidents opened or reopened in /app/orders", "CRITICAL",
			[]string{"Incidents:    7 (6 opened, 1 reopened)\n", "--log-group '/app/orders' --since 2026-11-25T14:00:01Z --limit 0\n"}},
		{"opened only", storm(3), "[logalert] digest: 3 more incidents opened in /app/orders", "CRITICAL",
			[]string{"Incidents:    3 (3 opened, 0 reopened)\n"}},
		{"reopened only", notify.Digest{LogGroup: "/my group", Alerts: []notify.Alert{
			{Incident: incident.Incident{ID: "inc-1", LogGroup: "/my group", Severity: incident.SeverityWarn}, Change: incident.Reopened}}},
			"[logalert] digest: 1 more incidents reopened in /my group", "WARN",
			[]string{"logalert incidents list --log-group '/my group' --since"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subject, body := notify.DigestMessage(tc.d, notify.Origin{})
			assert.Equal(t, tc.wantSubject, subject)
			for _, w := range tc.wantBody {
				assert.Contains(t, body, w)
			}
			assert.NotContains(t, body, "https://", "no links without a region")
			attrs := notify.DigestAttributes(tc.d)
			assert.Equal(t, tc.wantSeverity, aws.ToString(attrs["severity"].StringValue))
			assert.Equal(t, tc.d.LogGroup, aws.ToString(attrs["log_group"].StringValue))
			assert.Equal(t, "digest", aws.ToString(attrs["change"].StringValue))
		})
	}
}
