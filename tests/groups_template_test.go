package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

// stubEnv resolves the template with stand-in ids and attributes.
func stubEnv(tmpl *samtemplate.Template) *samtemplate.Env {
	ids := map[string]string{}
	for _, id := range tmpl.LogicalIDs() {
		ids[id] = "logalert-" + id
	}
	ids["AppLogGroup"], ids["ProcessorLogGroup"] = "/logalert/logalert/app", "/logalert/logalert/processor"
	return &samtemplate.Env{
		StackName:   "logalert",
		PhysicalIDs: ids,
		GetAtt: func(id, attr string) (any, error) {
			return "arn:aws:stub:us-east-1:123456789012:" + id + "/" + attr, nil
		},
	}
}

// activeOfType returns the logical ids of the active resources of typ.
func activeOfType(t *testing.T, tmpl *samtemplate.Template, typ string) []string {
	t.Helper()
	var out []string
	for _, r := range tmpl.ResourcesOfType(typ) {
		ok, err := tmpl.Active(r.LogicalID, stubEnv(tmpl))
		require.NoError(t, err)
		if ok {
			out = append(out, r.LogicalID)
		}
	}
	return out
}

func resolve(t *testing.T, tmpl *samtemplate.Template, id string) map[string]any {
	t.Helper()
	p, err := tmpl.ResolveProperties(id, stubEnv(tmpl))
	require.NoError(t, err)
	return p
}

