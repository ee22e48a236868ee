package alarm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// State is the state of a metric alarm, as CloudWatch names it.
type State string

// The three states of a metric alarm.
const (
	// StateOK means the metric is within the threshold.
	StateOK State = "OK"
	// StateAlarm means the metric is outside the threshold.
	StateAlarm State = "ALARM"
	// StateInsufficientData means the alarm has just started or has too
	// little data to decide. Every Evaluator starts in this state.
	StateInsufficientData State = "INSUFFICIENT_DATA"
)

// valid reports whether s is one of the three alarm states.
func (s State) valid() bool {
	return s == StateOK || s == StateAlarm || s == StateInsufficientData
}

// Statistics accepted in Config.Statistic, spelled as PutMetricAlarm spells
// them.
const (
	// StatisticSampleCount counts the samples of a period.
	StatisticSampleCount = "SampleCount"
	// StatisticAverage is the mean of the samples of a period.
	StatisticAverage = "Average"
	// StatisticSum adds the samples of a period.
	StatisticSum = "Sum"
	// StatisticMinimum is the smallest sample of a period.
	StatisticMinimum = "Minimum"
	// StatisticMaximum is the largest sample of a period.
	StatisticMaximum = "Maximum"
)

// Comparison operators accepted in Config.ComparisonOperator. The statistic
// is the left operand and the threshold the right one.
const (
	// GreaterThanOrEqualToThreshold breaches when statistic >= threshold.
	GreaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
	// GreaterThanThreshold breaches when statistic > threshold.
	GreaterThanThreshold = "GreaterThanThreshold"
	// LessThanThreshold breaches when statistic < threshold.
	LessThanThreshold = "LessThanThreshold"
	// LessThanOrEqualToThreshold breaches when statistic <= threshold.
	LessThanOrEqualToThreshold = "LessThanOrEqualToThreshold"
)

// Anomaly detection operators. PutMetricAlarm accepts them for alarms on an
// ANOMALY_DETECTION_BAND; this package does not model bands, so Validate
// rejects them with ErrUnsupportedOperator.
const (
	// LessThanLowerOrGreaterThanUpperThreshold breaches outside the band.
	LessThanLowerOrGreaterThanUpperThreshold = "LessThanLowerOrGreaterThanUpperThreshold"
	// LessThanLowerThreshold breaches below the band.
	LessThanLowerThreshold = "LessThanLowerThreshold"
	// GreaterThanUpperThreshold breaches above the band.
	GreaterThanUpperThreshold = "GreaterThanUpperThreshold"
)

// Values of Config.TreatMissingData. The empty string means TreatMissing,
// the AWS default.
const (
	// TreatMissing leaves missing periods out of the decision; with no data
	// at all the alarm goes to INSUFFICIENT_DATA.
	TreatMissing = "missing"
	// TreatNotBreaching counts missing periods as within the threshold.
	TreatNotBreaching = "notBreaching"
	// TreatBreaching counts missing periods as breaching.
	TreatBreaching = "breaching"
	// TreatIgnore is TreatMissing, except that where TreatMissing would go to
	// INSUFFICIENT_DATA or to a premature ALARM the state is kept.
	TreatIgnore = "ignore"
)

// ErrInvalidConfig is wrapped by every problem Config.Validate reports.
var ErrInvalidConfig = errors.New("alarm: invalid configuration")

// ErrUnsupportedOperator reports an anomaly detection comparison operator,
// which PutMetricAlarm accepts but this package cannot evaluate. It wraps
// ErrInvalidConfig.
var ErrUnsupportedOperator = fmt.Errorf("%w: unsupported comparison operator", ErrInvalidConfig)

// ErrInvalidDatapoint reports a sample value CloudWatch would reject in
// PutMetricData: NaN, ±Inf, or a magnitude above 2^360.
var ErrInvalidDatapoint = errors.New("alarm: invalid datapoint")

// ErrInvalidState reports a state other than OK, ALARM and
// INSUFFICIENT_DATA.
var ErrInvalidState = errors.New("alarm: invalid state")

