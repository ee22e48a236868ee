package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/local"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/redrive"
)

// TestDemo runs the demo's flow against moto and checks every hop: the
// emitter's lines in the log group, the metric filter's datapoints in
// CloudWatch, the alarm going to ALARM and back to OK in CloudWatch, the
// emails SNS would send, the exact incident counts in DynamoDB, and a
// delivery the processor keeps failing ending in the dead-letter queue
// with its original payload.
func TestDemo(t *testing.T) {
	ctx := t.Context()
	cfg := newConfig(t, motoURL)
	outbox := t.TempDir()
	const (
		oncall = "oncall@example.com"
		failed = "forced-failure" // the log stream whose deliveries fail
	)
	// A stack of its own, so that -count=N runs against one moto do not
	// see each other's data.
	stack := awstest.Name(t, "e2e")
	var (
		mu     sync.Mutex
		forced []string // the payloads the fault failed
	)
	fault := func(attempt int, ev events.CloudwatchLogsEvent) error {
		p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
		if err != nil || p.LogStream != failed {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		forced = append(forced, ev.AWSLogs.Data)
		return fmt.Errorf("forced failure of attempt %d", attempt)
	}
	tw, err := local.New(ctx, cfg, local.Config{
		Template:  "../template.yaml",
		StackName: stack,
		Overrides: map[string]string{"AlarmEmail": oncall},
		Period:    time.Second,
		Mailer:    &email.Outbox{Dir: outbox},
		Fault:     fault,
	})
	require.NoError(t, err)
	dep := tw.Deployment()
	require.Len(t, dep.Alarms, 1)
	alarmName := dep.Alarms[0]
	assert.Equal(t, "/logalert/"+stack+"/app", dep.LogGroup)

	// Watch the alarm's state in CloudWatch while the twin runs.
	cw := cloudwatch.NewFromConfig(cfg, local.QueryProtocol)
	states := watchAlarm(t, cw, alarmName)

	start := time.Now()
	req := emit.Request{ErrorCount: ptr(6), WarnCount: ptr(2), InfoCount: ptr(4)}
	sum, err := tw.Emit(ctx, req)
	require.NoError(t, err)
	canary := "ERROR canary: every delivery of this stream fails"
	require.NoError(t, tw.Writer(failed).WriteLines(ctx, []string{canary}))
	require.NoError(t, tw.Run(ctx))
	observed := states()
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	t.Logf("settled in %s (clock ×%g)", time.Since(start).Round(10*time.Millisecond), tw.Clock().Scale())

	t.Run("lines", func(t *testing.T) {
		assert.Equal(t, emit.Summary{RunID: sum.RunID, LogGroup: dep.LogGroup, Errors: 6, Warnings: 2, Infos: 4, Lines: 12, Bytes: sum.Bytes}, sum)
		assert.Equal(t, 13, res.Shipped.Events, "the emitter's lines and the canary")
		assert.Equal(t, 2, res.Shipped.Batches, "one PutLogEvents per stream")
	})

	t.Run("datapoints", func(t *testing.T) {
		// Every line is a datapoint: 1 for the 7 error lines, the
		// DefaultValue 0 for the others; all in one minute.
		out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("LogAlert/" + stack), MetricName: aws.String("ErrorCount"),
			StartTime: aws.Time(tw.Clock().Now().Add(-time.Hour)), EndTime: aws.Time(tw.Clock().Now().Add(time.Hour)),
			Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount},
		})
		require.NoError(t, err)
		require.Len(t, out.Datapoints, 1)
		assert.Equal(t, 7.0, aws.ToFloat64(out.Datapoints[0].Sum))
		assert.Equal(t, 13.0, aws.ToFloat64(out.Datapoints[0].SampleCount))
		assert.Equal(t, local.MetricStats{Events: 13, Matched: 7, Samples: 13, Sum: 7, Datums: 1, Requests: 1}, res.Metrics)
	})

	var alarmReason string
	t.Run("alarm", func(t *testing.T) {
		require.Len(t, res.Alarms, 1)
		a := res.Alarms[0]
		var got []string
		for _, tr := range a.Transitions {
			got = append(got, string(tr.Old)+" -> "+string(tr.New))
		}
		assert.Equal(t, []string{"INSUFFICIENT_DATA -> OK", "OK -> ALARM", "ALARM -> OK"}, got)
		require.Len(t, a.Transitions, 3)
		alarmReason = a.Transitions[1].Reason
		assert.Regexp(t, `^Threshold Crossed: 1 out of the last 1 datapoints \[7\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was greater than or equal to the threshold \(1\.0\) \(minimum 1 datapoint for OK -> ALARM transition\)\.$`, alarmReason)
		assert.Equal(t, 3, a.Published)

		assert.Contains(t, observed, "ALARM", "CloudWatch held the ALARM state")
		i := slices.Index(observed, "ALARM")
		assert.Equal(t, []string{"ALARM", "OK"}, observed[i:], "then OK")
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarmName}})
		require.NoError(t, err)
		require.Len(t, out.MetricAlarms, 1)
		m := out.MetricAlarms[0]
		assert.Equal(t, cwtypes.StateValueOk, m.StateValue)
		assert.Equal(t, a.Transitions[2].Reason, aws.ToString(m.StateReason))
		assert.Equal(t, "LogAlert/"+stack, aws.ToString(m.Namespace))
		assert.Equal(t, int32(60), aws.ToInt32(m.Period))
		assert.Equal(t, "notBreaching", aws.ToString(m.TreatMissingData))
	})

	t.Run("emails", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
		require.NoError(t, err)
		var sent []string
		for _, m := range res.Emails {
			sent = append(sent, m.Where)
			assert.Equal(t, oncall, m.To)
		}
		assert.ElementsMatch(t, files, sent)
		mails := map[string]*parsedMail{}
		for _, f := range files {
			m := readMail(t, f)
			assert.Equal(t, `"logalert `+stack+`" <no-reply@sns.amazonaws.com>`, m.from, "the topic's display name")
			assert.Equal(t, "<"+oncall+">", m.to)
			mails[m.subject] = m
		}
		// Three alarm notifications and one per incident opened (three).
		require.Len(t, files, 6, "subjects: %v", keys(mails))
		alarmMail := mails[`ALARM: "`+stack+`-error-lines" in US East (N. Virginia)`]
		require.NotNil(t, alarmMail, "subjects: %v", keys(mails))
		body := alarmMail.body
		assert.True(t, strings.HasPrefix(body, `You are receiving this email because your Amazon CloudWatch Alarm "`+stack+`-error-lines" in the US East (N. Virginia) region has entered the ALARM state, because "`+alarmReason+`" at "`), body)
		for _, line := range []string{
			"https://us-east-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=us-east-1#alarmsV2:alarm/" + stack + "-error-lines",
			"- Name:                       " + stack + "-error-lines",
			"- State Change:               OK -> ALARM",
			"- Reason for State Change:    " + alarmReason,
			"- AWS Account:                123456789012",
			"- Alarm Arn:                  arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + stack + "-error-lines",
			"- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 1.0 for at least 1 of the last 1 period(s) of 60 seconds. ",
			"- MetricNamespace:                     LogAlert/" + stack,
			"- MetricName:                          ErrorCount",
			"- Statistic:                           Sum",
			"- TreatMissingData:                    notBreaching",
			"- ALARM: [arn:aws:sns:us-east-1:123456789012:" + stack + "-AlertsTopic]",
			"If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:",
		} {
			assert.Contains(t, strings.Split(body, "\n"), line)
		}
		assert.NotNil(t, mails[`OK: "`+stack+`-error-lines" in US East (N. Virginia)`])
		opened := 0
		for subject, m := range mails {
			if strings.HasPrefix(subject, "[logalert] ") && strings.Contains(subject, " opened in /logalert/"+stack+"/app: ") {
				opened++
				assert.Contains(t, m.body, "logalert: incident opened, the first of its kind")
				// Commands that run as pasted in a shell with the stack's
				// region and credentials.
				assert.Regexp(t, `\n  logalert incidents show inc-[0-9a-f]+ --stack `+stack+` --region us-east-1\n`, m.body)
				assert.Contains(t, m.body, "Stack:        "+stack+", account 123456789012, region us-east-1\n")
				assert.Contains(t, m.body, "#alarmsV2:alarm/"+stack+"-error-lines")
				assert.Contains(t, m.body, "#dashboards:name="+stack+"-overview")
			}
		}
		assert.Equal(t, 3, opened)
	})

	t.Run("incidents", func(t *testing.T) {
		// The counts the emitted error lines make, by template.
		lines, _, err := emit.Lines(req, sum.RunID)
		require.NoError(t, err)
		pattern, err := filterpattern.Parse(pipeline.DefaultPattern)
		require.NoError(t, err)
		want := map[string]int64{}
		for _, l := range lines {
			if pattern.Match(l) {
				want[dep.LogGroup+" "+incident.Normalize(l)]++
			}
		}
		require.Len(t, want, 3)
		got := (&env{table: dep.Table}).incidents(t)
		assert.Equal(t, want, counts(got), "the canary's incident is not recorded: its delivery failed")
		assert.Len(t, res.Incidents, 3)
		for _, in := range res.Incidents {
			assert.Equal(t, int64(2), in.Occurrences)
			assert.Equal(t, incident.StatusOpen, in.Status)
		}
	})

	t.Run("dead-letter queue", func(t *testing.T) {
		assert.Equal(t, 1, res.DLQDepth)
		assert.Equal(t, local.InvokeStats{Events: 2, Invocations: 4, FailedAttempts: 3, Succeeded: 1, DeadLettered: 1}, res.Invocations)
		q := sqs.NewFromConfig(cfg)
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dep.DLQURL), MaxNumberOfMessages: 10})
		require.NoError(t, err)
		require.Len(t, out.Messages, 1)
		var rec local.FailureRecord
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &rec))
		assert.Equal(t, "1.0", rec.Version)
		assert.Equal(t, "RetriesExhausted", rec.RequestContext.Condition)
		assert.Equal(t, 3, rec.RequestContext.ApproximateInvokeCount)
		assert.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:"+stack+"-ProcessorFunction:$LATEST", rec.RequestContext.FunctionARN)
		assert.Equal(t, redrive.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}, rec.ResponseContext)
		assert.Equal(t, local.FailureResponsePayload{ErrorMessage: "forced failure of attempt 3", ErrorType: "errorString"}, rec.ResponsePayload, "as aws-lambda-go names a fmt.Errorf error")

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, forced, 3, "three attempts")
		assert.Equal(t, forced[0], rec.RequestPayload.AWSLogs.Data, "the original payload, byte for byte")
		p, err := awslogs.Decode(rec.RequestPayload.AWSLogs.Data, awslogs.DefaultLimits)
		require.NoError(t, err)
		assert.Equal(t, awslogs.MessageTypeData, p.MessageType)
		assert.Equal(t, "123456789012", p.Owner)
		assert.Equal(t, dep.LogGroup, p.LogGroup)
		assert.Equal(t, failed, p.LogStream)
		assert.Equal(t, []string{stack + "-ProcessorSubscriptionFilter"}, p.SubscriptionFilters)
		require.Len(t, p.LogEvents, 1)
		assert.Equal(t, canary, p.LogEvents[0].Message)
	})
}

