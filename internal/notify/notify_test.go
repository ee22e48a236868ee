package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
)

func TestMessage(t *testing.T) {
	first := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	in := incident.Incident{
		ID: "inc-123", LogGroup: "/logalert/app", Status: incident.StatusOpen, Severity: incident.SeverityFatal,
		Occurrences: 7, FirstSeen: first, LastSeen: first.Add(time.Minute), Template: "FATAL disk <num> gone",
		SampleMessage: "FATAL disk 3 gone",
	}
	tests := []struct {
		name        string
		change      incident.Change
		reopens     int64
		wantSubject string
		wantBody    []string
	}{
		{"opened", incident.Opened, 0, "[logalert] FATAL opened in /logalert/app: FATAL disk <num> gone",
			[]string{"incident opened", "Occurrences:  7", "First seen:   2026-11-25T14:00:00Z", "FATAL disk 3 gone", "logalert incidents show inc-123", "logs-insights"}},
		{"reopened", incident.Reopened, 2, "[logalert] FATAL reopened in /logalert/app: FATAL disk <num> gone",
			[]string{"incident reopened", "Reopened:     2 time(s)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			in.ReopenCount = tc.reopens
			subject, body := notify.Message(in, tc.change, "eu-west-1")
			assert.Equal(t, tc.wantSubject, subject)
			for _, w := range tc.wantBody {
				assert.Contains(t, body, w)
			}
		})
	}
}

func TestSubjectIsValidForSNS(t *testing.T) {
	in := incident.Incident{LogGroup: "/g", Severity: incident.SeverityError, Template: "ERROR naïve\nline " + strings.Repeat("x", 200)}
	subject, _ := notify.Message(in, incident.Opened, "")
	assert.Less(t, len(subject), 100)
	for _, r := range subject {
		assert.True(t, r >= 0x20 && r <= 0x7e, "non-printable %q in subject", r)
	}
}

func TestInsightsURL(t *testing.T) {
	from := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	u := notify.InsightsURL("us-east-1", "/aws/lambda/x", from, from.Add(time.Hour))
	assert.True(t, strings.HasPrefix(u, "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights$3FqueryDetail$3D~(end~'2026-11-25T15*3A00*3A00.000Z~start~'2026-11-25T14*3A00*3A00.000Z"), u)
	assert.Contains(t, u, "source~(~'*2Faws*2Flambda*2Fx))")
	assert.NotContains(t, u, " ")
}