// Limits that PutMetricAlarm enforces and Validate checks.
const (
	maxNameLen        = 255
	maxDescriptionLen = 1024
	maxDimensions     = 30
	maxDimValueLen    = 1024
	maxActions        = 5
	maxActionLen      = 1024
	// maxRange is the longest evaluation window (Period × EvaluationPeriods)
	// for periods of an hour or more; shorter periods allow one day.
	maxRange      = 7 * 24 * time.Hour
	maxShortRange = 24 * time.Hour
)

// units lists the StandardUnit values PutMetricAlarm accepts in Unit.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
	"Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits",
	"Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
	"Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Dimension is one name/value pair that identifies the metric.
type Dimension struct {
	// Name is the dimension name, 1 to 255 characters.
	Name string
	// Value is the dimension value, 1 to 1024 characters.
	Value string
}

// Config is a metric alarm as PutMetricAlarm defines it, restricted to a
// single metric with a static threshold (no metric math, no percentiles,
// no anomaly detection).
type Config struct {
	// Name is the alarm name: required, 1 to 255 ASCII characters.
	Name string
	// Description is optional, at most 1024 characters.
	Description string
	// Namespace and MetricName identify the metric; both are required.
	Namespace  string
	MetricName string
	// Dimensions further identify the metric; at most 30.
	Dimensions []Dimension
	// Statistic aggregates the samples of one period: one of the
	// Statistic* constants.
	Statistic string
	// Period is the length of one datapoint: 10s, 20s, 30s or a multiple
	// of one minute.
	Period time.Duration
	// EvaluationPeriods (N) is how many of the most recent datapoints are
	// evaluated; at least 1.
	EvaluationPeriods int
	// DatapointsToAlarm (M) is how many of the N evaluated datapoints must
	// breach to go to ALARM. Zero means unset, which AWS treats as N; an
	// explicit value also changes the wording of the state reason.
	DatapointsToAlarm int
	// Threshold is the right operand of ComparisonOperator; it must be
	// finite.
	Threshold float64
	// ComparisonOperator is one of GreaterThanOrEqualToThreshold,
	// GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold.
	ComparisonOperator string
	// TreatMissingData is one of the Treat* constants; empty means
	// TreatMissing.
	TreatMissingData string
	// Unit is the optional StandardUnit of the metric (e.g. "Count").
	Unit string
	// AlarmActions, OKActions and InsufficientDataActions are the ARNs
	// notified on entering each state; at most 5 each.
	AlarmActions            []string
	OKActions               []string
	InsufficientDataActions []string
	// ARN is the alarm ARN. When empty, notifications derive it from
	// Region, AccountID and Name.
	ARN string
	// AccountID and Region (a code such as "us-east-1") locate the alarm;
	// they are only used in notifications and are not validated.
	AccountID string
	Region    string
	// ConfigurationUpdated is when the alarm was last created or changed
	// (AlarmConfigurationUpdatedTimestamp); zero leaves it out of
	// notifications.
	ConfigurationUpdated time.Time
}

// datapointsToAlarm returns M, defaulting to N when unset.
func (c Config) datapointsToAlarm() int {
	if c.DatapointsToAlarm > 0 {
		return c.DatapointsToAlarm
	}
	return c.EvaluationPeriods
}

// treatMissingData returns the missing-data treatment, defaulting to
// TreatMissing.
func (c Config) treatMissingData() string {
	if c.TreatMissingData == "" {
		return TreatMissing
	}
	return c.TreatMissingData
}

