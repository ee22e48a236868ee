package email

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// trimLines removes trailing spaces from every line.
func trimLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return lines
}

func TestAlarmEmailMatchesRealEmail(t *testing.T) {
	want, err := os.ReadFile("testdata/alarm-email-lambda-canary.txt")
	require.NoError(t, err)
	desc, reason := "lambda-canary-alarm", "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (19/06/20 18:22:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
	msg := alarm.Message{
		AlarmName: "lambda-canary-alarm", AlarmDescription: &desc, AWSAccountID: "123456789",
		NewStateValue: alarm.StateAlarm, NewStateReason: reason, StateChangeTime: "2020-06-19T18:27:44.123+0000",
		Region: "US West (Oregon)", AlarmARN: "arn:aws:cloudwatch:us-west-2:298518306606:alarm:lambda-canary-alarm",
		OldStateValue: alarm.StateOK, OKActions: []string{}, AlarmActions: []string{"arn:aws:sns:us-west-2:123456789:SysOpsTeamPager"},
		InsufficientDataActions: []string{},
		Trigger: alarm.Trigger{
			MetricName: "Errors", Namespace: "AWS/Lambda", StatisticType: "Statistic", Statistic: "SUM",
			Dimensions: []alarm.TriggerDimension{{Value: "lambda-canary", Name: "FunctionName"}},
			Period:     300, EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
			Threshold: 1, TreatMissingData: "missing",
		},
	}
	body, err := json.Marshal(msg)
	require.NoError(t, err)
	parsed, ok := parseAlarmMessage(string(body))
	require.True(t, ok)
	got := AlarmEmail(parsed)
	assert.Equal(t, trimLines(string(want)), trimLines(got))
	assert.Equal(t, got, emailText(string(body)), "email subscribers get the text")
}

