package tests

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/local"
)

// invocationGroups is a local.FaultFunc that fails nothing and records the
// log group of every delivery the processor is invoked with.
type invocationGroups struct {
	mu     sync.Mutex
	groups map[string]int
}

func (g *invocationGroups) fault(_ int, ev events.CloudwatchLogsEvent) error {
	p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
	if err != nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups == nil {
		g.groups = map[string]int{}
	}
	g.groups[p.LogGroup]++
	return nil
}

func (g *invocationGroups) count(group string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.groups[group]
}

// incidentGroups counts a run's incidents per log group.
func incidentGroups(res *local.Result) map[string]int {
	out := map[string]int{}
	for _, in := range res.Incidents {
		out[in.LogGroup]++
	}
	return out
}

// groupsStack names a stack of the test's own (awstest.Name) and
// creates the user's groups, named after it by name(stack).
func groupsStack(t *testing.T, prefix string, name func(stack string) []string) (aws.Config, *cloudwatchlogs.Client, string, []string) {
	t.Helper()
	cfg := newConfig(t, motoURL)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	stack := awstest.Name(t, prefix)
	groups := name(stack)
	require.NoError(t, local.CreateUserGroups(t.Context(), logs, groups))
	return cfg, logs, stack, groups
}

func wentToAlarm(res *local.Result, name string) bool {
	for _, a := range res.Alarms {
		if a.Name != name {
			continue
		}
		for _, tr := range a.Transitions {
			if tr.New == alarm.StateAlarm {
				return true
			}
		}
	}
	return false
}

// LogGroupNames: the user's existing groups are watched as they are, the
// emitter writes into each, the one alarm fires on all of them and each
// group gets its incidents.
func TestLogGroupNamesEndToEnd(t *testing.T) {
	ctx := t.Context()
	cfg, logs, stack, groups := groupsStack(t, "grp", func(s string) []string { return []string{"/shop/" + s + "/api", "/shop/" + s + "/worker"} })
	api, worker := groups[0], groups[1]
	_, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(worker), RetentionInDays: aws.Int32(3)})
	require.NoError(t, err)

	tw, err := local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"LogGroupNames": api + "," + worker, "AlarmEmail": "oncall@example.com"},
		Mailer:    &email.Outbox{Dir: t.TempDir()},
	})
	require.NoError(t, err)
	dep := tw.Deployment()
	assert.Equal(t, []string{api, worker}, dep.LogGroups)
	assert.Equal(t, api, dep.LogGroup, "the emitter's default is the first named group")
	require.Len(t, dep.Alarms, 1, "one alarm for every group")

	for _, g := range []string{api, worker} {
		sum, err := tw.Emit(ctx, emit.Request{ErrorCount: ptr(3), WarnCount: ptr(1), InfoCount: ptr(2), LogGroup: g})
		require.NoError(t, err)
		assert.Equal(t, g, sum.LogGroup)
	}
	_, err = tw.Emit(ctx, emit.Request{LogGroup: "/somebody/else"})
	assert.ErrorIs(t, err, emit.ErrBadRequest, "only the watched groups")
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)

	assert.True(t, wentToAlarm(res, dep.Alarms[0]), "the one alarm fired: %+v", res.Alarms)
	assert.Equal(t, 12, res.Metrics.Events, "both groups' metric filters applied")
	assert.Equal(t, 6.0, res.Metrics.Sum)
	byGroup := incidentGroups(res)
	assert.Equal(t, 3, byGroup[api], "three incidents in %s: %v", api, byGroup)
	assert.Equal(t, 3, byGroup[worker])
	assert.Len(t, byGroup, 2)

	for _, g := range []string{api, worker} {
		mf, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(g)})
		require.NoError(t, err)
		assert.Len(t, mf.MetricFilters, 1, "the stack's metric filter on %s", g)
	}
	out, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(worker)})
	require.NoError(t, err)
	require.Len(t, out.LogGroups, 1)
	assert.Equal(t, int32(3), aws.ToInt32(out.LogGroups[0].RetentionInDays), "the user's retention is left as it was")
}

