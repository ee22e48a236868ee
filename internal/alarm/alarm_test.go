package alarm_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

func TestValidateAcceptsValidConfigs(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*alarm.Config)
	}{
		{"base", func(*alarm.Config) {}},
		{"defaults for M and missing data", func(c *alarm.Config) { c.DatapointsToAlarm, c.TreatMissingData = 0, "" }},
		{"high resolution 10s", func(c *alarm.Config) { c.Period = 10 * time.Second }},
		{"high resolution 20s", func(c *alarm.Config) { c.Period = 20 * time.Second }},
		{"high resolution 30s", func(c *alarm.Config) { c.Period = 30 * time.Second }},
		{"one day of 1-minute periods", func(c *alarm.Config) {
			c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Minute, 1440, 1
		}},
		{"seven days of 1-hour periods", func(c *alarm.Config) {
			c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Hour, 168, 1
		}},
		{"every treatment", func(c *alarm.Config) { c.TreatMissingData = alarm.TreatIgnore }},
		{"unit, actions, dimensions", func(c *alarm.Config) {
			c.Unit = "Count"
			c.Dimensions = []alarm.Dimension{{Name: "LogGroup", Value: "/aws/lambda/app"}}
			c.AlarmActions = []string{"arn:aws:sns:us-east-1:123456789012:alerts"}
			c.OKActions = c.AlarmActions
		}},
		{"negative threshold", func(c *alarm.Config) { c.Threshold = -3.5 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.modify(&c)
			assert.NoError(t, c.Validate())
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*alarm.Config)
		want   error
		text   string
	}{
		{"anomaly band either side", func(c *alarm.Config) { c.ComparisonOperator = alarm.LessThanLowerOrGreaterThanUpperThreshold },
			alarm.ErrUnsupportedOperator, "LessThanLowerOrGreaterThanUpperThreshold: it compares against an anomaly detection band"},
		{"anomaly band lower", func(c *alarm.Config) { c.ComparisonOperator = alarm.LessThanLowerThreshold },
			alarm.ErrUnsupportedOperator, "unsupported comparison operator LessThanLowerThreshold"},
		{"anomaly band upper", func(c *alarm.Config) { c.ComparisonOperator = alarm.GreaterThanUpperThreshold },
			alarm.ErrUnsupportedOperator, "unsupported comparison operator GreaterThanUpperThreshold"},
		{"unknown operator", func(c *alarm.Config) { c.ComparisonOperator = ">=" },
			alarm.ErrInvalidConfig, `ComparisonOperator ">=" is not one of`},
		{"missing operator", func(c *alarm.Config) { c.ComparisonOperator = "" },
			alarm.ErrInvalidConfig, `ComparisonOperator "" is not one of`},
		{"percentile statistic", func(c *alarm.Config) { c.Statistic = "p99" },
			alarm.ErrInvalidConfig, `Statistic "p99" is not one of`},
		{"statistic in the wrong case", func(c *alarm.Config) { c.Statistic = "SUM" },
			alarm.ErrInvalidConfig, `Statistic "SUM"`},
		{"M greater than N", func(c *alarm.Config) { c.DatapointsToAlarm = 4 },
			alarm.ErrInvalidConfig, "DatapointsToAlarm 4 is greater than EvaluationPeriods 3"},
		{"negative M", func(c *alarm.Config) { c.DatapointsToAlarm = -1 },
			alarm.ErrInvalidConfig, "DatapointsToAlarm -1 is negative"},
		{"no evaluation periods", func(c *alarm.Config) { c.EvaluationPeriods, c.DatapointsToAlarm = 0, 0 },
			alarm.ErrInvalidConfig, "EvaluationPeriods 0 is below 1"},
		{"period of 45s", func(c *alarm.Config) { c.Period = 45 * time.Second },
			alarm.ErrInvalidConfig, "Period 45s is not 10s, 20s, 30s or a multiple of 60s"},
		{"period of 90s", func(c *alarm.Config) { c.Period = 90 * time.Second },
			alarm.ErrInvalidConfig, "Period 1m30s"},
		{"zero period", func(c *alarm.Config) { c.Period = 0 },
			alarm.ErrInvalidConfig, "Period 0s"},
		{"over one day with short periods", func(c *alarm.Config) {
			c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = 5*time.Minute, 289, 1
		}, alarm.ErrInvalidConfig, "Period × EvaluationPeriods is 24h5m0s, over 24h0m0s"},
		{"over seven days with long periods", func(c *alarm.Config) {
			c.Period, c.EvaluationPeriods, c.DatapointsToAlarm = time.Hour, 169, 1
		}, alarm.ErrInvalidConfig, "over 168h0m0s"},
		{"unknown treatment", func(c *alarm.Config) { c.TreatMissingData = "notbreaching" },
			alarm.ErrInvalidConfig, `TreatMissingData "notbreaching"`},
		{"NaN threshold", func(c *alarm.Config) { c.Threshold = math.NaN() },
			alarm.ErrInvalidConfig, "Threshold NaN is not a finite number"},
		{"infinite threshold", func(c *alarm.Config) { c.Threshold = math.Inf(1) },
			alarm.ErrInvalidConfig, "Threshold +Inf"},
		{"no name", func(c *alarm.Config) { c.Name = "" }, alarm.ErrInvalidConfig, "Name is required"},
		{"long name", func(c *alarm.Config) { c.Name = strings.Repeat("n", 256) },
			alarm.ErrInvalidConfig, "Name is 256 characters, over 255"},
		{"non-ASCII name", func(c *alarm.Config) { c.Name = "erreurs-répétées" },
			alarm.ErrInvalidConfig, "non-ASCII"},
		{"long description", func(c *alarm.Config) { c.Description = strings.Repeat("d", 1025) },
			alarm.ErrInvalidConfig, "Description is 1025 characters"},
		{"no namespace", func(c *alarm.Config) { c.Namespace = "" }, alarm.ErrInvalidConfig, "Namespace is required"},
		{"namespace with leading colon", func(c *alarm.Config) { c.Namespace = ":x" },
			alarm.ErrInvalidConfig, "starts with a colon"},
		{"no metric", func(c *alarm.Config) { c.MetricName = "" }, alarm.ErrInvalidConfig, "MetricName is required"},
		{"empty dimension value", func(c *alarm.Config) { c.Dimensions = []alarm.Dimension{{Name: "LogGroup"}} },
			alarm.ErrInvalidConfig, "Dimensions[0] (LogGroup) value"},
		{"too many dimensions", func(c *alarm.Config) { c.Dimensions = make([]alarm.Dimension, 31) },
			alarm.ErrInvalidConfig, "31 Dimensions, over 30"},
		{"unknown unit", func(c *alarm.Config) { c.Unit = "Errors" }, alarm.ErrInvalidConfig, `Unit "Errors"`},
		{"action not an ARN", func(c *alarm.Config) { c.AlarmActions = []string{"alerts"} },
			alarm.ErrInvalidConfig, `AlarmActions[0] "alerts" is not an ARN`},
		{"too many actions", func(c *alarm.Config) {
			c.OKActions = strings.Split(strings.Repeat("arn:aws:sns:us-east-1:1:t,", 6), ",")[:6]
		}, alarm.ErrInvalidConfig, "6 OKActions, over 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.modify(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, alarm.ErrInvalidConfig, "every problem wraps ErrInvalidConfig")
			assert.ErrorContains(t, err, tc.text)
		})
	}
}

// TestValidateReportsEveryProblem checks that Validate does not stop at the
// first problem.
func TestValidateReportsEveryProblem(t *testing.T) {
	c := baseConfig()
	c.Statistic = "Median"
	c.DatapointsToAlarm = 5
	c.ComparisonOperator = alarm.GreaterThanUpperThreshold
	c.TreatMissingData = "zero"

	err := c.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, alarm.ErrUnsupportedOperator)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined))
	assert.Len(t, joined.Unwrap(), 4)
	for _, want := range []string{"Statistic", "DatapointsToAlarm", "GreaterThanUpperThreshold", "TreatMissingData"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestErrUnsupportedOperatorIsInvalidConfig(t *testing.T) {
	assert.ErrorIs(t, alarm.ErrUnsupportedOperator, alarm.ErrInvalidConfig)
}
