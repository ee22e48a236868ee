package email

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// fakeRelayQueue hands out its messages, ten at a time, and records
// deletions.
type fakeRelayQueue struct {
	bodies  []string
	deleted []string
}

func (q *fakeRelayQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	for i, b := range q.bodies {
		if len(out.Messages) == int(in.MaxNumberOfMessages) {
			break
		}
		if !slices.Contains(q.deleted, b) {
			out.Messages = append(out.Messages, sqstypes.Message{Body: aws.String(b), ReceiptHandle: aws.String(q.bodies[i])})
		}
	}
	return out, nil
}

func (q *fakeRelayQueue) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	q.deleted = append(q.deleted, *in.ReceiptHandle)
	return &sqs.DeleteMessageOutput{}, nil
}

// fakeDirectory is a topic with subscriptions and a display name.
type fakeDirectory struct {
	subs        []snstypes.Subscription
	displayName string
}

func (d *fakeDirectory) ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: d.subs}, nil
}

func (d *fakeDirectory) GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	return &sns.GetTopicAttributesOutput{Attributes: map[string]string{"DisplayName": d.displayName}}, nil
}

// fakeMailer keeps the mails; err fails Send.
type fakeMailer struct {
	mails []*Mail
	err   error
}

func (m *fakeMailer) Send(_ context.Context, mail *Mail) (string, error) {
	if m.err != nil {
		return "", m.err
	}
	m.mails = append(m.mails, mail)
	return "mail:" + mail.To, nil
}

const relayTopic = "arn:aws:sns:us-east-1:123456789012:alerts"

func notificationJSON(t *testing.T, subject, message string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m-1", "TopicArn": relayTopic, "Subject": subject, "Message": message, "Timestamp": "2026-11-25T14:00:00.000Z"})
	require.NoError(t, err)
	return string(b)
}

func TestRelay(t *testing.T) {
	cfg := testAlarmConfig()
	cfg.AlarmActions = []string{relayTopic}
	_, alarmJSON, err := alarm.Notification(cfg, alarm.Transition{Old: alarm.StateOK, New: alarm.StateAlarm, Reason: "Threshold Crossed: test", Time: time.Date(2026, 11, 25, 14, 1, 0, 0, time.UTC)})
	require.NoError(t, err)
	q := &fakeRelayQueue{bodies: []string{
		notificationJSON(t, `ALARM: "app-error-lines" in US East (N. Virginia)`, string(alarmJSON)),
		notificationJSON(t, "", "plain words"),
	}}
	dir := &fakeDirectory{subs: []snstypes.Subscription{
		{Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com"), SubscriptionArn: aws.String(relayTopic + ":s-1")},
		{Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:relay"), SubscriptionArn: aws.String(relayTopic + ":s-2")},
		{Protocol: aws.String("email-json"), Endpoint: aws.String("bot@example.com"), SubscriptionArn: aws.String("PendingConfirmation")},
	}}
	mailer := &fakeMailer{}
	now := time.Date(2026, 11, 25, 14, 1, 2, 0, time.UTC)
	r := NewRelay(q, dir, "https://relay", mailer, func() time.Time { return now })

	n, err := r.Poll(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Len(t, q.deleted, 2)
	require.Len(t, mailer.mails, 4, "two messages, two email subscribers each")
	var where []string
	for _, m := range r.Sent() {
		where = append(where, m.Where)
	}
	assert.Equal(t, []string{"mail:ops@example.com", "mail:bot@example.com", "mail:ops@example.com", "mail:bot@example.com"}, where)
	assert.Equal(t, SentMail{Where: "mail:ops@example.com", To: "ops@example.com", Subject: defaultSubject}, r.Sent()[2])

	alarmMail := mailer.mails[0]
	assert.Equal(t, snsSenderName, alarmMail.FromName, "no display name")
	assert.Equal(t, `ALARM: "app-error-lines" in US East (N. Virginia)`, alarmMail.Subject)
	assert.Equal(t, now, alarmMail.Date)
	assert.True(t, strings.HasPrefix(alarmMail.Body, `You are receiving this email because your Amazon CloudWatch Alarm "app-error-lines" in the US East (N. Virginia) region has entered the ALARM state, because "Threshold Crossed: test" at "Wednesday 25 November, 2026 14:01:00 UTC".`))
	assert.True(t, strings.HasSuffix(alarmMail.Body, "- INSUFFICIENT_DATA: \n\n\n--\n"+
		"If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n"+
		"https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn="+relayTopic+":s-1&Endpoint=ops@example.com\n\n"+
		"Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n"))
	assert.Equal(t, map[string]string{"x-amz-sns-message-id": "m-1", "x-amz-sns-subscription-arn": relayTopic + ":s-1"}, alarmMail.Headers)

	assert.Equal(t, q.bodies[0], mailer.mails[1].Body, "email-json gets the notification document")
	assert.Equal(t, defaultSubject, mailer.mails[2].Subject, "no subject published")
	assert.True(t, strings.HasPrefix(mailer.mails[2].Body, "plain words\n\n--\n"))
}

func TestRelayKeepsUndeliveredMessages(t *testing.T) {
	q := &fakeRelayQueue{bodies: []string{notificationJSON(t, "s", "m")}}
	dir := &fakeDirectory{displayName: "logalert prod", subs: []snstypes.Subscription{{Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com"), SubscriptionArn: aws.String("arn:s")}}}
	mailer := &fakeMailer{err: errors.New("connection refused")}
	r := NewRelay(q, dir, "https://relay", mailer, time.Now)
	_, err := r.Poll(t.Context())
	assert.ErrorContains(t, err, "connection refused")
	assert.Empty(t, q.deleted)

	mailer.err = nil
	n, err := r.Poll(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, mailer.mails, 1)
	assert.Equal(t, "logalert prod", mailer.mails[0].FromName, "the topic's display name")
}

// testAlarmConfig is the alarm the local twin's tests use too.
func testAlarmConfig() alarm.Config {
	return alarm.Config{
		Name: "app-error-lines", Description: "error lines", Namespace: "LogAlert/app", MetricName: "ErrorCount",
		Statistic: alarm.StatisticSum, Period: time.Minute, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 1,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching,
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:alarms", "arn:aws:automate:us-east-1:ec2:stop"},
		OKActions:    []string{"arn:aws:sns:us-east-1:123456789012:recoveries"},
		Region:       "us-east-1", AccountID: "123456789012",
	}
}
