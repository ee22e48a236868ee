package alarm_test

import (
	"fmt"
	"time"

	"github.com/logalert/logalert/internal/alarm"
)

// Example evaluates a 2 out of 3 alarm on an error count each minute and
// prints the transitions with the email subject CloudWatch would send.
func Example() {
	cfg := alarm.Config{
		Name:               "app-errors",
		Namespace:          "LogAlert",
		MetricName:         "ErrorCount",
		Statistic:          alarm.StatisticSum,
		Period:             time.Minute,
		EvaluationPeriods:  3,
		DatapointsToAlarm:  2,
		Threshold:          1,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
		TreatMissingData:   alarm.TreatNotBreaching,
		AlarmActions:       []string{"arn:aws:sns:us-east-1:123456789012:alerts"},
		Region:             "us-east-1",
		AccountID:          "123456789012",
	}
	ev, err := alarm.NewEvaluator(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}

	start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	var samples []alarm.Datapoint
	logErrors := func(minute, count int) {
		for range count {
			samples = append(samples, alarm.Datapoint{Timestamp: start.Add(time.Duration(minute)*time.Minute + 10*time.Second), Value: 1})
		}
	}
	logErrors(0, 5)
	logErrors(2, 4)

	for minute := 1; minute <= 6; minute++ {
		now := start.Add(time.Duration(minute)*time.Minute + 20*time.Second)
		tr, changed, err := ev.Evaluate(now, samples)
		if err != nil {
			fmt.Println(err)
			return
		}
		if changed {
			fmt.Println(alarm.Subject(cfg, tr))
			fmt.Println(tr.Reason)
		}
	}
	// Output:
	// OK: "app-errors" in US East (N. Virginia)
	// Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [NonBreaching].
	// ALARM: "app-errors" in US East (N. Virginia)
	// Threshold Crossed: 2 out of the last 3 datapoints [4.0 (25/11/26 14:02:00), 5.0 (25/11/26 14:00:00)] were greater than or equal to the threshold (1.0) and 1 missing datapoint was treated as [NonBreaching] (minimum 2 datapoints for OK -> ALARM transition).
	// OK: "app-errors" in US East (N. Virginia)
	// Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [NonBreaching].
}
