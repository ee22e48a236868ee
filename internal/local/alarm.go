package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/logalert/logalert/internal/alarm"
)

// SetAlarmState limits on the reason and its data.
const (
	maxStateReason     = 1023
	maxStateReasonData = 4000
)

// alarmAPI is the subset of *cloudwatch.Client that Alarm calls.
type alarmAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// publisher is the subset of *sns.Client that Alarm calls.
type publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Alarm runs one CloudWatch metric alarm: it creates the alarm in the
// endpoint, evaluates it with internal/alarm over the samples of its metric,
// records each new state with SetAlarmState and, as CloudWatch does,
// publishes the alarm's notification to the SNS topics among the actions of
// the new state. Not safe for concurrent use.
type Alarm struct {
	cw          alarmAPI
	sns         publisher
	cfg         alarm.Config
	ev          *alarm.Evaluator
	samples     []alarm.Datapoint
	last        time.Time // newest sample
	transitions []alarm.Transition
	published   int
}

// NewAlarm validates cfg (as PutMetricAlarm would) and returns its Alarm.
func NewAlarm(cw alarmAPI, topics publisher, cfg alarm.Config) (*Alarm, error) {
	ev, err := alarm.NewEvaluator(cfg)
	if err != nil {
		return nil, err
	}
	return &Alarm{cw: cw, sns: topics, cfg: cfg, ev: ev}, nil
}

// State returns the alarm's current state.
func (a *Alarm) State() alarm.State { return a.ev.State() }

// Transitions returns the state changes so far, oldest first.
func (a *Alarm) Transitions() []alarm.Transition { return a.transitions }

// Published counts the notifications published to SNS.
func (a *Alarm) Published() int { return a.published }

// Create puts the alarm into the endpoint and sets it to INSUFFICIENT_DATA,
// the state of a new CloudWatch alarm (moto starts alarms in OK). An alarm
// that already exists (a second run against the same endpoint) keeps its
// state, as PutMetricAlarm keeps it in CloudWatch, so a rerun sends no
// spurious INSUFFICIENT_DATA -> OK notification.
func (a *Alarm) Create(ctx context.Context) error {
	c := a.cfg
	old, err := a.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{c.Name}})
	if err != nil {
		return fmt.Errorf("look up alarm %s: %w", c.Name, err)
	}
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:               aws.String(c.Name),
		Namespace:               aws.String(c.Namespace),
		MetricName:              aws.String(c.MetricName),
		Statistic:               types.Statistic(c.Statistic),
		Period:                  aws.Int32(int32(c.Period / time.Second)),
		EvaluationPeriods:       aws.Int32(int32(c.EvaluationPeriods)),
		Threshold:               aws.Float64(c.Threshold),
		ComparisonOperator:      types.ComparisonOperator(c.ComparisonOperator),
		AlarmActions:            c.AlarmActions,
		OKActions:               c.OKActions,
		InsufficientDataActions: c.InsufficientDataActions,
		ActionsEnabled:          aws.Bool(true),
	}
	if c.Description != "" {
		in.AlarmDescription = aws.String(c.Description)
	}
	if c.DatapointsToAlarm > 0 {
		in.DatapointsToAlarm = aws.Int32(int32(c.DatapointsToAlarm))
	}
	if c.TreatMissingData != "" {
		in.TreatMissingData = aws.String(c.TreatMissingData)
	}
	if c.Unit != "" {
		in.Unit = types.StandardUnit(c.Unit)
	}
	for _, d := range c.Dimensions {
		in.Dimensions = append(in.Dimensions, types.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
	}
	if _, err := a.cw.PutMetricAlarm(ctx, in); err != nil {
		return fmt.Errorf("create alarm %s: %w", c.Name, err)
	}
	for _, m := range old.MetricAlarms {
		if aws.ToString(m.AlarmName) == c.Name {
			if _, _, err := a.ev.SetState(alarm.State(m.StateValue), aws.ToString(m.StateReason), m.StateUpdatedTimestamp.UTC()); err != nil {
				return fmt.Errorf("alarm %s: %w", c.Name, err)
			}
		}
	}
	return a.setState(ctx, a.ev.State(), a.ev.Reason(), "")
}

