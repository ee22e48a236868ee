package alarm_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// samplesAt returns one sample per value, each inside the period that starts
// at the matching time.
func samplesAt(tb testing.TB, values map[string]float64) []alarm.Datapoint {
	tb.Helper()
	var out []alarm.Datapoint
	for ts, v := range values {
		out = append(out, alarm.Datapoint{Timestamp: at(tb, ts).Add(time.Second), Value: v})
	}
	return out
}

// TestReasonText reproduces NewStateReason strings CloudWatch has written;
// each case names where the string comes from.
func TestReasonText(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		config  func(*alarm.Config)
		from    alarm.State
		samples map[string]float64
		now     string
		want    string
	}{
		{
			name:   "1 of 1 with DatapointsToAlarm set",
			source: `SNS message of alarm "Test alarm", ca-central-1, 2022-09-25`,
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1, 1
				c.ComparisonOperator, c.Threshold = alarm.GreaterThanThreshold, 5
			},
			from:    alarm.StateInsufficientData,
			samples: map[string]float64{"2022-09-25T18:49:00Z": 6},
			now:     "2022-09-25T18:50:37.811Z",
			want:    "Threshold Crossed: 1 out of the last 1 datapoints [6.0 (25/09/22 18:49:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).",
		},
		{
			name:   "3 of 3 with M=1",
			source: docMissingData + ", Metrics Insights partial data example event",
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 3, 1
				c.ComparisonOperator, c.Threshold = alarm.GreaterThanThreshold, 0
			},
			from: alarm.StateInsufficientData,
			samples: map[string]float64{
				"2022-11-08T11:23:00Z": 20000, "2022-11-08T11:24:00Z": 20000, "2022-11-08T11:25:00Z": 20000,
			},
			now:  "2022-11-08T11:26:05.399Z",
			want: "Threshold Crossed: 3 out of the last 3 datapoints [20000.0 (08/11/22 11:25:00), 20000.0 (08/11/22 11:24:00), 20000.0 (08/11/22 11:23:00)] were greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
		},
		{
			name:   "ALARM to OK, 3 of 5",
			source: `SNS email of alarm "Linear-255-1-EuroNews-ML-ActiveAlerts", us-west-2, 2021-12-21`,
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 5, 3
				c.ComparisonOperator, c.Threshold = alarm.GreaterThanThreshold, 0
			},
			from: alarm.StateAlarm,
			samples: map[string]float64{
				"2021-12-21T06:41:00Z": 1, "2021-12-21T06:42:00Z": 0, "2021-12-21T06:43:00Z": 1,
				"2021-12-21T06:44:00Z": 0, "2021-12-21T06:45:00Z": 0,
			},
			now:  "2021-12-21T06:46:11Z",
			want: "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (21/12/21 06:45:00), 0.0 (21/12/21 06:44:00), 0.0 (21/12/21 06:42:00)] were not greater than the threshold (0.0) (minimum 3 datapoints for ALARM -> OK transition).",
		},
		{
			name:   "1 of 20 with missing data treated as not breaching",
			source: `SNS message of alarm "AlarmForRBRule_...", eu-west-1, 2024-03-16`,
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 20, 1
				c.TreatMissingData = alarm.TreatNotBreaching
			},
			from:    alarm.StateOK,
			samples: map[string]float64{"2024-03-16T12:15:00Z": 613},
			now:     "2024-03-16T12:16:45.770Z",
			want:    "Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was greater than or equal to the threshold (1.0) and 19 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition).",
		},
		{
			name:   "DatapointsToAlarm unset, ALARM to OK",
			source: `SNS message of alarm "package-general-live-event-filter-errors", eu-west-1, 2024-03-19`,
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = 5*time.Minute, 1, 0
				c.TreatMissingData = alarm.TreatNotBreaching
			},
			from:    alarm.StateAlarm,
			samples: map[string]float64{"2024-03-19T17:14:00Z": 0},
			now:     "2024-03-19T17:19:14.422Z",
			want:    "Threshold Crossed: 1 datapoint [0.0 (19/03/24 17:14:00)] was not greater than or equal to the threshold (1.0).",
		},
		{
			name:   "DatapointsToAlarm unset, 10-minute period on the evaluation minute",
			source: `SNS message of alarm "example-dev-example-dev-test-cpu-credit-balance-low", us-east-1, 2024-03-08`,
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = 10*time.Minute, 1, 0
				c.Statistic, c.ComparisonOperator, c.Threshold = alarm.StatisticAverage, alarm.LessThanThreshold, 20
			},
			from:    alarm.StateInsufficientData,
			samples: map[string]float64{"2024-03-08T13:56:00Z": 0},
			now:     "2024-03-08T14:06:01.853Z",
			want:    "Threshold Crossed: 1 datapoint [0.0 (08/03/24 13:56:00)] was less than the threshold (20.0).",
		},
		{
			name:   "DatapointsToAlarm unset, several datapoints",
			source: "CloudWatch wording for N datapoints without M (plural of the 1-datapoint form)",
			config: func(c *alarm.Config) {
				c.Period, c.DatapointsToAlarm = time.Minute, 0
			},
			from: alarm.StateOK,
			samples: map[string]float64{
				"2026-11-25T13:57:00Z": 2, "2026-11-25T13:58:00Z": 3, "2026-11-25T13:59:00Z": 1,
			},
			now:  "2026-11-25T14:00:30Z",
			want: "Threshold Crossed: 3 datapoints [1.0 (25/11/26 13:59:00), 3.0 (25/11/26 13:58:00), 2.0 (25/11/26 13:57:00)] were greater than or equal to the threshold (1.0).",
		},
		{
			name:   "no data treated as breaching",
			source: "alarm state reasons quoted in public code, e.g. a test of an alarm parser (2018)",
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1, 0
				c.TreatMissingData = alarm.TreatBreaching
			},
			from: alarm.StateOK,
			now:  "2026-11-25T14:00:30Z",
			want: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].",
		},
		{
			name:   "no data treated as not breaching",
			source: "alarm state reasons quoted in public code and alarm histories",
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 2, 2
				c.TreatMissingData = alarm.TreatNotBreaching
			},
			from: alarm.StateAlarm,
			now:  "2026-11-25T14:00:30Z",
			want: "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching].",
		},
		{
			name:   "only filled-in periods breach",
			source: "alarm history quoted in public notes: a 2-of-3 alarm with breaching missing data and a zero counter",
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 3, 2
				c.TreatMissingData = alarm.TreatBreaching
			},
			from:    alarm.StateOK,
			samples: map[string]float64{"2026-11-25T13:59:00Z": 0},
			now:     "2026-11-25T14:02:30Z",
			want:    "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].",
		},
		{
			name:   "insufficient data",
			source: "NewStateReason of INSUFFICIENT_DATA notifications (2013 to 2024)",
			config: func(c *alarm.Config) {
				c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1, 1
			},
			from: alarm.StateAlarm,
			now:  "2026-11-25T14:00:30Z",
			want: "Insufficient Data: 1 datapoint was unknown.",
		},
		{
			name:   "premature alarm",
			source: docPremature + " (wording assumed: the threshold form)",
			config: func(c *alarm.Config) {
				c.Period = time.Minute
			},
			from:    alarm.StateOK,
			samples: map[string]float64{"2026-11-25T13:57:00Z": 5},
			now:     "2026-11-25T14:00:30Z",
			want:    "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (25/11/26 13:57:00)] was greater than or equal to the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition).",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.config(&c)
			ev := newEvaluator(t, c, tc.from)

			tr, changed, err := ev.Evaluate(at(t, tc.now), samplesAt(t, tc.samples))
			require.NoError(t, err)
			require.True(t, changed, "source: %s", tc.source)
			assert.Equal(t, tc.want, tr.Reason, "source: %s", tc.source)
			assert.Equal(t, at(t, tc.now), tr.Time)
		})
	}
}