// A group that does not exist, or already has two subscription filters,
// is refused before anything is set up, saying what to do.
func TestLogGroupNamesRefusals(t *testing.T) {
	ctx := t.Context()
	cfg, logs, stack, groups := groupsStack(t, "grp", func(s string) []string { return []string{"/shop/" + s + "/full", "/shop/" + s + "/sink"} })
	full, sink := groups[0], groups[1]
	for _, name := range []string{"to-splunk", "to-datadog"} {
		_, err := logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{
			LogGroupName: aws.String(full), FilterName: aws.String(name), FilterPattern: aws.String(""),
			DestinationArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:" + sink),
		})
		require.NoError(t, err)
	}
	_, err := local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"LogGroupNames": full + ",/shop/" + stack + "/missing"},
	})
	require.Error(t, err)
	assert.ErrorContains(t, err, "log group "+full+" already has 2 subscription filters (to-splunk, to-datadog) and CloudWatch Logs allows 2 per group")
	assert.ErrorContains(t, err, "aws logs delete-subscription-filter --log-group-name "+full)
	assert.ErrorContains(t, err, "log group /shop/"+stack+"/missing does not exist")

	// A sixth regex pattern on one group.
	for i := range 5 {
		_, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String(sink), FilterName: aws.String(fmt.Sprintf("regex%d", i)), FilterPattern: aws.String(`%ERR[0-9]+%`),
			MetricTransformations: []logstypes.MetricTransformation{{MetricNamespace: aws.String("Team"), MetricName: aws.String("Errors"), MetricValue: aws.String("1")}},
		})
		require.NoError(t, err)
	}
	_, err = local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"LogGroupNames": sink, "ErrorPattern": "%ERROR|FATAL%"},
	})
	assert.ErrorContains(t, err, "log group "+sink+" would have 7 metric and subscription filter patterns with a regex; CloudWatch Logs allows 5 per group")
}

// WatchAccount: every group of the account reaches the processor but the
// stack's own, the processor's included; an error line in the processor's
// group never invokes it.
func TestWatchAccountEndToEnd(t *testing.T) {
	ctx := t.Context()
	cfg, logs, stack, groups := groupsStack(t, "acct", func(s string) []string { return []string{"/aws/lambda/" + s + "-orders"} })
	orders, web := groups[0], "/ecs/"+stack+"-web"
	var invoked invocationGroups
	tw, err := local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"WatchAccount": "true"},
		Fault:     invoked.fault,
	})
	require.NoError(t, err)
	dep := tw.Deployment()
	app, proc := "/logalert/"+stack+"/app", "/logalert/"+stack+"/processor"
	assert.Equal(t, "logalert-"+stack, dep.AccountPolicy)
	assert.Equal(t, []string{app, proc}, dep.ExcludedLogGroups)
	assert.Equal(t, proc, dep.ProcessorLogGroup)
	assert.Contains(t, dep.Alarms, stack+"-account-error-lines", "the alarm on the processor's EventsMatched is evaluated too")

	// A group created after the stack is watched too.
	require.NoError(t, local.CreateUserGroups(ctx, logs, []string{web}))
	lines, _, err := emit.Lines(emit.Request{ErrorCount: ptr(3), WarnCount: ptr(0), InfoCount: ptr(1)}, "run-"+stack)
	require.NoError(t, err)
	for _, g := range []string{orders, web} {
		require.NoError(t, tw.WriterIn(g, "app/1").WriteLines(ctx, lines))
	}
	// The processor's own error line: were it delivered, the processor
	// would log again, and again.
	require.NoError(t, tw.WriterIn(proc, "2026/12/02/[$LATEST]0").WriteLines(ctx, []string{`{"level":"ERROR","msg":"delivery failed","err":"boom"}`}))
	_, err = tw.Emit(ctx, emit.Request{ErrorCount: ptr(1), WarnCount: ptr(0), InfoCount: ptr(0)})
	require.NoError(t, err)
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)

	assert.Subset(t, res.Deployment.LogGroups, []string{app, orders, web})
	assert.NotContains(t, res.Deployment.LogGroups, proc)
	byGroup := incidentGroups(res)
	assert.Equal(t, 3, byGroup[orders], "%v", byGroup)
	assert.Equal(t, 3, byGroup[web])
	assert.Equal(t, 1, byGroup[app], "the app group through its own subscription filter, once: the policy leaves it out")
	assert.Zero(t, byGroup[proc])
	assert.Zero(t, invoked.count(proc), "the processor is never invoked with its own lines")
	assert.Equal(t, 1, invoked.count(app))
	assert.Positive(t, invoked.count(orders))
	assert.Equal(t, 0, res.Invocations.DeadLettered)
	assert.True(t, wentToAlarm(res, stack+"-account-error-lines"), "the account alarm fired on the processor's matched lines: %+v", res.Alarms)
}

