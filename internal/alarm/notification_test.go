package alarm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// readFixture returns a file of testdata/ without surrounding whitespace.
func readFixture(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return strings.TrimSpace(string(b))
}

// TestNotificationMatchesCloudWatch rebuilds real CloudWatch SNS messages
// (testdata/README.md says where each comes from) from the alarm
// configuration and the samples behind them, and compares them field for
// field and byte for byte.
func TestNotificationMatchesCloudWatch(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		config  alarm.Config
		from    alarm.State
		samples []alarm.Datapoint
		now     string
		subject string
	}{
		{
			name:    "M of N, missing data not breaching, derived ARN",
			fixture: "sns-alarm-m-of-n-notbreaching.json",
			config: alarm.Config{
				Name:        "AlarmForRBRule_project-general-alb-project_alb-project-wafbase-rate-limit-rule_BLOCK",
				Description: "Alarm for Rate-based rule events detected on Rule alb-project-wafbase-rate-limit-rule",
				Namespace:   "AWS/WAFV2",
				MetricName:  "BlockedRequests",
				Dimensions: []alarm.Dimension{
					{Name: "WebACL", Value: "project-general-alb-project"},
					{Name: "Region", Value: "eu-west-1"},
					{Name: "Rule", Value: "alb-project-wafbase-rate-limit-rule"},
				},
				Statistic:            alarm.StatisticSum,
				Period:               time.Minute,
				EvaluationPeriods:    20,
				DatapointsToAlarm:    1,
				Threshold:            1,
				ComparisonOperator:   alarm.GreaterThanOrEqualToThreshold,
				TreatMissingData:     alarm.TreatNotBreaching,
				AlarmActions:         []string{"arn:aws:sns:eu-west-1:XXXXXXXXXXX:aws-alerts"},
				AccountID:            "XXXXXXXXXXX",
				Region:               "eu-west-1",
				ConfigurationUpdated: time.Date(2023, 2, 23, 12, 7, 38, 685e6, time.UTC),
			},
			from:    alarm.StateOK,
			samples: []alarm.Datapoint{{Timestamp: time.Date(2024, 3, 16, 12, 15, 20, 0, time.UTC), Value: 613}},
			now:     "2024-03-16T12:16:45.770Z",
			// 108 characters in full: cut to SNS's 100 as TestSubject shows.
			subject: `ALARM: "AlarmForRBRule_project-general-alb-project_alb-project-wafbase-rate-limi..." in EU (Ireland)`,
		},
		{
			name:    "from INSUFFICIENT_DATA, no description, no dimensions",
			fixture: "sns-alarm-from-insufficient-data.json",
			config: alarm.Config{
				Name:                 "Test alarm",
				Namespace:            "AWS/Lambda",
				MetricName:           "ConcurrentExecutions",
				Statistic:            alarm.StatisticSum,
				Period:               time.Minute,
				EvaluationPeriods:    1,
				DatapointsToAlarm:    1,
				Threshold:            5,
				ComparisonOperator:   alarm.GreaterThanThreshold,
				AlarmActions:         []string{"arn:aws:sns:ca-central-1:017790921725:test-sre-bot"},
				ARN:                  "arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm",
				AccountID:            "017790921725",
				Region:               "ca-central-1",
				ConfigurationUpdated: time.Date(2022, 9, 25, 18, 48, 56, 505e6, time.UTC),
			},
			from: alarm.StateInsufficientData,
			samples: []alarm.Datapoint{
				{Timestamp: time.Date(2022, 9, 25, 18, 49, 1, 0, time.UTC), Value: 4},
				{Timestamp: time.Date(2022, 9, 25, 18, 49, 31, 0, time.UTC), Value: 2},
			},
			now:     "2022-09-25T18:50:37.811Z",
			subject: `ALARM: "Test alarm" in Canada (Central)`,
		},
		{
			name:    "ALARM to OK, DatapointsToAlarm unset, 5-minute period",
			fixture: "sns-ok-datapoints-to-alarm-unset.json",
			config: alarm.Config{
				Name:                 "package-general-live-event-filter-errors",
				Description:          "The TV4 live sports event filter lambda has had atleast 1 error within the last 5 minutes!",
				Namespace:            "AWS/Lambda",
				MetricName:           "Errors",
				Dimensions:           []alarm.Dimension{{Name: "FunctionName", Value: "package-general-live-event-filter-function"}},
				Statistic:            alarm.StatisticSum,
				Period:               5 * time.Minute,
				EvaluationPeriods:    1,
				Threshold:            1,
				ComparisonOperator:   alarm.GreaterThanOrEqualToThreshold,
				TreatMissingData:     alarm.TreatNotBreaching,
				AlarmActions:         []string{"arn:aws:sns:eu-west-1:123456712345:aws-alerts"},
				OKActions:            []string{"arn:aws:sns:eu-west-1:123456712345:aws-alerts"},
				AccountID:            "123456712345",
				Region:               "eu-west-1",
				ConfigurationUpdated: time.Date(2023, 8, 17, 8, 47, 29, 454e6, time.UTC),
			},
			from:    alarm.StateAlarm,
			samples: []alarm.Datapoint{{Timestamp: time.Date(2024, 3, 19, 17, 16, 0, 0, time.UTC), Value: 0}},
			now:     "2024-03-19T17:19:14.422Z",
			subject: `OK: "package-general-live-event-filter-errors" in EU (Ireland)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := readFixture(t, tc.fixture)
			ev := newEvaluator(t, tc.config, tc.from)
			tr, changed, err := ev.Evaluate(at(t, tc.now), tc.samples)
			require.NoError(t, err)
			require.True(t, changed)

			subject, message, err := alarm.Notification(tc.config, tr)
			require.NoError(t, err)
			assert.Equal(t, tc.subject, subject)
			assert.JSONEq(t, want, string(message))
			assert.Equal(t, want, string(message), "byte for byte, in CloudWatch's field order")
		})
	}
}

// TestMessageDecodesCloudWatch checks that Message decodes what CloudWatch
// sends and encodes it back unchanged.
func TestMessageDecodesCloudWatch(t *testing.T) {
	for _, name := range []string{
		"sns-alarm-m-of-n-notbreaching.json",
		"sns-alarm-from-insufficient-data.json",
		"sns-ok-datapoints-to-alarm-unset.json",
	} {
		t.Run(name, func(t *testing.T) {
			want := readFixture(t, name)
			var m alarm.Message
			require.NoError(t, json.Unmarshal([]byte(want), &m))
			got, err := json.Marshal(m)
			require.NoError(t, err)
			assert.JSONEq(t, want, string(got))
		})
	}
}

func TestNewMessageOptionalFields(t *testing.T) {
	c := baseConfig()
	c.Unit = "Count"
	c.Description = "errors & warnings <5m>"
	tr := alarm.Transition{Old: alarm.StateOK, New: alarm.StateAlarm, Reason: "r", Time: time.Date(2026, 11, 25, 14, 1, 2, 3e6, time.UTC)}

	_, message, err := alarm.Notification(c, tr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"AlarmName":"errors","AlarmDescription":"errors & warnings <5m>","AWSAccountId":"123456789012",
		"NewStateValue":"ALARM","NewStateReason":"r","StateChangeTime":"2026-11-25T14:01:02.003+0000",
		"Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors",
		"OldStateValue":"OK","OKActions":[],"AlarmActions":[],"InsufficientDataActions":[],
		"Trigger":{"MetricName":"ErrorCount","Namespace":"LogAlert","StatisticType":"Statistic","Statistic":"SUM",
		"Unit":"Count","Dimensions":[],"Period":300,"EvaluationPeriods":3,"DatapointsToAlarm":3,
		"ComparisonOperator":"GreaterThanOrEqualToThreshold","Threshold":1.0,"TreatMissingData":"missing",
		"EvaluateLowSampleCountPercentile":""}}`, string(message))
	assert.Contains(t, string(message), `"errors & warnings <5m>"`, "no HTML escaping")
}

