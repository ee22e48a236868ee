// Package alarm evaluates a CloudWatch metric alarm the way CloudWatch does,
// without calling AWS: the local twin runs it over the metrics it derives
// from log events, and the tests pin it to AWS's documentation.
//
// The sources are the CloudWatch User Guide pages "Alarm evaluation" and
// "Configuring how CloudWatch alarms treat missing data"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html,
// formerly part of AlarmThatSendsEmail.html), the PutMetricAlarm API
// reference, and notifications CloudWatch has actually sent (quoted in the
// tests).
//
// # Model
//
// A Config is a PutMetricAlarm request for one metric with a static
// threshold; Config.Validate applies PutMetricAlarm's rules and reports every
// problem at once. An Evaluator holds the alarm state, starting, like a new
// alarm, in INSUFFICIENT_DATA. Evaluator.Evaluate takes the raw samples of
// the metric (Datapoint) and the current time, and returns a Transition when
// the state changes; Notification and Subject turn a Transition into the SNS
// message and email subject CloudWatch would publish.
//
// # Periods and the evaluation range
//
// Evaluate ends the newest period at now truncated to the minute (to 10
// seconds for periods under a minute) and looks back over the evaluation
// range: EvaluationPeriods + 2 periods, each Period long. This follows
// CloudWatch, whose alarm periods line up with the evaluation minute rather
// than with multiples of Period: a 10-minute alarm evaluated at 14:06 reports
// a datapoint for 13:56. The period in progress is not evaluated. Each
// period's samples are reduced to one datapoint with the Statistic.
//
// AWS does not publish how long the evaluation range is ("a higher number of
// data points than Evaluation Periods", which its examples show as 5 for 3).
// Adding 2 periods reproduces every documented example; for large N the real
// range may be longer.
//
// # Deciding the state
//
// With N = EvaluationPeriods and M = DatapointsToAlarm (N when unset), a
// datapoint breaches when ComparisonOperator(value, Threshold) holds:
//
//   - At least N real datapoints in the range: the N most recent decide,
//     wherever they are; ALARM if at least M breach, else OK. Missing data
//     treatment does not matter.
//   - Fewer than N: all of them count, and the most recent missing periods
//     are filled in to make N. With breaching or notBreaching the filled
//     periods count as such. With missing (the default) or ignore they count
//     neither way: ALARM if M real datapoints breach; OK if any real
//     datapoint does not breach; ALARM ("premature alarm state") if all real
//     datapoints breach and the oldest is at least M periods old; otherwise,
//     or with no datapoints at all, INSUFFICIENT_DATA. Where missing would
//     give INSUFFICIENT_DATA or the premature ALARM, ignore keeps the current
//     state instead.
//
// These rules reproduce, row by row, both tables of the missing-data page and
// the two rows of its earlier revision (see the tests). Two readings were
// needed to make all rows agree: "ignore" evaluates like "missing" whenever
// there is real data (the tables show OK, not "retain", for 0 - - - -), and
// the premature ALARM needs every real datapoint of the range to breach (the
// page's wording alone would also fire on 0 - X - -, which its table shows
// as OK).
//
// # Reasons and notifications
//
// Transition.Reason is worded as CloudWatch words NewStateReason:
// "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (25/11/26
// 14:02:00), 4.0 (25/11/26 14:00:00)] were greater than the threshold (1.0)
// (minimum 2 datapoints for OK -> ALARM transition)." — the "out of the last"
// form and the "minimum" clause appear only when DatapointsToAlarm is set,
// as in CloudWatch. Numbers print as Java does (1.0, 1.0E7), datapoint times
// as dd/mm/yy in UTC. Transition.ReasonData is a StateReasonData-like JSON
// document; AWS does not document its contents, so it is modelled on
// observed examples.
//
// # Inferred, not documented
//
// Besides the length of the evaluation range, these details come from
// notifications CloudWatch has sent rather than from documentation: the
// alignment of periods to the evaluation minute, the reason wording, the
// Message layout. The tests rebuild several real messages byte for byte. The
// following have no real example to check against and may be off: the
// reason for the premature ALARM, for INSUFFICIENT_DATA with some data
// ("Insufficient Data: 2 datapoints were unknown.") and for a state that
// only filled-in periods support ("1 datapoint was received for 3 periods
// and 2 missing datapoints were treated as [Breaching].", seen once); the
// contents of ReasonData beyond its common fields; the "SAMPLE_COUNT"
// spelling in Trigger.Statistic; and the display names of the newest
// regions.
//
// # Not modelled
//
// Metric math, percentiles (ExtendedStatistic), anomaly detection operators
// (rejected by Validate with ErrUnsupportedOperator), composite alarms,
// Metrics Insights queries, the AWS/DynamoDB rule that always ignores
// missing data, data that arrives after the evaluation that needed it, alarm
// actions other than the SNS message, and the plain-text body CloudWatch
// sends to email subscriptions.
package alarm
