package email

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/logalert/logalert/internal/alarm"
)

// statisticNames maps Trigger.Statistic back to the names alarms use.
var statisticNames = map[string]string{
	"SAMPLE_COUNT": "SampleCount",
	"AVERAGE":      "Average",
	"SUM":          "Sum",
	"MINIMUM":      "Minimum",
	"MAXIMUM":      "Maximum",
}

// parseAlarmMessage returns the CloudWatch alarm notification in msg, or
// false when msg is something else.
func parseAlarmMessage(msg string) (alarm.Message, bool) {
	var m alarm.Message
	if !strings.HasPrefix(strings.TrimSpace(msg), "{") || json.Unmarshal([]byte(msg), &m) != nil {
		return alarm.Message{}, false
	}
	return m, m.AlarmName != "" && m.NewStateValue != "" && m.Trigger.MetricName != "" && m.AlarmARN != ""
}

// AlarmEmail returns the plain text SNS sends to email subscribers for a
// CloudWatch metric alarm notification, in the layout of the emails
// CloudWatch alarms send (2021-2024 samples): the state sentence, the
// console link, Alarm Details, Threshold, Monitored Metric and State Change
// Actions. Email subscribers get this text while SQS, Lambda and
// email-json subscribers get the JSON.
func AlarmEmail(m alarm.Message) string {
	region := arnRegion(m.AlarmARN, m.AlarmARN)
	at := m.StateChangeTime
	if t, err := time.Parse("2006-01-02T15:04:05.000-0700", m.StateChangeTime); err == nil {
		at = t.UTC().Format("Monday 02 January, 2006 15:04:05 UTC")
	}
	desc := ""
	if m.AlarmDescription != nil {
		desc = *m.AlarmDescription
	}
	tr := m.Trigger
	unit := "not specified"
	if tr.Unit != nil {
		unit = *tr.Unit
	}
	stat := statisticNames[tr.Statistic]
	if stat == "" {
		stat = tr.Statistic
	}
	dims := make([]string, 0, len(tr.Dimensions))
	for _, d := range tr.Dimensions {
		dims = append(dims, "["+d.Name+" = "+d.Value+"]")
	}
	m2a := tr.DatapointsToAlarm
	if m2a == 0 {
		m2a = tr.EvaluationPeriods
	}

	var b strings.Builder
	fmt.Fprintf(&b, "You are receiving this email because your Amazon CloudWatch Alarm \"%s\" in the %s region has entered the %s state, because \"%s\" at \"%s\".\n\n",
		m.AlarmName, m.Region, m.NewStateValue, m.NewStateReason, at)
	fmt.Fprintf(&b, "View this alarm in the AWS Management Console:\nhttps://%s.console.aws.amazon.com/cloudwatch/deeplink.js?region=%s#alarmsV2:alarm/%s\n\n",
		region, region, uriComponent(m.AlarmName))
	b.WriteString("Alarm Details:\n")
	row := func(label, value string, width int) { fmt.Fprintf(&b, "- %-*s%s\n", width, label+":", value) }
	row("Name", m.AlarmName, 28)
	row("Description", desc, 28)
	row("State Change", string(m.OldStateValue)+" -> "+string(m.NewStateValue), 28)
	row("Reason for State Change", m.NewStateReason, 28)
	row("Timestamp", at, 28)
	row("AWS Account", m.AWSAccountID, 28)
	row("Alarm Arn", m.AlarmARN, 28)
	fmt.Fprintf(&b, "\nThreshold:\n- The alarm is in the ALARM state when the metric is %s %s for at least %d of the last %d period(s) of %d seconds. \n",
		tr.ComparisonOperator, tr.Threshold, m2a, tr.EvaluationPeriods, tr.Period)
	b.WriteString("\nMonitored Metric:\n")
	row("MetricNamespace", tr.Namespace, 37)
	row("MetricName", tr.MetricName, 37)
	row("Dimensions", strings.Join(dims, " "), 37)
	row("Period", fmt.Sprintf("%d seconds", tr.Period), 37)
	row("Statistic", stat, 37)
	row("Unit", unit, 37)
	row("TreatMissingData", tr.TreatMissingData, 37)
	b.WriteString("\n\nState Change Actions:\n")
	fmt.Fprintf(&b, "- OK: %s\n- ALARM: %s\n- INSUFFICIENT_DATA: %s\n", actions(m.OKActions), actions(m.AlarmActions), actions(m.InsufficientDataActions))
	return b.String()
}

// actions lists ARNs as the alarm email does: each in brackets.
func actions(arns []string) string {
	out := make([]string, len(arns))
	for i, a := range arns {
		out[i] = "[" + a + "]"
	}
	return strings.Join(out, " ")
}

// uriComponent escapes s as JavaScript's encodeURIComponent does, as in the
// console links of alarm emails ("Alarm: Network In" → "Alarm%3A%20Network%20In").
func uriComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// arnRegion returns the region of an ARN, or fallback when s is not one.
func arnRegion(s, fallback string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return fallback
	}
	return a.Region
}