// TestReasonData compares StateReasonData with documents CloudWatch sent in
// EventBridge alarm state change events.
func TestReasonData(t *testing.T) {
	c := baseConfig()
	c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1, 0
	ev := newEvaluator(t, c, alarm.StateOK)

	// Previous state of the event: no data for 18:37.
	tr, changed, err := ev.Evaluate(at(t, "2024-10-26T18:38:52.499Z"), nil)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, "Insufficient Data: 1 datapoint was unknown.", tr.Reason)
	assert.JSONEq(t, `{"version":"1.0","queryDate":"2024-10-26T18:38:52.499+0000","statistic":"Sum","period":60,
		"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2024-10-26T18:37:00.000+0000"}]}`, tr.ReasonData)

	// New state of the event: three samples summing to 3 at 18:59.
	samples := []alarm.Datapoint{
		{Timestamp: at(t, "2024-10-26T18:59:10Z"), Value: 1},
		{Timestamp: at(t, "2024-10-26T18:59:20Z"), Value: 1},
		{Timestamp: at(t, "2024-10-26T18:59:30Z"), Value: 1},
	}
	tr, changed, err = ev.Evaluate(at(t, "2024-10-26T19:00:38.853Z"), samples)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, "Threshold Crossed: 1 datapoint [3.0 (26/10/24 18:59:00)] was greater than or equal to the threshold (1.0).", tr.Reason)
	assert.JSONEq(t, `{"version":"1.0","queryDate":"2024-10-26T19:00:38.853+0000","startDate":"2024-10-26T18:59:00.000+0000",
		"statistic":"Sum","period":60,"recentDatapoints":[3.0],"threshold":1.0,
		"evaluatedDatapoints":[{"timestamp":"2024-10-26T18:59:00.000+0000","sampleCount":3.0,"value":3.0}]}`, tr.ReasonData)
}

