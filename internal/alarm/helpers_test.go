package alarm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// Values a pattern letter stands for, against baseConfig's threshold of 1
// with GreaterThanOrEqualToThreshold.
const (
	breachingValue    = 5
	notBreachingValue = 0
)

// baseConfig is a valid alarm that tests modify: 5-minute periods, Sum >= 1,
// 3 out of 3.
func baseConfig() alarm.Config {
	return alarm.Config{
		Name:               "errors",
		Namespace:          "LogAlert",
		MetricName:         "ErrorCount",
		Statistic:          alarm.StatisticSum,
		Period:             5 * time.Minute,
		EvaluationPeriods:  3,
		DatapointsToAlarm:  3,
		Threshold:          1,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
		Region:             "us-east-1",
		AccountID:          "123456789012",
	}
}

// patternNow is the evaluation time of pattern tests; the newest period of
// the range ends at 14:00:00.
var patternNow = time.Date(2026, 11, 25, 14, 0, 30, 0, time.UTC)

// patternSamples turns a documentation pattern such as "0 - X - X" (oldest
// first, newest on the right; 0 not breaching, X breaching, - missing) into
// one sample per non-missing period of the range that ends at
// patternNow truncated to the minute. The pattern must cover the whole
// evaluation range (EvaluationPeriods + 2 periods).
func patternSamples(tb testing.TB, c alarm.Config, pattern string) []alarm.Datapoint {
	tb.Helper()
	marks := strings.Fields(pattern)
	require.Len(tb, marks, c.EvaluationPeriods+2, "pattern %q must cover the evaluation range", pattern)
	end := patternNow.Truncate(time.Minute)
	start := end.Add(-time.Duration(len(marks)) * c.Period)
	var out []alarm.Datapoint
	for i, m := range marks {
		at := start.Add(time.Duration(i)*c.Period + time.Second)
		switch m {
		case "X":
			out = append(out, alarm.Datapoint{Timestamp: at, Value: breachingValue})
		case "0":
			out = append(out, alarm.Datapoint{Timestamp: at, Value: notBreachingValue})
		case "-":
		default:
			require.Failf(tb, "bad pattern", "mark %q in %q", m, pattern)
		}
	}
	return out
}

// newEvaluator returns an Evaluator for c in state initial.
func newEvaluator(tb testing.TB, c alarm.Config, initial alarm.State) *alarm.Evaluator {
	tb.Helper()
	ev, err := alarm.NewEvaluator(c)
	require.NoError(tb, err)
	if initial != alarm.StateInsufficientData {
		_, _, err := ev.SetState(initial, "set by test", patternNow.Add(-time.Hour))
		require.NoError(tb, err)
	}
	require.Equal(tb, initial, ev.State())
	return ev
}

// at parses an RFC 3339 time for fixtures.
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(tb, err)
	return t
}
