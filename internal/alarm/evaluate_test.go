package alarm_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// docEvaluation is the page that describes Period, Evaluation Periods and
// Datapoints to Alarm, with the figure TestDocFigure replays.
const docEvaluation = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html"

func TestNewEvaluatorStartsInsufficientData(t *testing.T) {
	ev, err := alarm.NewEvaluator(baseConfig())
	require.NoError(t, err)
	assert.Equal(t, alarm.StateInsufficientData, ev.State())
	assert.Equal(t, "Unchecked: Initial alarm creation", ev.Reason())
}

func TestNewEvaluatorRejectsInvalidConfig(t *testing.T) {
	c := baseConfig()
	c.Statistic = "p99"
	_, err := alarm.NewEvaluator(c)
	assert.ErrorIs(t, err, alarm.ErrInvalidConfig)
	assert.ErrorContains(t, err, `new evaluator for alarm "errors"`)
}

// TestDocFigure replays the figure of the alarm evaluation page: threshold
// 3, Evaluation Periods and Datapoints to Alarm 3; ALARM after periods 3 to
// 5 breach, OK at period 6, and a lone breach at period 9 keeps it OK.
func TestDocFigure(t *testing.T) {
	c := baseConfig()
	c.Period = time.Minute
	c.Threshold = 3
	c.ComparisonOperator = alarm.GreaterThanThreshold
	ev := newEvaluator(t, c, alarm.StateInsufficientData)

	start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	values := []float64{1, 2, 4, 4, 4, 2, 1, 2, 4, 2}
	want := []alarm.State{"OK", "OK", "OK", "OK", "ALARM", "OK", "OK", "OK", "OK", "OK"}
	var samples []alarm.Datapoint
	for i, v := range values {
		samples = append(samples, alarm.Datapoint{Timestamp: start.Add(time.Duration(i)*time.Minute + 30*time.Second), Value: v})
		_, _, err := ev.Evaluate(start.Add(time.Duration(i+1)*time.Minute+5*time.Second), samples)
		require.NoError(t, err)
		assert.Equal(t, want[i], ev.State(), "after period %d (%s)", i+1, docEvaluation)
	}
}

// TestMOutOfN covers datapoints-to-alarm counting when enough real
// datapoints make missing data treatment irrelevant.
func TestMOutOfN(t *testing.T) {
	tests := []struct {
		name   string
		n, m   int
		points string // N+2 periods, newest on the right
		want   alarm.State
	}{
		{"3 of 5, last three breach", 5, 3, "- - 0 0 X X X", alarm.StateAlarm},
		{"3 of 5, breaches need not be consecutive", 5, 3, "- - X 0 X 0 X", alarm.StateAlarm},
		{"3 of 5, two breaches", 5, 3, "- - X X 0 0 0", alarm.StateOK},
		{"3 of 5, older breaches fall out", 5, 3, "X X X 0 0 0 0", alarm.StateOK},
		{"3 of 5, reaches back over a gap", 5, 3, "X X - X 0 0 -", alarm.StateAlarm},
		{"1 of 5, one breach", 5, 1, "- - 0 0 0 0 X", alarm.StateAlarm},
		{"1 of 5, none", 5, 1, "0 0 0 0 0 0 0", alarm.StateOK},
		{"5 of 5 by default, all breach", 5, 0, "0 0 X X X X X", alarm.StateAlarm},
		{"5 of 5 by default, one does not", 5, 0, "X X X X 0 X X", alarm.StateOK},
		{"1 of 1", 1, 1, "0 0 X", alarm.StateAlarm},
		{"1 of 1, newest within threshold", 1, 1, "X X 0", alarm.StateOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			c.EvaluationPeriods, c.DatapointsToAlarm = tc.n, tc.m
			c.Period = time.Minute
			for _, treat := range []string{alarm.TreatMissing, alarm.TreatBreaching, alarm.TreatNotBreaching, alarm.TreatIgnore} {
				c.TreatMissingData = treat
				ev := newEvaluator(t, c, alarm.StateInsufficientData)
				_, changed, err := ev.Evaluate(patternNow, patternSamples(t, c, tc.points))
				require.NoError(t, err)
				assert.True(t, changed, treat)
				assert.Equal(t, tc.want, ev.State(), treat)
			}
		})
	}
}

