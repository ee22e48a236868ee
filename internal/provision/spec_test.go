package provision_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// demoStack is the repository's template and its stack "demo", as if it
// had been created: names stackName-LogicalID unless the template names
// them, ARNs built from the names.
func demoStack(tb testing.TB, overrides map[string]string) (*samtemplate.Template, *provision.Stack) {
	tb.Helper()
	tmpl := loadTemplate(tb)
	require.NoError(tb, tmpl.SetParameters(overrides))
	ids := map[string]string{}
	attrs := map[string]map[string]string{}
	for _, id := range tmpl.LogicalIDs() {
		ids[id] = "demo-" + id
		attrs[id] = map[string]string{"Arn": fmt.Sprintf("arn:aws:%s:us-east-1:123456789012:%s", strings.ToLower(id), ids[id]), "QueueName": ids[id]}
	}
	ids["AppLogGroup"] = "/logalert/demo/app"
	ids["ProcessorLogGroup"] = "/logalert/demo/processor"
	ids["ErrorAlarm"] = "demo-error-lines"
	ids["AlertsTopic"] = "arn:aws:sns:us-east-1:123456789012:demo-AlertsTopic"
	return tmpl, &provision.Stack{Name: "demo", Region: "us-east-1", AccountID: "123456789012", PhysicalIDs: ids, Attributes: attrs}
}