// TestReasonDataFilled checks the evaluated datapoints of an M of N alarm
// with filled-in periods: newest first, missing ones with a timestamp only.
func TestReasonDataFilled(t *testing.T) {
	c := baseConfig()
	c.Period, c.Unit, c.TreatMissingData = time.Minute, "Count", alarm.TreatBreaching
	ev := newEvaluator(t, c, alarm.StateOK)
	tr, _, err := ev.Evaluate(at(t, "2026-11-25T14:00:30Z"), samplesAt(t, map[string]float64{"2026-11-25T13:58:00Z": 7}))
	require.NoError(t, err)
	assert.Equal(t, "Threshold Crossed: 1 out of the last 3 datapoints [7.0 (25/11/26 13:58:00)] was greater than or equal to the threshold (1.0) "+
		"and 2 missing datapoints were treated as [Breaching] (minimum 3 datapoints for OK -> ALARM transition).", tr.Reason)
	assert.JSONEq(t, `{"version":"1.0","queryDate":"2026-11-25T14:00:30.000+0000","startDate":"2026-11-25T13:58:00.000+0000",
		"unit":"Count","statistic":"Sum","period":60,"recentDatapoints":[7.0],"threshold":1.0,
		"evaluatedDatapoints":[
			{"timestamp":"2026-11-25T13:59:00.000+0000"},
			{"timestamp":"2026-11-25T13:58:00.000+0000","sampleCount":1.0,"value":7.0},
			{"timestamp":"2026-11-25T13:57:00.000+0000"}]}`, tr.ReasonData)
}

// TestNumberString pins the Java Double.toString formatting of numbers.
func TestNumberString(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{613, "613.0"},
		{-2.5, "-2.5"},
		{0.059, "0.059"},
		{0.001, "0.001"},
		{3.6266666666666665, "3.6266666666666665"},
		{99.83274983791787, "99.83274983791787"},
		{2126585, "2126585.0"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{12345678.9, "1.23456789E7"},
		{0.000999, "9.99E-4"},
		{1.5e-10, "1.5E-10"},
		{-4e20, "-4.0E20"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, alarm.Number(tc.in).String())
		})
	}
}

func TestNumberMarshalJSON(t *testing.T) {
	b, err := alarm.Number(1e7).MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, "1.0E7", string(b))

	_, err = alarm.Number(math.NaN()).MarshalJSON()
	assert.ErrorContains(t, err, "not finite")
}