func TestComparisonOperators(t *testing.T) {
	tests := []struct {
		op                string
		below, at, higher bool // breaches at 9, 10, 11 against a threshold of 10
	}{
		{alarm.GreaterThanOrEqualToThreshold, false, true, true},
		{alarm.GreaterThanThreshold, false, false, true},
		{alarm.LessThanThreshold, true, false, false},
		{alarm.LessThanOrEqualToThreshold, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			for value, breach := range map[float64]bool{9: tc.below, 10: tc.at, 11: tc.higher} {
				c := baseConfig()
				c.EvaluationPeriods, c.DatapointsToAlarm, c.Threshold = 1, 1, 10
				c.ComparisonOperator = tc.op
				ev := newEvaluator(t, c, alarm.StateInsufficientData)
				tr, _, err := ev.Evaluate(patternNow, []alarm.Datapoint{{Timestamp: patternNow.Add(-2 * time.Minute), Value: value}})
				require.NoError(t, err)
				want := alarm.StateOK
				if breach {
					want = alarm.StateAlarm
				}
				assert.Equal(t, want, tr.New, "value %v", value)
			}
		})
	}
}

// TestEvaluateStatistic checks that each period is reduced with the alarm's
// statistic before the comparison: samples 1, 1 and 10 in one period.
func TestEvaluateStatistic(t *testing.T) {
	tests := []struct {
		statistic string
		threshold float64
		want      alarm.State
	}{
		{alarm.StatisticSum, 12, alarm.StateAlarm},
		{alarm.StatisticSum, 12.5, alarm.StateOK},
		{alarm.StatisticAverage, 4, alarm.StateAlarm},
		{alarm.StatisticAverage, 4.1, alarm.StateOK},
		{alarm.StatisticMaximum, 10, alarm.StateAlarm},
		{alarm.StatisticMaximum, 11, alarm.StateOK},
		{alarm.StatisticMinimum, 1, alarm.StateAlarm},
		{alarm.StatisticMinimum, 2, alarm.StateOK},
		{alarm.StatisticSampleCount, 3, alarm.StateAlarm},
		{alarm.StatisticSampleCount, 4, alarm.StateOK},
	}
	for _, tc := range tests {
		t.Run(tc.statistic, func(t *testing.T) {
			c := baseConfig()
			c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1, 1
			c.Statistic, c.Threshold = tc.statistic, tc.threshold
			ev := newEvaluator(t, c, alarm.StateInsufficientData)
			period := patternNow.Truncate(time.Minute).Add(-time.Minute)
			samples := []alarm.Datapoint{
				{Timestamp: period.Add(50 * time.Second), Value: 10},
				{Timestamp: period, Value: 1},
				{Timestamp: period.Add(59 * time.Second), Value: 1},
			}
			tr, _, err := ev.Evaluate(patternNow, samples)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tr.New, "threshold %v", tc.threshold)
		})
	}
}