// TestDemoNotifyOnOkFalse: with NotifyOnOk=false the alarm still goes
// INSUFFICIENT_DATA -> OK -> ALARM -> OK, but mails only its ALARM; the
// incidents are mailed as before.
func TestDemoNotifyOnOkFalse(t *testing.T) {
	ctx := t.Context()
	tw, _ := quietTwin(t, newConfig(t, motoURL), awstest.Name(t, "nook"))
	_, err := tw.Emit(ctx, emit.Request{ErrorCount: ptr(5), WarnCount: ptr(2), InfoCount: ptr(4)})
	require.NoError(t, err)
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)

	require.Len(t, res.Alarms, 1)
	var transitions []string
	for _, tr := range res.Alarms[0].Transitions {
		transitions = append(transitions, string(tr.Old)+" -> "+string(tr.New))
	}
	assert.Equal(t, []string{"INSUFFICIENT_DATA -> OK", "OK -> ALARM", "ALARM -> OK"}, transitions)
	assert.Equal(t, 1, res.Alarms[0].Published, "the ALARM notification only")
	var subjects []string
	for _, m := range res.Emails {
		subjects = append(subjects, m.Subject)
	}
	require.Len(t, subjects, 4, "one alarm email and three incidents: %v", subjects)
	alarms, incidents := 0, 0
	for _, s := range subjects {
		assert.False(t, strings.HasPrefix(s, "OK: "), "no OK email: %s", s)
		if strings.HasPrefix(s, "ALARM: ") {
			alarms++
		}
		if strings.HasPrefix(s, "[logalert] ") {
			incidents++
		}
	}
	assert.Equal(t, []int{1, 3}, []int{alarms, incidents})
}

