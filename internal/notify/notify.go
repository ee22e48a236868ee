// Package notify announces opened and reopened incidents on the SNS alerts
// topic, in words a human on call can act on: what broke, where, how often,
// the latest (redacted) message, and the commands and console link to look
// closer.
package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/logalert/logalert/internal/incident"
)

// maxSubject is SNS's limit on an email subject, less one.
const maxSubject = 99

// snsAPI is the subset of *sns.Client that Notifier calls.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Notifier publishes incident messages to one topic.
type Notifier struct {
	sns    snsAPI
	topic  string
	region string
}

// New returns a Notifier for topicARN; region names the console for links.
func New(client snsAPI, topicARN, region string) *Notifier {
	return &Notifier{sns: client, topic: topicARN, region: region}
}

// Publish sends one message about in. The message attributes severity,
// log_group and change let subscribers filter.
func (n *Notifier) Publish(ctx context.Context, in incident.Incident, change incident.Change) error {
	subject, body := Message(in, change, n.region)
	_, err := n.sns.Publish(ctx, &sns.PublishInput{
		TopicArn: &n.topic,
		Subject:  &subject,
		Message:  &body,
		MessageAttributes: map[string]types.MessageAttributeValue{
			"severity":  stringAttr(in.Severity.String()),
			"log_group": stringAttr(in.LogGroup),
			"change":    stringAttr(change.String()),
		},
	})
	if err != nil {
		return fmt.Errorf("publish incident %s: %w", in.ID, err)
	}
	return nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: ptr("String"), StringValue: &v}
}

func ptr[T any](v T) *T { return &v }

// Message returns the subject and plain-text body announcing in.
func Message(in incident.Incident, change incident.Change, region string) (subject, body string) {
	subject = subjectLine(fmt.Sprintf("[logalert] %s %s in %s: %s", in.Severity, change, in.LogGroup, in.Template))
	var b strings.Builder
	fmt.Fprintf(&b, "logalert: incident %s\n\n", change)
	row := func(k, v string) { fmt.Fprintf(&b, "%-13s %s\n", k+":", v) }
	row("Severity", in.Severity.String())
	row("Status", string(in.Status))
	row("Log group", in.LogGroup)
	row("Occurrences", fmt.Sprint(in.Occurrences))
	row("First seen", in.FirstSeen.UTC().Format(time.RFC3339))
	row("Last seen", in.LastSeen.UTC().Format(time.RFC3339))
	if in.ReopenCount > 0 {
		row("Reopened", fmt.Sprintf("%d time(s)", in.ReopenCount))
	}
	row("Incident", in.ID)
	row("Pattern", in.Template)
	fmt.Fprintf(&b, "\nLatest message (secrets redacted):\n  %s\n", in.SampleMessage)
	fmt.Fprintf(&b, "\nLook closer:\n  logalert incidents show %s\n  logalert incidents ack %s\n  logalert incidents resolve %s\n", in.ID, in.ID, in.ID)
	if u := IncidentInsightsURL(in, region); u != "" {
		fmt.Fprintf(&b, "\nLogs Insights (the 15 minutes around it):\n  %s\n", u)
	}
	return subject, b.String()
}

// subjectLine makes s a valid SNS subject: printable ASCII, one line, under
// 100 characters.
func subjectLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxSubject {
			break
		}
		if r < 0x20 || r > 0x7e {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// IncidentWindow is the time range the links to an incident show: from 5
// minutes before its first occurrence to 10 minutes after its last.
func IncidentWindow(in incident.Incident) (from, to time.Time) {
	return in.FirstSeen.Add(-5 * time.Minute), in.LastSeen.Add(10 * time.Minute)
}

// IncidentInsightsURL links to the Logs Insights query of the incident's
// log group over IncidentWindow; it is empty without a region.
func IncidentInsightsURL(in incident.Incident, region string) string {
	if region == "" {
		return ""
	}
	from, to := IncidentWindow(in)
	return InsightsURL(region, in.LogGroup, from, to)
}

// InsightsURL links to a CloudWatch Logs Insights query of the most recent
// events of logGroup between from and to.
func InsightsURL(region, logGroup string, from, to time.Time) string {
	// The console reads the query from the fragment in its own encoding:
	// values URL-escaped with '*' for '%', the whole detail with '$'.
	esc := func(s string) string { return strings.ReplaceAll(encodeURIComponent(s), "%", "*") }
	esc2 := func(s string) string { return strings.ReplaceAll(encodeURIComponent(s), "%", "$") }
	const query = "fields @timestamp, @logStream, @message\n| sort @timestamp desc\n| limit 100"
	detail := fmt.Sprintf("~(end~'%s~start~'%s~timeType~'ABSOLUTE~tz~'UTC~editorString~'%s~source~(~'%s))",
		esc(to.UTC().Format("2006-01-02T15:04:05.000Z")), esc(from.UTC().Format("2006-01-02T15:04:05.000Z")),
		esc(query), esc(logGroup))
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#logsV2:logs-insights%s",
		region, region, esc2("?queryDetail="+detail))
}

// encodeURIComponent escapes s as JavaScript's function of that name does,
// which is what the console expects: everything but letters, digits and
// - _ . ! ~ * ' ( ) is percent-encoded.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