// DeployEmitter=false: the twin still runs, the emitter's handler standing
// in for the user's application and writing into the first watched group
// (or naming another); the pipeline alarms and records as with the
// emitter.
func TestTwinWithoutEmitter(t *testing.T) {
	ctx := t.Context()
	cfg, _, stack, groups := groupsStack(t, "noemit", func(s string) []string { return []string{"/shop/" + s + "/api", "/shop/" + s + "/worker"} })
	api, worker := groups[0], groups[1]
	tw, err := local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"DeployEmitter": "false", "LogGroupNames": api + "," + worker},
	})
	require.NoError(t, err)
	dep := tw.Deployment()
	assert.Equal(t, []string{api, worker}, dep.LogGroups)
	assert.Equal(t, api, dep.LogGroup, "the lines go to the first watched group")
	assert.Contains(t, dep.Skipped, "the emitter (DeployEmitter=false): its handler writes the lines straight into "+api+", as the application would")

	sum, err := tw.Emit(ctx, emit.Request{ErrorCount: ptr(2), InfoCount: ptr(1)})
	require.NoError(t, err)
	assert.Equal(t, api, sum.LogGroup)
	sum, err = tw.Emit(ctx, emit.Request{ErrorCount: ptr(1), LogGroup: worker})
	require.NoError(t, err)
	assert.Equal(t, worker, sum.LogGroup)
	_, err = tw.Emit(ctx, emit.Request{LogGroup: "/somebody/else"})
	assert.ErrorIs(t, err, emit.ErrBadRequest, "only the watched groups")
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3.0, res.Metrics.Sum, "every error line counted")
	require.Len(t, dep.Alarms, 1)
	assert.True(t, wentToAlarm(res, dep.Alarms[0]), "the alarm fired: %+v", res.Alarms)
	byGroup := incidentGroups(res)
	assert.Equal(t, 2, byGroup[api], "incidents in %s: %v", api, byGroup)
	assert.Equal(t, 1, byGroup[worker])
}

// Without the emitter and without LogGroupNames, the lines go to the
// stack's own app group, which it watches.
func TestTwinWithoutEmitterAppGroup(t *testing.T) {
	ctx := t.Context()
	cfg := newConfig(t, motoURL)
	stack := awstest.Name(t, "noemit")
	tw, err := local.New(ctx, cfg, local.Config{
		Template: "../template.yaml", StackName: stack, Period: time.Second,
		Overrides: map[string]string{"DeployEmitter": "false"},
	})
	require.NoError(t, err)
	dep := tw.Deployment()
	assert.Equal(t, "/logalert/"+stack+"/app", dep.LogGroup)
	sum, err := tw.Emit(ctx, emit.Request{ErrorCount: ptr(1)})
	require.NoError(t, err)
	assert.Equal(t, dep.LogGroup, sum.LogGroup)
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1.0, res.Metrics.Sum)
	assert.Equal(t, 1, incidentGroups(res)[dep.LogGroup])
}