// Validate checks c against the rules PutMetricAlarm enforces and returns
// every problem found, joined (errors.Join). Each problem wraps
// ErrInvalidConfig; an anomaly detection operator also wraps
// ErrUnsupportedOperator.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}

	switch {
	case c.Name == "":
		bad("Name is required")
	case len(c.Name) > maxNameLen:
		bad("Name is %d characters, over %d", len(c.Name), maxNameLen)
	case !isASCII(c.Name):
		bad("Name %q has non-ASCII characters", c.Name)
	}
	if n := len([]rune(c.Description)); n > maxDescriptionLen {
		bad("Description is %d characters, over %d", n, maxDescriptionLen)
	}
	switch {
	case c.Namespace == "":
		bad("Namespace is required")
	case len(c.Namespace) > maxNameLen:
		bad("Namespace is %d characters, over %d", len(c.Namespace), maxNameLen)
	case strings.HasPrefix(c.Namespace, ":"):
		bad("Namespace %q starts with a colon", c.Namespace)
	}
	switch {
	case c.MetricName == "":
		bad("MetricName is required")
	case len(c.MetricName) > maxNameLen:
		bad("MetricName is %d characters, over %d", len(c.MetricName), maxNameLen)
	}
	if len(c.Dimensions) > maxDimensions {
		bad("%d Dimensions, over %d", len(c.Dimensions), maxDimensions)
	}
	for i, d := range c.Dimensions {
		if d.Name == "" || len(d.Name) > maxNameLen {
			bad("Dimensions[%d] name must be 1 to %d characters", i, maxNameLen)
		}
		if d.Value == "" || len(d.Value) > maxDimValueLen {
			bad("Dimensions[%d] (%s) value must be 1 to %d characters", i, d.Name, maxDimValueLen)
		}
	}
	if _, ok := upperStatistic[c.Statistic]; !ok {
		bad("Statistic %q is not one of SampleCount, Average, Sum, Minimum, Maximum", c.Statistic)
	}
	periodOK := validPeriod(c.Period)
	if !periodOK {
		bad("Period %s is not 10s, 20s, 30s or a multiple of 60s", c.Period)
	}
	if c.EvaluationPeriods < 1 {
		bad("EvaluationPeriods %d is below 1", c.EvaluationPeriods)
	}
	switch {
	case c.DatapointsToAlarm < 0:
		bad("DatapointsToAlarm %d is negative", c.DatapointsToAlarm)
	case c.EvaluationPeriods >= 1 && c.DatapointsToAlarm > c.EvaluationPeriods:
		bad("DatapointsToAlarm %d is greater than EvaluationPeriods %d", c.DatapointsToAlarm, c.EvaluationPeriods)
	}
	if periodOK && c.EvaluationPeriods >= 1 {
		limit := maxRange
		if c.Period < time.Hour {
			limit = maxShortRange
		}
		if total := c.Period * time.Duration(c.EvaluationPeriods); total > limit || total < 0 {
			bad("Period × EvaluationPeriods is %s, over %s", total, limit)
		}
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		bad("Threshold %v is not a finite number", c.Threshold)
	}
	switch c.ComparisonOperator {
	case GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold:
	case LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold:
		errs = append(errs, fmt.Errorf("%w %s: it compares against an anomaly detection band, "+
			"which this package does not evaluate; use one of the four static threshold operators", ErrUnsupportedOperator, c.ComparisonOperator))
	default:
		bad("ComparisonOperator %q is not one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, "+
			"LessThanThreshold, LessThanOrEqualToThreshold", c.ComparisonOperator)
	}
	switch c.TreatMissingData {
	case "", TreatMissing, TreatNotBreaching, TreatBreaching, TreatIgnore:
	default:
		bad("TreatMissingData %q is not one of missing, notBreaching, breaching, ignore", c.TreatMissingData)
	}
	if c.Unit != "" && !slices.Contains(units, c.Unit) {
		bad("Unit %q is not a CloudWatch standard unit", c.Unit)
	}
	for _, list := range []struct {
		name    string
		actions []string
	}{
		{"AlarmActions", c.AlarmActions},
		{"OKActions", c.OKActions},
		{"InsufficientDataActions", c.InsufficientDataActions},
	} {
		if len(list.actions) > maxActions {
			bad("%d %s, over %d", len(list.actions), list.name, maxActions)
		}
		for i, a := range list.actions {
			if !strings.HasPrefix(a, "arn:") || len(a) > maxActionLen {
				bad("%s[%d] %q is not an ARN of at most %d characters", list.name, i, a, maxActionLen)
			}
		}
	}
	return errors.Join(errs...)
}

// validPeriod reports whether p is a period PutMetricAlarm accepts.
func validPeriod(p time.Duration) bool {
	switch p {
	case 10 * time.Second, 20 * time.Second, 30 * time.Second:
		return true
	}
	return p > 0 && p%time.Minute == 0
}

// isASCII reports whether s holds only ASCII characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7f {
			return false
		}
	}
	return true
}

// breaches reports whether value crosses the threshold under op. Callers
// have validated op.
func breaches(op string, value, threshold float64) bool {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return value >= threshold
	case GreaterThanThreshold:
		return value > threshold
	case LessThanThreshold:
		return value < threshold
	case LessThanOrEqualToThreshold:
		return value <= threshold
	}
	return false
}
