package alarm

import (
	"fmt"
	"strings"
)

// maxSubjectLen is the longest Subject SNS accepts.
const maxSubjectLen = 100

// upperStatistic maps each statistic to the spelling of Trigger.Statistic.
var upperStatistic = map[string]string{
	StatisticSampleCount: "SAMPLE_COUNT",
	StatisticAverage:     "AVERAGE",
	StatisticSum:         "SUM",
	StatisticMinimum:     "MINIMUM",
	StatisticMaximum:     "MAXIMUM",
}

// regionNames holds the region names CloudWatch writes in notifications.
// CloudWatch keeps the older "EU (...)" form for European regions.
var regionNames = map[string]string{
	"us-east-1":      "US East (N. Virginia)",
	"us-east-2":      "US East (Ohio)",
	"us-west-1":      "US West (N. California)",
	"us-west-2":      "US West (Oregon)",
	"af-south-1":     "Africa (Cape Town)",
	"ap-east-1":      "Asia Pacific (Hong Kong)",
	"ap-south-1":     "Asia Pacific (Mumbai)",
	"ap-south-2":     "Asia Pacific (Hyderabad)",
	"ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)",
	"ap-southeast-3": "Asia Pacific (Jakarta)",
	"ap-southeast-4": "Asia Pacific (Melbourne)",
	"ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)",
	"ca-central-1":   "Canada (Central)",
	"ca-west-1":      "Canada West (Calgary)",
	"cn-north-1":     "China (Beijing)",
	"cn-northwest-1": "China (Ningxia)",
	"eu-central-1":   "EU (Frankfurt)",
	"eu-central-2":   "EU (Zurich)",
	"eu-west-1":      "EU (Ireland)",
	"eu-west-2":      "EU (London)",
	"eu-west-3":      "EU (Paris)",
	"eu-north-1":     "EU (Stockholm)",
	"eu-south-1":     "EU (Milan)",
	"eu-south-2":     "EU (Spain)",
	"il-central-1":   "Israel (Tel Aviv)",
	"me-central-1":   "Middle East (UAE)",
	"me-south-1":     "Middle East (Bahrain)",
	"sa-east-1":      "South America (Sao Paulo)",
	"us-gov-east-1":  "AWS GovCloud (US-East)",
	"us-gov-west-1":  "AWS GovCloud (US-West)",
}

// RegionName returns the display name CloudWatch uses for a region code in
// notifications ("us-east-1" → "US East (N. Virginia)"), or the code itself
// when it does not know the region.
func RegionName(code string) string {
	if name, ok := regionNames[code]; ok {
		return name
	}
	return code
}