func TestTriggerStatistic(t *testing.T) {
	tests := []struct{ statistic, want string }{
		{alarm.StatisticSum, "SUM"},
		{alarm.StatisticAverage, "AVERAGE"},
		{alarm.StatisticMinimum, "MINIMUM"},
		{alarm.StatisticMaximum, "MAXIMUM"},
		{alarm.StatisticSampleCount, "SAMPLE_COUNT"},
	}
	for _, tc := range tests {
		t.Run(tc.statistic, func(t *testing.T) {
			c := baseConfig()
			c.Statistic = tc.statistic
			assert.Equal(t, tc.want, alarm.NewMessage(c, alarm.Transition{}).Trigger.Statistic)
		})
	}
}

func TestMessageARN(t *testing.T) {
	tests := []struct {
		name, arn, region, account, want string
	}{
		{"given", "arn:aws:cloudwatch:us-east-1:1:alarm:x", "eu-west-1", "2", "arn:aws:cloudwatch:us-east-1:1:alarm:x"},
		{"derived", "", "us-east-2", "123456789012", "arn:aws:cloudwatch:us-east-2:123456789012:alarm:errors"},
		{"China partition", "", "cn-north-1", "123456789012", "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:errors"},
		{"GovCloud partition", "", "us-gov-west-1", "123456789012", "arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:errors"},
		{"unknown without account", "", "us-east-1", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			c.ARN, c.Region, c.AccountID = tc.arn, tc.region, tc.account
			assert.Equal(t, tc.want, alarm.NewMessage(c, alarm.Transition{}).AlarmARN)
		})
	}
}