// TestDemoRoutesBySeverity: a second subscription whose filter policy
// takes CRITICAL and FATAL (the README's pager recipe) gets the CRITICAL
// incident alone; the AlarmEmail subscription gets everything.
func TestDemoRoutesBySeverity(t *testing.T) {
	ctx := t.Context()
	tw, _ := quietTwin(t, newConfig(t, motoURL), awstest.Name(t, "route"),
		"SecondSubscriptionProtocol", "email", "SecondSubscriptionEndpoint", "pager@example.com",
		"SecondSubscriptionFilterPolicy", `{"severity":["CRITICAL","FATAL"]}`)
	_, err := tw.Emit(ctx, emit.Request{ErrorCount: ptr(5), WarnCount: ptr(0), InfoCount: ptr(0)})
	require.NoError(t, err)
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	var critical []string
	for _, in := range res.Incidents {
		if in.Severity >= incident.SeverityCritical {
			critical = append(critical, "[logalert] "+in.Severity.String()+" opened in "+in.LogGroup)
		}
	}
	require.NotEmpty(t, critical, "the demo's lines include a CRITICAL one")
	got := map[string][]string{}
	for _, m := range res.Emails {
		got[m.To] = append(got[m.To], m.Subject)
	}
	require.Len(t, got["pager@example.com"], len(critical), "pager: %v", got["pager@example.com"])
	for i, s := range got["pager@example.com"] {
		assert.True(t, strings.HasPrefix(s, critical[i]), "pager got %q", s)
	}
	assert.Len(t, got["oncall@example.com"], len(res.Incidents)+1, "every incident and the ALARM: %v", got["oncall@example.com"])
}