// Message is the JSON document CloudWatch publishes to an SNS topic when a
// metric alarm changes state (the Message of the SNS notification). Field
// order, names and null/empty conventions follow what CloudWatch sends.
type Message struct {
	AlarmName        string  `json:"AlarmName"`
	AlarmDescription *string `json:"AlarmDescription"` // null when empty
	AWSAccountID     string  `json:"AWSAccountId"`
	// AlarmConfigurationUpdatedTimestamp is omitted when the Config does not
	// say when it was last updated.
	AlarmConfigurationUpdatedTimestamp string   `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	NewStateValue                      State    `json:"NewStateValue"`
	NewStateReason                     string   `json:"NewStateReason"`
	StateChangeTime                    string   `json:"StateChangeTime"`
	Region                             string   `json:"Region"` // display name, e.g. "EU (Ireland)"
	AlarmARN                           string   `json:"AlarmArn"`
	OldStateValue                      State    `json:"OldStateValue"`
	OKActions                          []string `json:"OKActions"`
	AlarmActions                       []string `json:"AlarmActions"`
	InsufficientDataActions            []string `json:"InsufficientDataActions"`
	Trigger                            Trigger  `json:"Trigger"`
}

// Trigger describes the alarm's metric and threshold inside a Message.
type Trigger struct {
	MetricName        string             `json:"MetricName"`
	Namespace         string             `json:"Namespace"`
	StatisticType     string             `json:"StatisticType"` // always "Statistic"
	Statistic         string             `json:"Statistic"`     // upper case: "SUM", "SAMPLE_COUNT"
	Unit              *string            `json:"Unit"`          // null when unset
	Dimensions        []TriggerDimension `json:"Dimensions"`
	Period            int                `json:"Period"` // seconds
	EvaluationPeriods int                `json:"EvaluationPeriods"`
	// DatapointsToAlarm is omitted when the alarm leaves it unset.
	DatapointsToAlarm  int    `json:"DatapointsToAlarm,omitempty"`
	ComparisonOperator string `json:"ComparisonOperator"`
	Threshold          Number `json:"Threshold"`
	TreatMissingData   string `json:"TreatMissingData"`
	// EvaluateLowSampleCountPercentile is "" for alarms on plain statistics.
	EvaluateLowSampleCountPercentile string `json:"EvaluateLowSampleCountPercentile"`
}

// TriggerDimension is a Dimension as a Trigger lists it: value first.
type TriggerDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// arn returns the alarm's ARN: Config.ARN when set, else one built from
// Region, AccountID and Name, in the partition of Region.
func (c Config) arn() string {
	if c.ARN != "" || c.Region == "" || c.AccountID == "" {
		return c.ARN
	}
	partition := "aws"
	switch {
	case strings.HasPrefix(c.Region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(c.Region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", partition, c.Region, c.AccountID, c.Name)
}

// NewMessage builds the SNS message CloudWatch publishes for tr on the
// alarm c.
func NewMessage(c Config, tr Transition) Message {
	m := Message{
		AlarmName:               c.Name,
		AWSAccountID:            c.AccountID,
		NewStateValue:           tr.New,
		NewStateReason:          tr.Reason,
		StateChangeTime:         stamp(tr.Time),
		Region:                  RegionName(c.Region),
		AlarmARN:                c.arn(),
		OldStateValue:           tr.Old,
		OKActions:               nonNil(c.OKActions),
		AlarmActions:            nonNil(c.AlarmActions),
		InsufficientDataActions: nonNil(c.InsufficientDataActions),
		Trigger: Trigger{
			MetricName:                       c.MetricName,
			Namespace:                        c.Namespace,
			StatisticType:                    "Statistic",
			Statistic:                        upperStatistic[c.Statistic],
			Dimensions:                       make([]TriggerDimension, 0, len(c.Dimensions)),
			Period:                           int(c.Period.Seconds()),
			EvaluationPeriods:                c.EvaluationPeriods,
			DatapointsToAlarm:                c.DatapointsToAlarm,
			ComparisonOperator:               c.ComparisonOperator,
			Threshold:                        Number(c.Threshold),
			TreatMissingData:                 c.treatMissingData(),
			EvaluateLowSampleCountPercentile: "",
		},
	}
	if c.Description != "" {
		d := c.Description
		m.AlarmDescription = &d
	}
	if !c.ConfigurationUpdated.IsZero() {
		m.AlarmConfigurationUpdatedTimestamp = stamp(c.ConfigurationUpdated)
	}
	if c.Unit != "" {
		u := c.Unit
		m.Trigger.Unit = &u
	}
	for _, d := range c.Dimensions {
		m.Trigger.Dimensions = append(m.Trigger.Dimensions, TriggerDimension{Value: d.Value, Name: d.Name})
	}
	return m
}

// nonNil returns a copy of s that marshals as [] rather than null when
// empty.
func nonNil(s []string) []string {
	return append(make([]string, 0, len(s)), s...)
}

// Subject returns the email subject CloudWatch gives the notification of
// tr, e.g. `ALARM: "errors" in US East (N. Virginia)`. SNS caps subjects at
// 100 characters; as CloudWatch does, a longer one has the alarm name cut
// short and ended with "..." so that the subject is exactly 100 characters.
func Subject(c Config, tr Transition) string {
	head, tail := string(tr.New)+`: "`, `" in `+RegionName(c.Region)
	name := c.Name
	if len(head)+len(name)+len(tail) > maxSubjectLen {
		keep := maxSubjectLen - len(head) - len(tail) - len("...")
		if keep < 0 {
			keep = 0
		}
		name = name[:min(keep, len(name))] + "..."
	}
	s := head + name + tail
	if len(s) > maxSubjectLen {
		s = s[:maxSubjectLen]
	}
	return s
}

// Notification returns the Subject and the JSON Message CloudWatch publishes
// to SNS for tr on the alarm c, ready for sns.Publish.
func Notification(c Config, tr Transition) (subject string, message []byte, err error) {
	b, err := marshal(NewMessage(c, tr))
	if err != nil {
		return "", nil, fmt.Errorf("marshal notification for alarm %q: %w", c.Name, err)
	}
	return Subject(c, tr), b, nil
}
