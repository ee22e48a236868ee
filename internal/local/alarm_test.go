package local

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// fakeCloudWatch records the alarm calls; existing are the alarms
// DescribeAlarms finds.
type fakeCloudWatch struct {
	existing []types.MetricAlarm
	put      []*cloudwatch.PutMetricAlarmInput
	states   []*cloudwatch.SetAlarmStateInput
}

func (f *fakeCloudWatch) DescribeAlarms(_ context.Context, _ *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: f.existing}, nil
}

func (f *fakeCloudWatch) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	f.put = append(f.put, in)
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func (f *fakeCloudWatch) SetAlarmState(_ context.Context, in *cloudwatch.SetAlarmStateInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	f.states = append(f.states, in)
	return &cloudwatch.SetAlarmStateOutput{}, nil
}

// fakeTopics records what is published.
type fakeTopics struct{ published []*sns.PublishInput }

func (f *fakeTopics) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.published = append(f.published, in)
	return &sns.PublishOutput{}, nil
}

const (
	alarmTopic = "arn:aws:sns:us-east-1:123456789012:alarms"
	okTopic    = "arn:aws:sns:us-east-1:123456789012:recoveries"
)

func testAlarmConfig() alarm.Config {
	return alarm.Config{
		Name: "app-error-lines", Description: "error lines", Namespace: "LogAlert/app", MetricName: "ErrorCount",
		Statistic: alarm.StatisticSum, Period: time.Minute, EvaluationPeriods: 1, DatapointsToAlarm: 1, Threshold: 1,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching,
		AlarmActions: []string{alarmTopic, "arn:aws:automate:us-east-1:ec2:stop"}, OKActions: []string{okTopic},
		Region: "us-east-1", AccountID: "123456789012",
	}
}

// A second run against the same endpoint finds the alarm: it keeps its
// state, as PutMetricAlarm keeps it in CloudWatch, and notifies nobody
// until the state really changes.
func TestAlarmKeepsTheStateOfAnExistingAlarm(t *testing.T) {
	cw, topics := &fakeCloudWatch{}, &fakeTopics{}
	cw.existing = []types.MetricAlarm{{
		AlarmName: aws.String("app-error-lines"), StateValue: types.StateValueOk,
		StateReason: aws.String("Threshold Crossed: no datapoints were received"), StateUpdatedTimestamp: aws.Time(time.Now()),
	}}
	a, err := NewAlarm(cw, topics, testAlarmConfig())
	require.NoError(t, err)
	require.NoError(t, a.Create(t.Context()))
	assert.Equal(t, alarm.StateOK, a.State())
	require.Len(t, cw.states, 1)
	assert.Equal(t, types.StateValueOk, cw.states[0].StateValue, "the state moto's PutMetricAlarm reset is put back")

	_, changed, err := a.Evaluate(t.Context(), time.Date(2026, 11, 25, 14, 0, 1, 0, time.UTC))
	require.NoError(t, err)
	assert.False(t, changed, "no data, not breaching: still OK")
	assert.Empty(t, a.Transitions())
	assert.Empty(t, topics.published)
}