// TestEvaluationWindow pins which samples an evaluation sees: the period in
// progress is not evaluated, periods end on the evaluation minute, not on
// multiples of Period, and the range reaches EvaluationPeriods + 2 periods
// back.
func TestEvaluationWindow(t *testing.T) {
	c := baseConfig()
	c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = 10*time.Minute, 1, 1
	now := at(t, "2024-03-08T14:06:01.853Z")
	tests := []struct {
		name   string
		sample time.Time
		want   alarm.State // after one evaluation from INSUFFICIENT_DATA
	}{
		{"start of the newest period", at(t, "2024-03-08T13:56:00Z"), alarm.StateAlarm},
		{"end of the newest period", at(t, "2024-03-08T14:05:59.999Z"), alarm.StateAlarm},
		{"period in progress", at(t, "2024-03-08T14:06:00Z"), alarm.StateInsufficientData},
		// With too few recent datapoints, real ones from further back in the
		// evaluation range (EvaluationPeriods + 2 periods) are used.
		{"older period in the evaluation range", at(t, "2024-03-08T13:55:59Z"), alarm.StateAlarm},
		{"oldest period of the range", at(t, "2024-03-08T13:36:00Z"), alarm.StateAlarm},
		{"before the evaluation range", at(t, "2024-03-08T13:35:59Z"), alarm.StateInsufficientData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvaluator(t, c, alarm.StateInsufficientData)
			_, _, err := ev.Evaluate(now, []alarm.Datapoint{{Timestamp: tc.sample, Value: 3}})
			require.NoError(t, err)
			assert.Equal(t, tc.want, ev.State())
		})
	}
}

// TestInsufficientData covers the INSUFFICIENT_DATA state: an alarm with no
// data stays in it, and an alarm whose data stops goes back to it.
func TestInsufficientData(t *testing.T) {
	c := baseConfig()
	ev := newEvaluator(t, c, alarm.StateInsufficientData)

	_, changed, err := ev.Evaluate(patternNow, nil)
	require.NoError(t, err)
	assert.False(t, changed, "a new alarm without data stays INSUFFICIENT_DATA")

	tr, changed, err := ev.Evaluate(patternNow, patternSamples(t, c, "- - X X X"))
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, alarm.StateInsufficientData, tr.Old)
	assert.Equal(t, alarm.StateAlarm, tr.New)

	_, changed, err = ev.Evaluate(patternNow, patternSamples(t, c, "- - X X X"))
	require.NoError(t, err)
	assert.False(t, changed, "the same data does not repeat the transition")

	tr, changed, err = ev.Evaluate(patternNow.Add(5*c.Period), patternSamples(t, c, "- - X X X"))
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, alarm.StateInsufficientData, tr.New)
	assert.Equal(t, "Insufficient Data: 3 datapoints were unknown.", tr.Reason)
	assert.Equal(t, tr.Reason, ev.Reason())
}

func TestEvaluateRejectsInvalidSamples(t *testing.T) {
	tests := []struct {
		name  string
		value float64
	}{
		{"NaN", math.NaN()},
		{"+Inf", math.Inf(1)},
		{"-Inf", math.Inf(-1)},
		{"beyond 2^360", math.Ldexp(1, 361)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvaluator(t, baseConfig(), alarm.StateOK)
			_, changed, err := ev.Evaluate(patternNow, []alarm.Datapoint{{Timestamp: patternNow.Add(-time.Minute), Value: tc.value}})
			assert.ErrorIs(t, err, alarm.ErrInvalidDatapoint)
			assert.ErrorContains(t, err, `evaluate alarm "errors"`)
			assert.False(t, changed)
			assert.Equal(t, alarm.StateOK, ev.State(), "state unchanged on error")
		})
	}
}

func TestZeroEvaluator(t *testing.T) {
	var ev alarm.Evaluator
	_, _, err := ev.Evaluate(patternNow, nil)
	assert.ErrorIs(t, err, alarm.ErrInvalidConfig)
}

func TestSetState(t *testing.T) {
	ev := newEvaluator(t, baseConfig(), alarm.StateInsufficientData)
	when := at(t, "2026-11-25T14:00:00Z")

	tr, changed, err := ev.SetState(alarm.StateAlarm, "testing the pager", when)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, alarm.Transition{Old: alarm.StateInsufficientData, New: alarm.StateAlarm, Reason: "testing the pager", Time: when}, tr)

	_, changed, err = ev.SetState(alarm.StateAlarm, "again", when)
	require.NoError(t, err)
	assert.False(t, changed)

	_, _, err = ev.SetState("BROKEN", "x", when)
	assert.ErrorIs(t, err, alarm.ErrInvalidState)
	assert.Equal(t, alarm.StateAlarm, ev.State())
}