func TestParseAlarmMessage(t *testing.T) {
	tests := []struct {
		name, msg string
		ok        bool
	}{
		{"plain text", "logalert: incident opened", false},
		{"other JSON", `{"AlarmName":"x"}`, false},
		{"broken JSON", `{"AlarmName":`, false},
		{"composite alarm", `{"AlarmName":"c","NewStateValue":"ALARM","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:c","AlarmRule":"ALARM(a)"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := parseAlarmMessage(tc.msg)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.msg, emailText(tc.msg), "anything else is mailed as it is")
		})
	}
}

func TestMailBytes(t *testing.T) {
	date := time.Date(2026, 11, 25, 14, 3, 1, 0, time.UTC)
	tests := []struct {
		name, subject, body, encoding string
	}{
		{"ascii", `ALARM: "errors" in US East (N. Virginia)`, "line one\nline two\n", "7bit"},
		{"utf-8", "Störung: Zahlung abgelehnt", "Grüße\n", "quoted-printable"},
		{"long line", "long", strings.Repeat("x", 1200), "quoted-printable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Mail{FromName: "logalert prod", To: "ops@example.com", Subject: tc.subject, Date: date,
				MessageID: "abc-000000@email.amazonses.com", Headers: map[string]string{"x-amz-sns-message-id": "abc"}, Body: tc.body}
			raw := m.Bytes()
			assert.NotContains(t, strings.ReplaceAll(string(raw), "\r\n", ""), "\n", "CRLF line ends only")
			msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
			require.NoError(t, err)
			h := msg.Header
			from, err := mail.ParseAddress(h.Get("From"))
			require.NoError(t, err)
			assert.Equal(t, mail.Address{Name: "logalert prod", Address: "no-reply@sns.amazonaws.com"}, *from)
			assert.Equal(t, "<ops@example.com>", h.Get("To"))
			subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			require.NoError(t, err)
			assert.Equal(t, tc.subject, subject)
			d, err := h.Date()
			require.NoError(t, err)
			assert.True(t, date.Equal(d))
			assert.Equal(t, "<abc-000000@email.amazonses.com>", h.Get("Message-ID"))
			assert.Equal(t, "1.0", h.Get("MIME-Version"))
			assert.Equal(t, "text/plain; charset=UTF-8", h.Get("Content-Type"))
			assert.Equal(t, tc.encoding, h.Get("Content-Transfer-Encoding"))
			assert.Equal(t, "abc", h.Get("x-amz-sns-message-id"))
			r := msg.Body
			if tc.encoding == "quoted-printable" {
				r = quotedprintable.NewReader(r)
			}
			body, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(tc.body, "\n"), strings.TrimSuffix(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n"))
		})
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	start := time.Date(2026, 11, 25, 14, 5, 9, 0, time.UTC) // real time: the run's folder
	o := &Outbox{Dir: dir, Now: func() time.Time { return start }}
	assert.Empty(t, o.RunDir(), "no folder before the first mail")
	m := &Mail{FromName: snsSenderName, To: "ops@example.com", Subject: `OK: "app-errors" in US East (N. Virginia)`,
		Date: time.Date(2026, 11, 25, 14, 3, 1, 0, time.UTC), MessageID: "x@y", Body: "hello\n"}
	p1, err := o.Send(t.Context(), m)
	require.NoError(t, err)
	p2, err := o.Send(t.Context(), m)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "20261125T140509Z", "20261125T140301Z-001-ok-app-errors-in-us-east-n-virginia-ops@example.com.eml"), p1)
	assert.Equal(t, filepath.Join(dir, "20261125T140509Z"), o.RunDir())
	assert.NotEqual(t, p1, p2)
	data, err := os.ReadFile(p1)
	require.NoError(t, err)
	assert.Equal(t, string(m.Bytes()), string(data))
}

// A rerun whose clocks start where the last run's did (make demo twice in
// a second: the same real second, the same virtual minute) writes the same
// mails again into a folder of its own and overwrites none.
func TestOutboxRerun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	start := func() time.Time { return time.Date(2026, 11, 25, 14, 5, 9, 0, time.UTC) }
	mail := func(body string) *Mail {
		return &Mail{FromName: snsSenderName, To: "ops@example.com", Subject: `ALARM: "app-errors" in US East (N. Virginia)`,
			Date: time.Date(2026, 11, 25, 14, 3, 1, 0, time.UTC), MessageID: "x@y", Body: body}
	}
	var runs [][]string
	for run := 1; run <= 3; run++ {
		o := &Outbox{Dir: dir, Now: start}
		var paths []string
		for i := range 2 {
			p, err := o.Send(t.Context(), mail(fmt.Sprintf("run %d mail %d\n", run, i)))
			require.NoError(t, err, "run %d", run)
			paths = append(paths, p)
		}
		runs = append(runs, paths)
	}
	assert.Equal(t, filepath.Join(dir, "20261125T140509Z"), filepath.Dir(runs[0][0]))
	assert.Equal(t, filepath.Join(dir, "20261125T140509Z-2"), filepath.Dir(runs[1][0]))
	assert.Equal(t, filepath.Join(dir, "20261125T140509Z-3"), filepath.Dir(runs[2][0]))
	for run, paths := range runs {
		assert.Equal(t, filepath.Base(runs[0][0]), filepath.Base(paths[0]), "the same names, in another folder")
		for i, p := range paths {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, string(mail(fmt.Sprintf("run %d mail %d\n", run+1, i)).Bytes()), string(data), "nothing overwritten")
		}
	}
	all, err := filepath.Glob(filepath.Join(dir, "*", "*.eml"))
	require.NoError(t, err)
	assert.Len(t, all, 6)
}

func TestOutboxUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	o := &Outbox{Dir: file}
	_, err := o.Send(t.Context(), &Mail{To: "ops@example.com", Subject: "s", Date: time.Now()})
	assert.ErrorContains(t, err, "outbox: ")
	assert.ErrorIs(t, err, syscall.ENOTDIR)
}

func TestURIComponent(t *testing.T) {
	assert.Equal(t, "Alarm%3A%20Network%20In", uriComponent("Alarm: Network In"))
	assert.Equal(t, "logalert-error-lines", uriComponent("logalert-error-lines"))
}