func TestAlarmLifecycle(t *testing.T) {
	cw, topics := &fakeCloudWatch{}, &fakeTopics{}
	a, err := NewAlarm(cw, topics, testAlarmConfig())
	require.NoError(t, err)
	ctx := t.Context()

	require.NoError(t, a.Create(ctx))
	require.Len(t, cw.put, 1)
	in := cw.put[0]
	assert.Equal(t, "app-error-lines", *in.AlarmName)
	assert.Equal(t, types.StatisticSum, in.Statistic)
	assert.Equal(t, int32(60), *in.Period)
	assert.Equal(t, int32(1), *in.DatapointsToAlarm)
	assert.Equal(t, "notBreaching", *in.TreatMissingData)
	assert.Equal(t, []string{okTopic}, in.OKActions)
	require.Len(t, cw.states, 1)
	assert.Equal(t, types.StateValueInsufficientData, cw.states[0].StateValue, "a new alarm starts without data")

	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	step := func(at time.Duration) (alarm.Transition, bool) {
		tr, changed, err := a.Evaluate(ctx, t0.Add(at))
		require.NoError(t, err)
		return tr, changed
	}

	tr, changed := step(time.Second)
	require.True(t, changed)
	assert.Equal(t, alarm.StateOK, tr.New, "no data, not breaching")

	for range 3 {
		a.Observe(Sample{Namespace: "LogAlert/app", MetricName: "ErrorCount", Datapoint: alarm.Datapoint{Timestamp: t0.Add(10 * time.Second), Value: 1}})
	}
	a.Observe(Sample{Namespace: "LogAlert/app", MetricName: "Other", Datapoint: alarm.Datapoint{Timestamp: t0, Value: 100}})
	a.Observe(Sample{Namespace: "LogAlert/app", MetricName: "ErrorCount", Dimensions: map[string]string{"x": "y"}, Datapoint: alarm.Datapoint{Timestamp: t0, Value: 100}})

	_, changed = step(30 * time.Second)
	assert.False(t, changed, "the period is still in progress")
	assert.False(t, a.Settled(t0.Add(30*time.Second)))

	tr, changed = step(61 * time.Second)
	require.True(t, changed)
	assert.Equal(t, alarm.StateAlarm, tr.New)
	assert.Contains(t, tr.Reason, "[3.0 (25/11/26 14:00:00)]")
	assert.False(t, a.Settled(t0.Add(61*time.Second)), "ALARM until the datapoint ages out")

	for _, at := range []time.Duration{2 * time.Minute, 3*time.Minute + time.Second} {
		_, changed = step(at)
		assert.False(t, changed, "still ALARM at %s", at)
	}
	tr, changed = step(4*time.Minute + time.Second)
	require.True(t, changed)
	assert.Equal(t, alarm.StateOK, tr.New)
	assert.True(t, a.Settled(t0.Add(4*time.Minute+time.Second)))

	var states []types.StateValue
	for _, s := range cw.states {
		states = append(states, s.StateValue)
	}
	assert.Equal(t, []types.StateValue{"INSUFFICIENT_DATA", "OK", "ALARM", "OK"}, states)
	assert.NotEmpty(t, *cw.states[2].StateReasonData)

	// Each state's actions: the OK topic twice, the ALARM topic once; the
	// EC2 action is not run.
	require.Len(t, topics.published, 3)
	assert.Equal(t, []string{okTopic, alarmTopic, okTopic},
		[]string{*topics.published[0].TopicArn, *topics.published[1].TopicArn, *topics.published[2].TopicArn})
	assert.Equal(t, `ALARM: "app-error-lines" in US East (N. Virginia)`, *topics.published[1].Subject)
	var msg alarm.Message
	require.NoError(t, json.Unmarshal([]byte(*topics.published[1].Message), &msg))
	assert.Equal(t, alarm.StateOK, msg.OldStateValue)
	assert.Equal(t, alarm.StateAlarm, msg.NewStateValue)
	assert.Equal(t, 3, a.Published())
	assert.Len(t, a.Transitions(), 3)
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"a longer reason", 10, "a longe..."},
		{"héllo wörld", 5, "h..."}, // é is not cut in half
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), tc.n)
		})
	}
}

func TestRestingState(t *testing.T) {
	tests := []struct {
		treat   string
		current alarm.State
		want    alarm.State
	}{
		{alarm.TreatNotBreaching, alarm.StateAlarm, alarm.StateOK},
		{alarm.TreatBreaching, alarm.StateOK, alarm.StateAlarm},
		{alarm.TreatMissing, alarm.StateOK, alarm.StateInsufficientData},
		{"", alarm.StateAlarm, alarm.StateInsufficientData},
		{alarm.TreatIgnore, alarm.StateAlarm, alarm.StateAlarm},
		{alarm.TreatIgnore, alarm.StateOK, alarm.StateOK},
	}
	for _, tc := range tests {
		t.Run(tc.treat+"/"+string(tc.current), func(t *testing.T) {
			assert.Equal(t, tc.want, restingState(tc.treat, tc.current))
		})
	}
}
