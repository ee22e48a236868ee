package local

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/samtemplate"
)

// stackEnv resolves the repository's template as if its stack "demo" had
// been created: names stackName-LogicalID unless the template names them,
// ARNs built from the names.
func stackEnv(tb testing.TB, overrides map[string]string) (*samtemplate.Template, *samtemplate.Env, map[string]map[string]string) {
	tb.Helper()
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(tb, err)
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
	env := &samtemplate.Env{
		StackName: "demo", Region: "us-east-1", AccountID: "123456789012", PhysicalIDs: ids,
		GetAtt: func(id, attr string) (any, error) { return attrs[id][attr], nil },
	}
	return tmpl, env, attrs
}

func TestTemplateSettings(t *testing.T) {
	tmpl, env, attrs := stackEnv(t, map[string]string{"ErrorPattern": "?ERROR ?PANIC", "AlarmThreshold": "3", "EvaluationPeriods": "3", "DatapointsToAlarm": "2"})

	emitter, err := emitterFunction(tmpl)
	require.NoError(t, err)
	assert.Equal(t, "EmitterFunction", emitter)
	em, err := function(tmpl, env, attrs, emitter)
	require.NoError(t, err)
	assert.Equal(t, "/logalert/demo/app", em.logGroup)

	filters, err := metricFilters(tmpl, env, "/logalert/demo/app")
	require.NoError(t, err)
	require.Len(t, filters, 1)
	mf := filters[0]
	assert.Equal(t, "?ERROR ?PANIC", mf.pattern.String(), "the ErrorPattern override")
	require.Len(t, mf.transforms, 1)
	tr := mf.transforms[0]
	assert.Equal(t, "LogAlert/demo", tr.Namespace)
	assert.Equal(t, "ErrorCount", tr.MetricName)
	assert.Equal(t, "Count", tr.Unit)
	assert.Equal(t, "1", tr.MetricValue)
	require.NotNil(t, tr.DefaultValue)
	assert.Zero(t, *tr.DefaultValue)

	cfgs, others, err := alarmConfigs(tmpl, env, attrs, map[metricKey]bool{{"LogAlert/demo", "ErrorCount"}: true})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"ProcessorErrorsAlarm", "ProcessorThrottlesAlarm", "DeadLetterQueueAlarm",
		"ProcessorDestinationFailuresAlarm", "ProcessorEventAgeAlarm", "IncidentsTableThrottleAlarm", "IncidentsIndexThrottleAlarm", "DeadLetterAgeAlarm"}, others)
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

	subs, err := subscriptionFilters(tmpl, env, attrs, "/logalert/demo/app")
	require.NoError(t, err)
	require.Len(t, subs, 1)
	assert.Equal(t, "ProcessorFunction", subs[0].destination)
	assert.Equal(t, "?ERROR ?PANIC", subs[0].pattern.String())

	fn, err := function(tmpl, env, attrs, "ProcessorFunction")
	require.NoError(t, err)
	assert.Equal(t, "processor/", fn.codeURI)
	assert.Equal(t, "demo-IncidentsTable", fn.env["INCIDENTS_TABLE"])
	assert.Equal(t, "?ERROR ?PANIC", fn.env["INCIDENT_PATTERN"])
	assert.Equal(t, InvokeConfig{FunctionARN: attrs["ProcessorFunction"]["Arn"], MaxRetries: 2, MaxEventAge: time.Hour, Timeout: 30 * time.Second}, fn.invoke)
	assert.Equal(t, attrs["ProcessorDeadLetterQueue"]["Arn"], fn.dlqARN)
}

func TestTemplateSettingsErrors(t *testing.T) {
	tmpl, env, attrs := stackEnv(t, nil)
	props := tmpl.Resources["ErrorAlarm"].Properties
	delete(props, "ComparisonOperator")
	props["Period"] = "sixty"
	_, _, err := alarmConfigs(tmpl, env, attrs, map[metricKey]bool{{"LogAlert/demo", "ErrorCount"}: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resource ErrorAlarm: Properties.ComparisonOperator: missing")
	assert.Contains(t, err.Error(), `resource ErrorAlarm: Properties.Period: "sixty" is not an integer`, "every problem is reported")

	tmpl, env, attrs = stackEnv(t, nil)
	tmpl.Resources["ErrorAlarm"].Properties["Statistic"] = "p99"
	_, _, err = alarmConfigs(tmpl, env, attrs, map[metricKey]bool{{"LogAlert/demo", "ErrorCount"}: true})
	assert.ErrorIs(t, err, alarm.ErrInvalidConfig, "PutMetricAlarm's rules apply")
}