// TestDemoKeepsMailing: while a kept demo's twin runs Mail, an alert
// published after Run (as redrive --local publishes one) reaches the
// outbox; Mail returns when its context ends.
func TestDemoKeepsMailing(t *testing.T) {
	ctx := t.Context()
	cfg := newConfig(t, motoURL)
	stack := awstest.Name(t, "keep")
	tw, outbox := quietTwin(t, cfg, stack)
	require.NoError(t, tw.Run(ctx))

	mailCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tw.Mail(mailCtx, 50*time.Millisecond) }()
	topic := tw.Deployment().Topics["AlertsTopic"]
	require.NotEmpty(t, topic)
	now := time.Now().UTC()
	in := incident.Incident{ID: "inc-kept", LogGroup: tw.Deployment().LogGroup, Status: incident.StatusOpen, Severity: incident.SeverityError,
		Occurrences: 1, FirstSeen: now, LastSeen: now, Template: "ERROR redriven <num>", SampleMessage: "ERROR redriven 1"}
	require.NoError(t, notify.New(sns.NewFromConfig(cfg), topic, notify.Origin{Stack: stack}).Publish(ctx, in, incident.Opened))

	var found string
	require.Eventually(t, func() bool {
		files, _ := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
		for _, f := range files {
			if strings.Contains(readMail(t, f).subject, "[logalert] ERROR opened in "+in.LogGroup) {
				found = f
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the alert published after Run was not mailed")
	assert.Contains(t, readMail(t, found).body, "logalert incidents show inc-kept --stack "+stack+" --region us-east-1")
	stop()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Mail did not return when its context ended")
	}
}

// quietTwin is a twin of stack with an email subscriber, NotifyOnOk=false
// and emails in the outbox directory it returns; more are further
// parameter overrides, name then value.
func quietTwin(t *testing.T, cfg aws.Config, stack string, more ...string) (*local.Twin, string) {
	outbox := t.TempDir()
	overrides := map[string]string{"AlarmEmail": "oncall@example.com", "NotifyOnOk": "false"}
	for i := 0; i+1 < len(more); i += 2 {
		overrides[more[i]] = more[i+1]
	}
	tw, err := local.New(t.Context(), cfg, local.Config{
		Template:  "../template.yaml",
		StackName: stack,
		Overrides: overrides,
		Period:    time.Second,
		Mailer:    &email.Outbox{Dir: outbox},
	})
	require.NoError(t, err)
	return tw, outbox
}

func ptr[T any](v T) *T { return &v }

// watchAlarm polls the alarm's state in CloudWatch until the test ends and
// returns a function that stops and reports the states seen, each change
// once.
func watchAlarm(t *testing.T, cw *cloudwatch.Client, name string) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan []string)
	go func() {
		var seen []string
		for {
			out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
			if err == nil && len(out.MetricAlarms) == 1 {
				if s := string(out.MetricAlarms[0].StateValue); len(seen) == 0 || seen[len(seen)-1] != s {
					seen = append(seen, s)
				}
			}
			select {
			case <-ctx.Done():
				done <- seen
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	var seen []string
	stop := func() []string {
		once.Do(func() { cancel(); seen = <-done })
		return seen
	}
	t.Cleanup(func() { stop() })
	return stop
}

// parsedMail is an .eml file's headers and decoded body.
type parsedMail struct {
	from, to, subject, body string
}

func readMail(t *testing.T, path string) *parsedMail {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := mail.ReadMessage(f)
	require.NoError(t, err)
	assert.Equal(t, "text/plain; charset=UTF-8", m.Header.Get("Content-Type"))
	assert.NotEmpty(t, m.Header.Get("Message-ID"))
	_, err = m.Header.Date()
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "7bit", m.Header.Get("Content-Transfer-Encoding"))
	body, err := io.ReadAll(m.Body)
	require.NoError(t, err)
	return &parsedMail{from: m.Header.Get("From"), to: m.Header.Get("To"), subject: subject, body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