// By default the stack watches its own app group, as before LogGroupNames.
func TestTemplateWatchesAppGroupByDefault(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	assert.Equal(t, []string{"ErrorMetricFilter"}, activeOfType(t, tmpl, "AWS::Logs::MetricFilter"))
	assert.Equal(t, []string{"ProcessorSubscriptionFilter"}, activeOfType(t, tmpl, "AWS::Logs::SubscriptionFilter"))
	assert.Equal(t, []string{"ProcessorLogsPermission"}, activeOfType(t, tmpl, "AWS::Lambda::Permission"))
	assert.Empty(t, activeOfType(t, tmpl, "AWS::Logs::AccountPolicy"))
	assert.Empty(t, activeOfType(t, tmpl, "AWS::IAM::RolePolicy"))
	env := resolve(t, tmpl, "EmitterFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, "/logalert/logalert/app", env["WATCHED_LOG_GROUPS"])
}

func TestTemplateLogGroupNames(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	require.NoError(t, tmpl.SetParameters(map[string]string{"LogGroupNames": "/shop/api,/aws/lambda/shop-worker"}))
	groups := map[string]string{"shopapi": "/shop/api", "awslambdashopworker": "/aws/lambda/shop-worker"}

	assert.ElementsMatch(t, []string{"WatchedMetricFiltershopapi", "WatchedMetricFilterawslambdashopworker"}, activeOfType(t, tmpl, "AWS::Logs::MetricFilter"))
	assert.ElementsMatch(t, []string{"WatchedSubscriptionFiltershopapi", "WatchedSubscriptionFilterawslambdashopworker"}, activeOfType(t, tmpl, "AWS::Logs::SubscriptionFilter"))
	assert.ElementsMatch(t, []string{"WatchedLogsPermissionshopapi", "WatchedLogsPermissionawslambdashopworker"}, activeOfType(t, tmpl, "AWS::Lambda::Permission"),
		"one permission per group, none for the app group")
	// The user's groups are never the stack's: no LogGroup resource names them.
	for _, id := range activeOfType(t, tmpl, "AWS::Logs::LogGroup") {
		name := resolve(t, tmpl, id)["LogGroupName"]
		assert.NotContains(t, groups, name)
		assert.True(t, strings.HasPrefix(name.(string), "/logalert/"), name)
	}
	alarm := resolve(t, tmpl, "ErrorAlarm")
	for suffix, group := range groups {
		mf := resolve(t, tmpl, "WatchedMetricFilter"+suffix)
		assert.Equal(t, group, mf["LogGroupName"])
		tr := mf["MetricTransformations"].([]any)[0].(map[string]any)
		assert.Equal(t, alarm["Namespace"], tr["MetricNamespace"], "every metric filter feeds the one alarm")
		assert.Equal(t, alarm["MetricName"], tr["MetricName"])

		perm := resolve(t, tmpl, "WatchedLogsPermission"+suffix)
		assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:"+group+":*", perm["SourceArn"])
		assert.Equal(t, "logs.amazonaws.com", perm["Principal"])

		sf, err := tmpl.Resource("WatchedSubscriptionFilter" + suffix)
		require.NoError(t, err)
		assert.Equal(t, []string{"WatchedLogsPermission" + suffix}, sf.DependsOn, "the filter waits for its permission")
		assert.Equal(t, group, resolve(t, tmpl, sf.LogicalID)["LogGroupName"])

		pol := resolve(t, tmpl, "EmitterWrites"+suffix)
		b, err := json.Marshal(pol["PolicyDocument"])
		require.NoError(t, err)
		assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],
			"Resource":["arn:aws:logs:us-east-1:123456789012:log-group:`+group+`","arn:aws:logs:us-east-1:123456789012:log-group:`+group+`:log-stream:*"]}]}`, string(b))
	}
	env := resolve(t, tmpl, "EmitterFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, "/shop/api,/aws/lambda/shop-worker", env["WATCHED_LOG_GROUPS"])

	body, _ := resolveDashboard(t, tmpl)
	assert.Contains(t, body, `SOURCE '/shop/api' | SOURCE '/aws/lambda/shop-worker' | filter @message like /ERROR|FATAL|CRITICAL/ | stats count(*) as errors by @log`)
	outputs, err := tmpl.EvalOutputs(stubEnv(tmpl))
	require.NoError(t, err)
	assert.Equal(t, "/shop/api,/aws/lambda/shop-worker", outputs["WatchedLogGroups"])

	// Two names that differ only in what &{} drops would share logical ids.
	assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(map[string]string{"LogGroupNames": "/shop/api,/shop-api"}), "is given twice")
}

func TestTemplateWatchAccount(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	require.NoError(t, tmpl.SetParameters(map[string]string{"WatchAccount": "true", "LogGroupNames": "/shop/api", "ExcludedLogGroupPrefixes": "/aws/codebuild/,/noisy/", "ErrorPattern": `{ $.level = "error" }`}))
	assert.Equal(t, []string{"AccountSubscriptionPolicy"}, activeOfType(t, tmpl, "AWS::Logs::AccountPolicy"))
	pol := resolve(t, tmpl, "AccountSubscriptionPolicy")
	assert.Equal(t, "SUBSCRIPTION_FILTER_POLICY", pol["PolicyType"])
	assert.Equal(t, "ALL", pol["Scope"])
	assert.JSONEq(t, `{"DestinationArn":"arn:aws:stub:us-east-1:123456789012:ProcessorFunction/Arn","FilterPattern":"{ $.level = \"error\" }","Distribution":"Random"}`, pol["PolicyDocument"].(string))
	assert.Equal(t, `LogGroupName NOT IN ["/logalert/logalert/app", "/logalert/logalert/processor", "/shop/api"]`, pol["SelectionCriteria"],
		"the stack's own groups and the directly watched ones are left out")
	p, err := tmpl.Resource("AccountSubscriptionPolicy")
	require.NoError(t, err)
	assert.Equal(t, []string{"AccountLogsPermission"}, p.DependsOn)
	perm := resolve(t, tmpl, "AccountLogsPermission")
	assert.Equal(t, "arn:aws:logs:us-east-1:123456789012:log-group:*", perm["SourceArn"])
	assert.Equal(t, "123456789012", perm["SourceAccount"])

	env := resolve(t, tmpl, "ProcessorFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, "/aws/codebuild/,/noisy/", env["EXCLUDED_LOG_GROUP_PREFIXES"])

	alarm := resolve(t, tmpl, "AccountErrorAlarm")
	assert.Equal(t, "LogAlert/logalert/Processor", alarm["Namespace"])
	assert.Equal(t, "EventsMatched", alarm["MetricName"])
	assert.Equal(t, env["METRICS_NAMESPACE"], alarm["Namespace"], "the processor's own EMF namespace")

	_, dash := resolveDashboard(t, tmpl)
	var alarms []any
	for _, w := range dash.Widgets {
		if w.Type == "alarm" {
			alarms, _ = w.Properties["alarms"].([]any)
		}
	}
	assert.Contains(t, alarms, "arn:aws:stub:us-east-1:123456789012:AccountErrorAlarm/Arn")

	// Without LogGroupNames only the stack's two groups are left out.
	tmpl = loadRepoTemplate(t)
	require.NoError(t, tmpl.SetParameters(map[string]string{"WatchAccount": "true"}))
	assert.Equal(t, `LogGroupName NOT IN ["/logalert/logalert/app", "/logalert/logalert/processor"]`, resolve(t, tmpl, "AccountSubscriptionPolicy")["SelectionCriteria"])
}
