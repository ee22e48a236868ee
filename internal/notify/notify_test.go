package notify_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
)

func TestMessage(t *testing.T) {
	first := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	in := incident.Incident{
		ID: "inc-123", LogGroup: "/logalert/app", LogStream: "2026/11/25/[$LATEST]ab", Status: incident.StatusOpen, Severity: incident.SeverityFatal,
		Occurrences: 7, FirstSeen: first, LastSeen: first.Add(time.Minute), Template: "FATAL disk <num> gone",
		SampleMessage: "FATAL disk 3 gone",
	}
	origin := notify.OriginOf(notify.Origin{Stack: "logalert", Alarm: "logalert-error-lines", Dashboard: "logalert-overview"}, "arn:aws:sns:eu-west-1:123456789012:alerts")
	tests := []struct {
		name        string
		change      incident.Change
		reopens     int64
		wantSubject string
		wantBody    []string
	}{
		{"opened", incident.Opened, 0, "[logalert] FATAL opened in /logalert/app: FATAL disk <num> gone",
			[]string{"incident opened, the first of its kind in this log group", "Occurrences:  7", "First seen:   2026-11-25T14:00:00Z", "FATAL disk 3 gone",
				"Stack:        logalert, account 123456789012, region eu-west-1\n",
				"credentials of account 123456789012",
				"  logalert incidents show inc-123 --stack logalert --region eu-west-1\n",
				"  logalert incidents ack inc-123 --stack logalert --region eu-west-1\n",
				"  logalert incidents resolve inc-123 --stack logalert --region eu-west-1\n",
				"Log stream:   2026/11/25/[$LATEST]ab\n",
				"logs-insights", "filter*20*40message*20like*20*2FFATAL*20disk*20.*2A*20gone*2F",
				"#logsV2:log-groups/log-group/$252Flogalert$252Fapp/log-events/2026$252F11$252F25$252F$255B$2524LATEST$255Dab",
				"#alarmsV2:alarm/logalert-error-lines", "#dashboards:name=logalert-overview"}},
		{"reopened", incident.Reopened, 2, "[logalert] FATAL reopened in /logalert/app: FATAL disk <num> gone",
			[]string{"incident reopened, back after it was resolved: reopen number 2", "Reopened:     2 time(s)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			in.ReopenCount = tc.reopens
			subject, body := notify.Message(in, tc.change, origin)
			assert.Equal(t, tc.wantSubject, subject)
			for _, w := range tc.wantBody {
				assert.Contains(t, body, w)
			}
		})
	}
}

// Without a stack name (a processor without STACK_NAME) the commands name
// the table; without a region there are no links, and nothing is left
// blank.
func TestMessageWithoutStack(t *testing.T) {
	in := incident.Incident{ID: "inc-1", LogGroup: "/g", Template: "ERROR x"}
	_, body := notify.Message(in, incident.Opened, notify.Origin{Table: "my table", Region: "us-east-1"})
	assert.Contains(t, body, "  logalert incidents show inc-1 --table 'my table' --region us-east-1\n")
	assert.NotContains(t, body, "Stack:        logalert")
	_, body = notify.Message(in, incident.Opened, notify.Origin{})
	assert.Contains(t, body, "  logalert incidents show inc-1\n")
	assert.NotContains(t, body, "https://")
	assert.NotContains(t, body, "Stack:")
	assert.NotContains(t, body, ":  \n", "no empty rows")
}

func TestOriginOf(t *testing.T) {
	o := notify.OriginOf(notify.Origin{Stack: "s"}, "arn:aws:sns:eu-west-1:123456789012:alerts")
	assert.Equal(t, notify.Origin{Stack: "s", Region: "eu-west-1", Account: "123456789012"}, o)
	o = notify.OriginOf(notify.Origin{Region: "us-east-1"}, "arn:aws:sns:eu-west-1:123456789012:alerts")
	assert.Equal(t, "us-east-1", o.Region, "a region given wins")
	assert.Equal(t, notify.Origin{}, notify.OriginOf(notify.Origin{}, "not an arn"))
}

func TestAttributes(t *testing.T) {
	a := notify.Attributes(incident.Incident{LogGroup: "/g", Severity: incident.SeverityCritical}, incident.Reopened)
	got := map[string]string{}
	for k, v := range a {
		assert.Equal(t, "String", *v.DataType)
		got[k] = *v.StringValue
	}
	assert.Equal(t, map[string]string{"severity": "CRITICAL", "log_group": "/g", "change": "reopened"}, got)
}