func TestSpecFromTemplate(t *testing.T) {
	tmpl, st := demoStack(t, map[string]string{"ErrorPattern": "?ERROR ?PANIC", "AlarmThreshold": "3", "EvaluationPeriods": "3", "DatapointsToAlarm": "2"})
	attrs := st.Attributes

	emitter, ok := provision.FunctionByCode(tmpl, "emitter")
	require.True(t, ok)
	assert.Equal(t, "EmitterFunction", emitter)
	_, ok = provision.FunctionByCode(tmpl, "nope")
	assert.False(t, ok)
	em, err := st.Function(tmpl, emitter)
	require.NoError(t, err)
	assert.Equal(t, "/logalert/demo/app", em.LogGroup)

	filters, err := st.MetricFilters(tmpl, "/logalert/demo/app")
	require.NoError(t, err)
	require.Len(t, filters, 1)
	mf := filters[0]
	assert.Equal(t, "?ERROR ?PANIC", mf.Pattern.String(), "the ErrorPattern override")
	require.Len(t, mf.Transformations, 1)
	tr := mf.Transformations[0]
	assert.Equal(t, "LogAlert/demo", tr.Namespace)
	assert.Equal(t, "ErrorCount", tr.MetricName)
	assert.Equal(t, "Count", tr.Unit)
	assert.Equal(t, "1", tr.MetricValue)
	require.NotNil(t, tr.DefaultValue)
	assert.Zero(t, *tr.DefaultValue)

	cfgs, others, err := st.Alarms(tmpl, filters)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"ProcessorErrorsAlarm", "ProcessorThrottlesAlarm", "DeadLetterQueueAlarm", "DeadLetterAgeAlarm",
		"ProcessorDestinationFailuresAlarm", "ProcessorEventAgeAlarm", "IncidentsTableThrottleAlarm", "IncidentsIndexThrottleAlarm"}, others)
	require.Len(t, cfgs, 1)
	c := cfgs[0]
	assert.Equal(t, "demo-error-lines", c.Name)
	assert.Equal(t, alarm.StatisticSum, c.Statistic)
	assert.Equal(t, time.Minute, c.Period)
	assert.Equal(t, 3, c.EvaluationPeriods)
	assert.Equal(t, 2, c.DatapointsToAlarm)
	assert.Equal(t, 3.0, c.Threshold)
	assert.Equal(t, alarm.GreaterThanOrEqualToThreshold, c.ComparisonOperator)
	assert.Equal(t, alarm.TreatNotBreaching, c.TreatMissingData)
	assert.Equal(t, []string{"arn:aws:sns:us-east-1:123456789012:demo-AlertsTopic"}, c.AlarmActions)
	assert.Equal(t, c.AlarmActions, c.OKActions)
	assert.Equal(t, attrs["ErrorAlarm"]["Arn"], c.ARN)

	subs, err := st.SubscriptionFilters(tmpl, "/logalert/demo/app")
	require.NoError(t, err)
	require.Len(t, subs, 1)
	assert.Equal(t, "ProcessorFunction", subs[0].Destination)
	assert.Equal(t, "?ERROR ?PANIC", subs[0].Pattern.String())

	fn, err := st.Function(tmpl, "ProcessorFunction")
	require.NoError(t, err)
	assert.Equal(t, "processor/", fn.CodeURI)
	assert.Equal(t, "demo-IncidentsTable", fn.Env["INCIDENTS_TABLE"])
	assert.Equal(t, "?ERROR ?PANIC", fn.Env["INCIDENT_PATTERN"])
	assert.Equal(t, attrs["ProcessorFunction"]["Arn"], fn.ARN)
	assert.Equal(t, 2, fn.MaxRetries)
	assert.Equal(t, time.Hour, fn.MaxEventAge)
	assert.Equal(t, 30*time.Second, fn.Timeout)
	assert.Equal(t, attrs["ProcessorDeadLetterQueue"]["Arn"], fn.OnFailure)
	assert.Equal(t, []time.Duration{time.Minute}, fn.Schedules, "the FlushDigests schedule")
	assert.Equal(t, "5", fn.Env["ALERT_BURST"])
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		expr    string
		want    time.Duration
		wantErr string
	}{
		{"rate(1 minute)", time.Minute, ""},
		{"rate(5 minutes)", 5 * time.Minute, ""},
		{"rate(2 hours)", 2 * time.Hour, ""},
		{"rate(1 day)", 24 * time.Hour, ""},
		{"rate(1 minutes)", 0, `unit "minutes"`},
		{"rate(3 minute)", 0, `unit "minute"`},
		{"rate(0 minutes)", 0, "positive whole number"},
		{"rate(5 weeks)", 0, `unit "weeks"`},
		{"cron(0 12 * * ? *)", 0, "no cron expressions"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := provision.ParseRate(tc.expr)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSpecErrors(t *testing.T) {
	tmpl, st := demoStack(t, nil)
	filters, err := st.MetricFilters(tmpl, "/logalert/demo/app")
	require.NoError(t, err)
	props := tmpl.Resources["ErrorAlarm"].Properties
	delete(props, "ComparisonOperator")
	props["Period"] = "sixty"
	_, _, err = st.Alarms(tmpl, filters)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resource ErrorAlarm: Properties.ComparisonOperator: missing")
	assert.Contains(t, err.Error(), `resource ErrorAlarm: Properties.Period: "sixty" is not an integer`, "every problem is reported")

	tmpl, st = demoStack(t, nil)
	tmpl.Resources["ErrorAlarm"].Properties["Statistic"] = "p99"
	_, _, err = st.Alarms(tmpl, filters)
	assert.ErrorIs(t, err, alarm.ErrInvalidConfig, "PutMetricAlarm's rules apply")

	tmpl, st = demoStack(t, nil)
	tmpl.Resources["ProcessorFunction"].Properties["Timeout"] = "half a minute"
	tmpl.Resources["ProcessorFunction"].Properties["Environment"] = map[string]any{"Variables": map[string]any{"BAD": []any{"a list"}}}
	_, err = st.Function(tmpl, "ProcessorFunction")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `resource ProcessorFunction: Properties.Timeout: "half a minute" is not an integer`)
	assert.Contains(t, err.Error(), "resource ProcessorFunction: Properties.Environment.Variables.BAD: want a scalar, got a list", "a value that does not convert is reported, not dropped")

	tmpl, st = demoStack(t, nil)
	tmpl.Resources["ProcessorFunction"].Properties["Events"] = map[string]any{"Tick": map[string]any{"Type": "Schedule", "Properties": map[string]any{"Schedule": "cron(0 * * * ? *)"}}}
	_, err = st.Function(tmpl, "ProcessorFunction")
	assert.ErrorContains(t, err, "resource ProcessorFunction: Properties.Events.Tick.Properties.Schedule")
}

func TestParseSelectionCriteria(t *testing.T) {
	got, err := provision.ParseSelectionCriteria(`LogGroupName NOT IN ["/logalert/s/app", "/logalert/s/processor"]`)
	require.NoError(t, err)
	assert.Equal(t, []string{"/logalert/s/app", "/logalert/s/processor"}, got)
	got, err = provision.ParseSelectionCriteria("")
	require.NoError(t, err)
	assert.Empty(t, got, "no criteria: every group")
	for _, bad := range []string{`LogGroupName IN ["a"]`, `LogGroupName NOT IN [a]`, `LogGroupName LIKE '/aws/%'`} {
		_, err := provision.ParseSelectionCriteria(bad)
		assert.Error(t, err, bad)
	}
}

// With LogGroupNames and WatchAccount: group "" reads the filters of every
// group, each carrying its group; the account policy is read with its
// exclusions; the alarm on the processor's EMF namespace is selected when
// the namespace is given, and is another service's without it.
func TestSpecGroupsAndAccountPolicy(t *testing.T) {
	tmpl, st := demoStack(t, map[string]string{"LogGroupNames": "/shop/api,/shop/worker", "WatchAccount": "true"})

	filters, err := st.MetricFilters(tmpl, "")
	require.NoError(t, err)
	groups := map[string]string{}
	for _, f := range filters {
		groups[f.Group] = f.Name
	}
	assert.Equal(t, map[string]string{
		"/shop/api": "demo-WatchedMetricFiltershopapi", "/shop/worker": "demo-WatchedMetricFiltershopworker",
	}, groups, "one metric filter per named group; the app group is not watched")
	one, err := st.MetricFilters(tmpl, "/shop/worker")
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "/shop/worker", one[0].Group)

	subs, err := st.SubscriptionFilters(tmpl, "")
	require.NoError(t, err)
	require.Len(t, subs, 2)
	for _, s := range subs {
		assert.Equal(t, "ProcessorFunction", s.Destination)
		assert.Equal(t, "WatchedSubscriptionFilter"+samtemplate.Alphanumeric(s.Group), s.LogicalID)
	}

	policies, err := st.AccountPolicies(tmpl)
	require.NoError(t, err)
	require.Len(t, policies, 1)
	p := policies[0]
	assert.Equal(t, "AccountSubscriptionPolicy", p.LogicalID)
	assert.Equal(t, "logalert-demo", p.Name)
	assert.Equal(t, "ProcessorFunction", p.Destination)
	assert.Equal(t, "?ERROR ?FATAL ?CRITICAL", p.Pattern.String())
	assert.Equal(t, map[string]bool{"/logalert/demo/app": true, "/logalert/demo/processor": true, "/shop/api": true, "/shop/worker": true}, p.Excluded)

	cfgs, others, err := st.Alarms(tmpl, filters)
	require.NoError(t, err)
	assert.Contains(t, others, "AccountErrorAlarm", "EMF metrics only count with their namespace")
	require.Len(t, cfgs, 1)
	assert.Equal(t, "demo-error-lines", cfgs[0].Name, "the error alarm counts the named groups' metric filters")
	cfgs, others, err = st.Alarms(tmpl, filters, "LogAlert/demo/Processor")
	require.NoError(t, err)
	assert.NotContains(t, others, "AccountErrorAlarm")
	require.Len(t, cfgs, 2)
	assert.Equal(t, "demo-AccountErrorAlarm", cfgs[0].Name)
	assert.Equal(t, "EventsMatched", cfgs[0].MetricName)
}

// A policy whose destination is not a function of the template, or whose
// selection criteria are not NOT IN, is refused with every problem named.
func TestSpecAccountPolicyErrors(t *testing.T) {
	tmpl, st := demoStack(t, map[string]string{"WatchAccount": "true"})
	props := tmpl.Resources["AccountSubscriptionPolicy"].Properties
	props["PolicyDocument"] = `{"DestinationArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "FilterPattern": ""}`
	props["SelectionCriteria"] = `LogGroupName LIKE '/aws/%'`
	props["Scope"] = "SOME"
	_, err := st.AccountPolicies(tmpl)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resource AccountSubscriptionPolicy: Properties.PolicyDocument.DestinationArn: arn:aws:kinesis:us-east-1:123456789012:stream/s is not a function of the template")
	assert.Contains(t, err.Error(), "Properties.SelectionCriteria:")
	assert.Contains(t, err.Error(), `Properties.Scope: "SOME": the only scope is ALL`)
}
