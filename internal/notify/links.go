package notify

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/logalert/logalert/internal/incident"
)

// IncidentWindow is the time range the links to an incident show: from 5
// minutes before its first occurrence to 10 minutes after its last.
func IncidentWindow(in incident.Incident) (from, to time.Time) {
	return in.FirstSeen.Add(-5 * time.Minute), in.LastSeen.Add(10 * time.Minute)
}

// IncidentInsightsURL links to the Logs Insights query of the incident's
// lines (IncidentQuery) in its log group over IncidentWindow; it is empty
// without a region.
func IncidentInsightsURL(in incident.Incident, region string) string {
	if region == "" {
		return ""
	}
	from, to := IncidentWindow(in)
	return InsightsURL(region, in.LogGroup, IncidentQuery(in), from, to)
}

// maxFixedText bounds the fixed text of an incident's filter, so that the
// link stays short; a longer template is matched on its beginning.
const maxFixedText = 200

// placeholder matches what Normalize puts in place of a variable part.
var placeholder = regexp.MustCompile(`<(?:num|ip|uuid|ts|id|redacted|\*)>`)

// IncidentQuery is the Logs Insights query of an incident's lines: the
// latest 100 events whose message has the fixed words of its template in
// order, each placeholder matching anything:
//
//	fields @timestamp, @logStream, @message
//	| filter @message like /payment pool exhausted: .* waiting, token=/
//	| sort @timestamp desc
//	| limit 100
//
// The fixed text is escaped for the regular expression between slashes
// (its metacharacters and the slash itself); control characters (a
// multi-line message's line breaks) match any character. Without a
// template it lists the group's latest events.
func IncidentQuery(in incident.Incident) string {
	var q strings.Builder
	q.WriteString("fields @timestamp, @logStream, @message\n")
	if re := fixedTextRegex(in.Template); re != "" {
		fmt.Fprintf(&q, "| filter @message like /%s/\n", re)
	}
	q.WriteString("| sort @timestamp desc\n| limit 100")
	return q.String()
}

// fixedTextRegex is the regular expression, without delimiters, that
// matches the messages of template: its fixed parts in order, escaped,
// joined by .* where placeholders were; "" when the template has no fixed
// text besides spaces.
func fixedTextRegex(template string) string {
	var (
		parts []string
		fixed int
		words bool
	)
	for _, seg := range placeholder.Split(template, -1) {
		if seg == "" {
			continue
		}
		if fixed+len(seg) > maxFixedText {
			// Cut, less the character the cut may split.
			seg = strings.ToValidUTF8(seg[:maxFixedText-fixed], "")
		}
		fixed += len(seg)
		words = words || strings.TrimSpace(seg) != ""
		parts = append(parts, escapeInsightsRegex(seg))
		if fixed >= maxFixedText {
			break
		}
	}
	if !words {
		return ""
	}
	return strings.Join(parts, ".*")
}

// escapeInsightsRegex escapes s for a Logs Insights /regex/ literal.
func escapeInsightsRegex(s string) string {
	var b strings.Builder
	for _, r := range regexp.QuoteMeta(s) {
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`[\s\S]`) // any character, a line break too
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// consoleURL is the CloudWatch console of region with fragment.
func consoleURL(region, fragment string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#%s", region, region, fragment)
}

// InsightsURL links to a CloudWatch Logs Insights query of logGroup
// between from and to.
func InsightsURL(region, logGroup, query string, from, to time.Time) string {
	// The console reads the query from the fragment in its own encoding:
	// values escaped with '*' for '%', the characters of its own syntax
	// ( ) ~ ' ! and '*' itself included; the whole detail URL-escaped with
	// '$' for '%'.
	esc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(encodeURIComponent(s)) {
			if strings.IndexByte("()~'!*", c) >= 0 {
				fmt.Fprintf(&b, "%%%02X", c)
				continue
			}
			b.WriteByte(c)
		}
		return strings.ReplaceAll(b.String(), "%", "*")
	}
	detail := fmt.Sprintf("~(end~'%s~start~'%s~timeType~'ABSOLUTE~tz~'UTC~editorString~'%s~source~(~'%s))",
		esc(to.UTC().Format("2006-01-02T15:04:05.000Z")), esc(from.UTC().Format("2006-01-02T15:04:05.000Z")),
		esc(query), esc(logGroup))
	return consoleURL(region, "logsV2:logs-insights"+dollarEscape("?queryDetail="+detail))
}

// LogStreamURL links to the events of one log stream.
func LogStreamURL(region, logGroup, stream string) string {
	// Names are URL-escaped twice, then '%' written as '$', as the console
	// writes them: /aws/x becomes $252Faws$252Fx.
	twice := func(s string) string { return dollarEscape(encodeURIComponent(s)) }
	return consoleURL(region, "logsV2:log-groups/log-group/"+twice(logGroup)+"/log-events/"+twice(stream))
}

// AlarmURL links to an alarm's page.
func AlarmURL(region, alarm string) string {
	return consoleURL(region, "alarmsV2:alarm/"+encodeURIComponent(alarm))
}

// DashboardURL links to a dashboard, as the stack's DashboardUrl output.
func DashboardURL(region, dashboard string) string {
	return consoleURL(region, "dashboards:name="+encodeURIComponent(dashboard))
}

// dollarEscape URL-escapes s, writing '$' for '%'.
func dollarEscape(s string) string { return strings.ReplaceAll(encodeURIComponent(s), "%", "$") }

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