func TestSubject(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name, alarmName, region string
		state                   alarm.State
		want                    string
	}{
		{"alarm", "cpu-alarm", "us-east-1", alarm.StateAlarm, `ALARM: "cpu-alarm" in US East (N. Virginia)`},
		{"ok", "my-alarm", "ap-southeast-1", alarm.StateOK, `OK: "my-alarm" in Asia Pacific (Singapore)`},
		{"insufficient data", "test-lambda-parity", "ap-southeast-2", alarm.StateInsufficientData,
			`INSUFFICIENT_DATA: "test-lambda-parity" in Asia Pacific (Sydney)`},
		{"unknown region", "x", "xx-moon-1", alarm.StateAlarm, `ALARM: "x" in xx-moon-1`},
		// Subject of a real alarm email quoted in a public CDK tutorial; the
		// alarm name (generated by CDK) was longer than shown.
		{"long name, as CloudWatch cuts it", "HowToTriggerCloudwatchAlarmFromLambdaStack-howtotriggercloudwatchalarm0A1B2C3D4E5F",
			"us-east-1", alarm.StateAlarm,
			`ALARM: "HowToTriggerCloudwatchAlarmFromLambdaStack-howtotriggercloudwat..." in US East (N. Virginia)`},
		{"very long name", long, "us-west-2", alarm.StateAlarm,
			`ALARM: "` + strings.Repeat("a", 100-len(`ALARM: "..." in US West (Oregon)`)) + `..." in US West (Oregon)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			c.Name, c.Region = tc.alarmName, tc.region
			got := alarm.Subject(c, alarm.Transition{New: tc.state})
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), 100, "SNS subject limit")
		})
	}
}

func TestRegionName(t *testing.T) {
	tests := []struct{ code, want string }{
		{"us-east-1", "US East (N. Virginia)"},
		{"us-west-1", "US West (N. California)"},
		{"us-west-2", "US West (Oregon)"},
		{"eu-west-1", "EU (Ireland)"},
		{"eu-west-2", "EU (London)"},
		{"eu-central-1", "EU (Frankfurt)"},
		{"ap-northeast-2", "Asia Pacific (Seoul)"},
		{"ap-southeast-2", "Asia Pacific (Sydney)"},
		{"ca-central-1", "Canada (Central)"},
		{"local", "local"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			assert.Equal(t, tc.want, alarm.RegionName(tc.code))
		})
	}
}