// Observe records s if it is a sample of the alarm's metric (namespace,
// name and exactly the alarm's dimensions).
func (a *Alarm) Observe(s Sample) {
	if s.Namespace != a.cfg.Namespace || s.MetricName != a.cfg.MetricName || len(s.Dimensions) != len(a.cfg.Dimensions) {
		return
	}
	for _, d := range a.cfg.Dimensions {
		if v, ok := s.Dimensions[d.Name]; !ok || v != d.Value {
			return
		}
	}
	a.samples = append(a.samples, s.Datapoint)
	if s.Timestamp.After(a.last) {
		a.last = s.Timestamp
	}
}

// Evaluate evaluates the alarm at now (virtual time). On a change of state
// it sets the state in the endpoint, publishes the notification and returns
// the Transition.
func (a *Alarm) Evaluate(ctx context.Context, now time.Time) (alarm.Transition, bool, error) {
	a.prune(now)
	tr, changed, err := a.ev.Evaluate(now, a.samples)
	if err != nil || !changed {
		return tr, changed, err
	}
	a.transitions = append(a.transitions, tr)
	if err := a.setState(ctx, tr.New, tr.Reason, tr.ReasonData); err != nil {
		return tr, true, err
	}
	return tr, true, a.notify(ctx, tr)
}

// Settled reports that no new evaluation can change the state without new
// samples: the newest sample's period has been evaluated (two periods have
// passed since it) and the state is the one the alarm rests in once every
// sample has aged out of its evaluation range.
func (a *Alarm) Settled(now time.Time) bool {
	if !a.last.IsZero() && now.Sub(a.last) < 2*a.cfg.Period {
		return false
	}
	return a.ev.State() == restingState(a.cfg.TreatMissingData, a.ev.State())
}

// restingState is the state an alarm ends in when every period of its
// evaluation range is missing: what TreatMissingData makes of missing data,
// or the current state for "ignore".
func restingState(treat string, current alarm.State) alarm.State {
	switch treat {
	case alarm.TreatBreaching:
		return alarm.StateAlarm
	case alarm.TreatNotBreaching:
		return alarm.StateOK
	case alarm.TreatIgnore:
		return current
	}
	return alarm.StateInsufficientData
}

// prune drops the samples older than any evaluation range can reach: the
// package alarm looks back EvaluationPeriods + 2 periods, and a margin of
// three more keeps late evaluations exact.
func (a *Alarm) prune(now time.Time) {
	horizon := now.Add(-time.Duration(a.cfg.EvaluationPeriods+5) * a.cfg.Period)
	kept := a.samples[:0]
	for _, s := range a.samples {
		if !s.Timestamp.Before(horizon) {
			kept = append(kept, s)
		}
	}
	clear(a.samples[len(kept):])
	a.samples = kept
}

// setState records the state in the endpoint, within SetAlarmState's limits.
func (a *Alarm) setState(ctx context.Context, s alarm.State, reason, data string) error {
	in := &cloudwatch.SetAlarmStateInput{
		AlarmName:   aws.String(a.cfg.Name),
		StateValue:  types.StateValue(s),
		StateReason: aws.String(truncate(reason, maxStateReason)),
	}
	if data != "" && len(data) <= maxStateReasonData {
		in.StateReasonData = aws.String(data)
	}
	if _, err := a.cw.SetAlarmState(ctx, in); err != nil {
		return fmt.Errorf("set state of alarm %s to %s: %w", a.cfg.Name, s, err)
	}
	return nil
}

// notify publishes the notification of tr to every SNS topic among the
// actions of the new state; other actions (EC2, Auto Scaling, Lambda) are
// not run locally.
func (a *Alarm) notify(ctx context.Context, tr alarm.Transition) error {
	var actions []string
	switch tr.New {
	case alarm.StateAlarm:
		actions = a.cfg.AlarmActions
	case alarm.StateOK:
		actions = a.cfg.OKActions
	case alarm.StateInsufficientData:
		actions = a.cfg.InsufficientDataActions
	}
	subject, msg, err := alarm.Notification(a.cfg, tr)
	if err != nil {
		return err
	}
	for _, arn := range actions {
		if arnService(arn) != "sns" {
			continue
		}
		if _, err := a.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String(subject), Message: aws.String(string(msg))}); err != nil {
			return fmt.Errorf("alarm %s: publish %s notification to %s: %w", a.cfg.Name, tr.New, arn, err)
		}
		a.published++
	}
	return nil
}

// truncate cuts s to at most n bytes, ending it with "..." when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "..."
}

// arnService returns the service of an ARN ("sns" for
// arn:aws:sns:us-east-1:123456789012:alerts), or "".
func arnService(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.Service
}