func TestSubjectIsValidForSNS(t *testing.T) {
	in := incident.Incident{LogGroup: "/g", Severity: incident.SeverityError, Template: "ERROR naïve\nline " + strings.Repeat("x", 200)}
	subject, _ := notify.Message(in, incident.Opened, notify.Origin{})
	assert.Less(t, len(subject), 100)
	for _, r := range subject {
		assert.True(t, r >= 0x20 && r <= 0x7e, "non-printable %q in subject", r)
	}
}

func TestInsightsURL(t *testing.T) {
	from := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	u := notify.InsightsURL("us-east-1", "/aws/lambda/x", "fields @message", from, from.Add(time.Hour))
	assert.True(t, strings.HasPrefix(u, "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights$3FqueryDetail$3D~(end~'2026-11-25T15*3A00*3A00.000Z~start~'2026-11-25T14*3A00*3A00.000Z"), u)
	assert.Contains(t, u, "editorString~'fields*20*40message~")
	assert.Contains(t, u, "source~(~'*2Faws*2Flambda*2Fx))")
	assert.NotContains(t, u, " ")

	// The query's own ( ) ~ ' ! * are escaped: they are the fragment's syntax.
	u = notify.InsightsURL("us-east-1", "/g", "filter @message like /a\\(b\\)~'!*/", from, from.Add(time.Hour))
	assert.Contains(t, u, "editorString~'filter*20*40message*20like*20*2Fa*5C*28b*5C*29*7E*27*21*2A*2F~source~(~'*2Fg))")
}

func TestIncidentQuery(t *testing.T) {
	tests := []struct {
		name, template, wantFilter string
	}{
		{"placeholders match anything", "ERROR db <ip> timeout after <num>ms", `| filter @message like /ERROR db .* timeout after .*ms/`},
		{"slashes and metacharacters escaped", "ERROR GET /api/v1?x=(1) [a]+b.c *", `| filter @message like /ERROR GET \/api\/v1\?x=\(1\) \[a\]\+b\.c \*/`},
		{"control characters match any", "FATAL a\nb\tc", `| filter @message like /FATAL a[\s\S]b[\s\S]c/`},
		{"quoted value", `ERROR user "<*>" denied <redacted>`, `| filter @message like /ERROR user ".*" denied /`},
		{"no fixed words: the group's latest lines", "<num> <ts>", ""},
		{"no template", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := notify.IncidentQuery(incident.Incident{Template: tc.template})
			assert.True(t, strings.HasPrefix(q, "fields @timestamp, @logStream, @message\n"), q)
			assert.True(t, strings.HasSuffix(q, "| sort @timestamp desc\n| limit 100"), q)
			if tc.wantFilter == "" {
				assert.NotContains(t, q, "filter")
				return
			}
			assert.Contains(t, q, "\n"+tc.wantFilter+"\n")
		})
	}
}

// The filter of a message's own incident matches the message, whatever it
// holds; a long template is matched on its bounded beginning.
func TestIncidentQueryMatchesItsMessages(t *testing.T) {
	for _, msg := range []string{
		"ERROR payment pool exhausted: 42 waiting, token=abc123secret",
		`ERROR GET /api/v1/users/42?q=(a|b) failed: [503] {"retry":true} $HOME ^x`,
		"CRITICAL user42 from 10.0.0.1 at 2026-11-25T14:00:00Z: req 0x7f3a",
		"FATAL café naïve 日本語 " + strings.Repeat("long words ", 60),
		"ERROR first line\n\tat second line",
	} {
		q := notify.IncidentQuery(incident.Incident{Template: incident.Normalize(msg)})
		m := regexp.MustCompile(`\n\| filter @message like /(.*)/\n`).FindStringSubmatch(q)
		require.NotNil(t, m, "no filter in %q", q)
		assert.NotRegexp(t, `(^|[^\\])/`, m[1], "an unescaped slash would end the literal")
		assert.LessOrEqual(t, len(m[1]), 3*250, "the filter is bounded")
		re, err := regexp.Compile(strings.ReplaceAll(m[1], `\/`, "/"))
		require.NoError(t, err)
		assert.True(t, re.MatchString(msg), "%s does not match %q", re, msg)
	}
}

func TestConsoleLinks(t *testing.T) {
	assert.Equal(t, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/a%20b", notify.AlarmURL("eu-west-1", "a b"))
	assert.Equal(t, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=s-overview", notify.DashboardURL("eu-west-1", "s-overview"))
	assert.Equal(t, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fx/log-events/s$2520t",
		notify.LogStreamURL("eu-west-1", "/aws/lambda/x", "s t"))
}
