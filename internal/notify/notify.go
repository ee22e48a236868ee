// Package notify announces opened and reopened incidents on the SNS alerts
// topic, in words a human on call can act on: what broke, where (stack,
// account, region), whether it is new or back, how often, the latest
// (redacted) message, the commands that look closer as they run when
// pasted into a shell with the stack's region and credentials, and console
// links to the incident's lines, its log stream, the alarm and the
// dashboard.
package notify

import (
	"cmp"
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

// Origin names the deployment that announces incidents, so that a message
// says where it comes from and its commands and links find it. Every field
// may be empty; what is missing is left out of the message.
type Origin struct {
	Stack     string // CloudFormation stack name: the commands' --stack
	Table     string // incidents table: the commands' --table when Stack is empty
	Region    string // the commands' --region and the console links'
	Account   string // AWS account id, named so the reader picks the right credentials
	Alarm     string // name of the stack's error-lines alarm
	Dashboard string // name of the stack's CloudWatch dashboard
}

// OriginOf returns o with Region and Account filled in from topicARN
// (arn:partition:sns:region:account:name) where they are empty.
func OriginOf(o Origin, topicARN string) Origin {
	if parts := strings.Split(topicARN, ":"); len(parts) == 6 && parts[0] == "arn" {
		o.Region = cmp.Or(o.Region, parts[3])
		o.Account = cmp.Or(o.Account, parts[4])
	}
	return o
}

// Notifier publishes incident messages to one topic.
type Notifier struct {
	sns    snsAPI
	topic  string
	origin Origin
}

// New returns a Notifier for topicARN; origin names the deployment in its
// messages (OriginOf completes it from the topic's ARN).
func New(client snsAPI, topicARN string, origin Origin) *Notifier {
	return &Notifier{sns: client, topic: topicARN, origin: OriginOf(origin, topicARN)}
}

// Publish sends one message about in. The message attributes severity,
// log_group and change let subscription filter policies route it.
func (n *Notifier) Publish(ctx context.Context, in incident.Incident, change incident.Change) error {
	subject, body := Message(in, change, n.origin)
	_, err := n.sns.Publish(ctx, &sns.PublishInput{
		TopicArn:          &n.topic,
		Subject:           &subject,
		Message:           &body,
		MessageAttributes: Attributes(in, change),
	})
	if err != nil {
		return fmt.Errorf("publish incident %s: %w", in.ID, err)
	}
	return nil
}

// Attributes are the SNS message attributes of a message about in, which
// subscription filter policies match: severity (DEBUG ... FATAL), log_group
// and change (opened or reopened).
func Attributes(in incident.Incident, change incident.Change) map[string]types.MessageAttributeValue {
	return map[string]types.MessageAttributeValue{
		"severity":  stringAttr(in.Severity.String()),
		"log_group": stringAttr(in.LogGroup),
		"change":    stringAttr(change.String()),
	}
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: ptr("String"), StringValue: &v}
}

func ptr[T any](v T) *T { return &v }

// Message returns the subject and plain-text body announcing in.
func Message(in incident.Incident, change incident.Change, o Origin) (subject, body string) {
	subject = subjectLine(fmt.Sprintf("[logalert] %s %s in %s: %s", in.Severity, change, in.LogGroup, in.Template))
	var b strings.Builder
	fmt.Fprintf(&b, "logalert: incident %s, %s\n\n", change, history(in, change))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-13s %s\n", k+":", v)
		}
	}
	row("Stack", where(o))
	row("Severity", in.Severity.String())
	row("Status", string(in.Status))
	row("Log group", in.LogGroup)
	row("Log stream", in.LogStream)
	row("Occurrences", fmt.Sprint(in.Occurrences))
	row("First seen", in.FirstSeen.UTC().Format(time.RFC3339))
	row("Last seen", in.LastSeen.UTC().Format(time.RFC3339))
	if in.ReopenCount > 0 {
		row("Reopened", fmt.Sprintf("%d time(s)", in.ReopenCount))
	}
	row("Incident", in.ID)
	row("Pattern", in.Template)
	fmt.Fprintf(&b, "\nLatest message (secrets redacted):\n  %s\n", in.SampleMessage)
	fmt.Fprintf(&b, "\nLook closer (in a shell with the credentials of account %s):\n", cmp.Or(o.Account, "of the stack"))
	for _, verb := range []string{"show", "ack", "resolve"} {
		fmt.Fprintf(&b, "  logalert incidents %s %s%s\n", verb, in.ID, cliFlags(o))
	}
	b.WriteString("  (install the CLI: go install github.com/logalert/logalert/cmd/logalert@latest)\n")
	if o.Region == "" {
		return subject, b.String()
	}
	from, to := IncidentWindow(in)
	fmt.Fprintf(&b, "\nLogs Insights, this incident's lines from %s to %s:\n  %s\n",
		from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), IncidentInsightsURL(in, o.Region))
	if in.LogStream != "" {
		fmt.Fprintf(&b, "\nIts latest log stream:\n  %s\n", LogStreamURL(o.Region, in.LogGroup, in.LogStream))
	}
	if o.Alarm != "" {
		fmt.Fprintf(&b, "\nThe error-lines alarm:\n  %s\n", AlarmURL(o.Region, o.Alarm))
	}
	if o.Dashboard != "" {
		fmt.Fprintf(&b, "\nThe dashboard:\n  %s\n", DashboardURL(o.Region, o.Dashboard))
	}
	return subject, b.String()
}

// history says whether the incident is new or back, and how often it has
// come back.
func history(in incident.Incident, change incident.Change) string {
	if change == incident.Reopened || in.ReopenCount > 0 {
		return fmt.Sprintf("back after it was resolved: reopen number %d", max(in.ReopenCount, 1))
	}
	return "the first of its kind in this log group"
}

// where is "stack S, account A, region R", with what o knows.
func where(o Origin) string {
	var parts []string
	for _, p := range [][2]string{{"", o.Stack}, {"account ", o.Account}, {"region ", o.Region}} {
		if p[1] != "" {
			parts = append(parts, p[0]+p[1])
		}
	}
	return strings.Join(parts, ", ")
}

// cliFlags are the flags that make a logalert command find the incidents
// table of o: --stack (or --table) and --region.
func cliFlags(o Origin) string {
	var b strings.Builder
	switch {
	case o.Stack != "":
		b.WriteString(" --stack " + shellWord(o.Stack))
	case o.Table != "":
		b.WriteString(" --table " + shellWord(o.Table))
	}
	if o.Region != "" {
		b.WriteString(" --region " + shellWord(o.Region))
	}
	return b.String()
}

// shellWord quotes s for a POSIX shell unless it is made only of
// characters that need no quoting (stack, table and region names are).
func shellWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
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
