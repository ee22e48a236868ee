package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/logalert/logalert/internal/incident"
)

// ChangeDigest is the change attribute of a digest message, beside the
// opened and reopened of single alerts.
const ChangeDigest = "digest"

// DigestTop is how many incidents a digest message lists, the most
// frequent first; its command lists them all.
const DigestTop = 10

// maxDigestTemplate bounds a pattern in a digest's list, so that the
// message stays short; the command shows it whole.
const maxDigestTemplate = 80

// Digest is the alerts of one log group that a storm left over in one
// window: more incidents were opened or reopened there than go out alone.
type Digest struct {
	LogGroup string
	From, To time.Time // the window
	Alerts   []Alert
}

// Alert is an incident of a digest and what happened to it.
type Alert struct {
	Incident incident.Incident
	Change   incident.Change // incident.Opened or incident.Reopened
}

// PublishDigest sends one message about the incidents of d. Its message
// attributes are those of single alerts, with change "digest" and the
// highest severity among them, so that subscription filter policies route
// it as they route the incidents.
func (n *Notifier) PublishDigest(ctx context.Context, d Digest) error {
	subject, body := DigestMessage(d, n.origin)
	_, err := n.sns.Publish(ctx, &sns.PublishInput{
		TopicArn:          &n.topic,
		Subject:           &subject,
		Message:           &body,
		MessageAttributes: DigestAttributes(d),
	})
	if err != nil {
		return fmt.Errorf("publish the digest of %d incidents in %s: %w", len(d.Alerts), d.LogGroup, err)
	}
	return nil
}

// DigestAttributes are the SNS message attributes of a digest message:
// severity (the highest of its incidents), log_group, and change "digest".
func DigestAttributes(d Digest) map[string]types.MessageAttributeValue {
	return map[string]types.MessageAttributeValue{
		"severity":  stringAttr(highest(d).String()),
		"log_group": stringAttr(d.LogGroup),
		"change":    stringAttr(ChangeDigest),
	}
}

// highest is the highest severity of d's incidents.
func highest(d Digest) incident.Severity {
	var sev incident.Severity
	for i, a := range d.Alerts {
		if i == 0 || a.Incident.Severity > sev {
			sev = a.Incident.Severity
		}
	}
	return sev
}

// DigestMessage returns the subject and plain-text body of a digest: how
// many incidents were opened and reopened in the window, the DigestTop
// most frequent, the command that lists them all and the link to the log
// group's lines.
func DigestMessage(d Digest, o Origin) (subject, body string) {
	opened, reopened := 0, 0
	for _, a := range d.Alerts {
		if a.Change == incident.Reopened {
			reopened++
		} else {
			opened++
		}
	}
	what := "opened"
	switch {
	case opened == 0:
		what = "reopened"
	case reopened > 0:
		what = "opened or reopened"
	}
	subject = subjectLine(fmt.Sprintf("[logalert] digest: %d more incidents %s in %s", len(d.Alerts), what, d.LogGroup))
	var b strings.Builder
	fmt.Fprintf(&b, "logalert: digest of %d incidents %s in %s\n\n", len(d.Alerts), what, d.LogGroup)
	b.WriteString("More incidents were opened or reopened in this log group within the window\n" +
		"than are announced one by one (the AlertBurst parameter): these are the rest.\n\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-13s %s\n", k+":", v)
		}
	}
	row("Stack", where(o))
	row("Log group", d.LogGroup)
	row("Window", d.From.UTC().Format(time.RFC3339)+" to "+d.To.UTC().Format(time.RFC3339))
	row("Incidents", fmt.Sprintf("%d (%d opened, %d reopened)", len(d.Alerts), opened, reopened))
	row("Highest", highest(d).String())

	top := slices.Clone(d.Alerts)
	slices.SortStableFunc(top, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(b.Incident.Occurrences, a.Incident.Occurrences), cmp.Compare(a.Incident.ID, b.Incident.ID))
	})
	shown := top[:min(DigestTop, len(top))]
	fmt.Fprintf(&b, "\nThe %d with the most occurrences:\n", len(shown))
	fmt.Fprintf(&b, "  %-11s  %-8s  %-8s  %-28s  %s\n", "OCCURRENCES", "SEVERITY", "CHANGE", "INCIDENT", "PATTERN")
	for _, a := range shown {
		fmt.Fprintf(&b, "  %11d  %-8s  %-8s  %-28s  %s\n", a.Incident.Occurrences, a.Incident.Severity, a.Change,
			a.Incident.ID, cut(a.Incident.Template, maxDigestTemplate))
	}
	if rest := len(top) - len(shown); rest > 0 {
		fmt.Fprintf(&b, "  ... and %d more\n", rest)
	}

	fmt.Fprintf(&b, "\nList them all (in a shell with the credentials of account %s):\n", cmp.Or(o.Account, "of the stack"))
	fmt.Fprintf(&b, "  logalert incidents list --log-group %s --since %s --limit 0%s\n", shellWord(d.LogGroup),
		since(d).Format(time.RFC3339), cliFlags(o))
	b.WriteString("  (install the CLI: go install github.com/logalert/logalert/cmd/logalert@latest)\n")
	if o.Region == "" {
		return subject, b.String()
	}
	from, to := window(d)
	fmt.Fprintf(&b, "\nLogs Insights, the log group's lines from %s to %s:\n  %s\n",
		from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339),
		InsightsURL(o.Region, d.LogGroup, IncidentQuery(incident.Incident{}), from, to))
	if o.Alarm != "" {
		fmt.Fprintf(&b, "\nThe error-lines alarm:\n  %s\n", AlarmURL(o.Region, o.Alarm))
	}
	if o.Dashboard != "" {
		fmt.Fprintf(&b, "\nThe dashboard:\n  %s\n", DashboardURL(o.Region, o.Dashboard))
	}
	return subject, b.String()
}

// since is the earliest last_seen of d's incidents, to the second: every
// one of them has been last seen since (last_seen only moves forward), so
// `incidents list --since` lists them all.
func since(d Digest) time.Time {
	var t time.Time
	for i, a := range d.Alerts {
		if i == 0 || a.Incident.LastSeen.Before(t) {
			t = a.Incident.LastSeen
		}
	}
	if t.IsZero() {
		t = d.From
	}
	return t.UTC().Truncate(time.Second)
}

// window is the time range a digest's link shows: from IncidentWindow's
// start of its earliest incident to its end of the latest.
func window(d Digest) (from, to time.Time) {
	for i, a := range d.Alerts {
		f, t := IncidentWindow(a.Incident)
		if i == 0 || f.Before(from) {
			from = f
		}
		if i == 0 || t.After(to) {
			to = t
		}
	}
	if len(d.Alerts) == 0 {
		return d.From, d.To
	}
	return from, to
}

// cut makes s one line (control characters become spaces) of at most n
// bytes of whole characters, marking the cut.
func cut(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "..."
}
