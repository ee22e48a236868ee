package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
	"github.com/logalert/logalert/internal/store"
)

const templatePath = "../template.yaml"

// processorActions is exactly what the processor calls: internal/store's
// BatchGetItem, TransactWriteItems of Put items (authorized per item as
// dynamodb:PutItem), UpdateItem (alert claims) and BatchWriteItem;
// internal/notify's sns:Publish to the
// KMS-encrypted topic; Lambda's on-failure destination; its own logs.
var processorActions = []string{
	"dynamodb:BatchGetItem",
	"dynamodb:BatchWriteItem",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
	"kms:Decrypt",
	"kms:GenerateDataKey",
	"logs:CreateLogStream",
	"logs:PutLogEvents",
	"sns:Publish",
	"sqs:SendMessage",
}

// emitterActions: the emitter only writes its own lines.
var emitterActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// securityChecks are the template's security and reliability properties.
// Each comes with a way to break it, so TestTemplateChecksCatchRegressions
// proves the check can fail.
var securityChecks = []struct {
	name  string
	check func(*samtemplate.Template) error
	// breakIt changes the template so that check must fail.
	breakIt func(*samtemplate.Template)
}{
	{
		name:    "the processor uses the key only through SNS, for the alerts topic",
		check:   checkProcessorKeyGrant,
		breakIt: func(t *samtemplate.Template) { delete(processorKeyStatement(t), "Condition") },
	},
	{
		name:  "CloudWatch uses the key only for the stack's alarms",
		check: checkAlarmKeyGrant,
		breakIt: func(t *samtemplate.Template) {
			delete(keyStatement(t, "cloudwatch.amazonaws.com")["Condition"].(map[string]any), "ArnLike")
		},
	},
	{
		name:    "what holds data is retained or deleted on purpose",
		check:   checkDeletionPolicies,
		breakIt: func(t *samtemplate.Template) { t.Resources["ProcessorDeadLetterQueue"].DeletionPolicy = "" },
	},
	{
		name:  "function policies have no wildcard action and no wildcard logs ARN",
		check: checkNoWildcards,
		breakIt: func(t *samtemplate.Template) {
			addStatement(t, "EmitterRole", map[string]any{"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:*"})
		},
	},
	{
		name:    "processor actions are exactly the expected list",
		check:   func(t *samtemplate.Template) error { return checkActions(t, "ProcessorFunction", processorActions) },
		breakIt: func(t *samtemplate.Template) { addStatement(t, "ProcessorRole", allow("dynamodb:Scan", "x")) },
	},
	{
		name:    "emitter actions are exactly the expected list",
		check:   func(t *samtemplate.Template) error { return checkActions(t, "EmitterFunction", emitterActions) },
		breakIt: func(t *samtemplate.Template) { addStatement(t, "EmitterRole", allow("sns:Publish", "x")) },
	},
	{
		name:  "functions use explicit roles without managed policies",
		check: checkExplicitRoles,
		breakIt: func(t *samtemplate.Template) {
			delete(t.Resources["EmitterFunction"].Properties, "Role")
		},
	},
	{
		name:  "processor failures go to the DLQ through EventInvokeConfig with 2 retries",
		check: checkDeadLetterQueue,
		breakIt: func(t *samtemplate.Template) {
			set(t, "ProcessorFunction", "EventInvokeConfig.MaximumRetryAttempts", 0)
		},
	},
	{
		name:    "every log group has RetentionInDays and KmsKeyId",
		check:   checkLogGroups,
		breakIt: func(t *samtemplate.Template) { delete(t.Resources["ProcessorLogGroup"].Properties, "KmsKeyId") },
	},
	{
		name:    "every function logs to a log group of the stack",
		check:   checkFunctionLogGroups,
		breakIt: func(t *samtemplate.Template) { delete(t.Resources["ProcessorFunction"].Properties, "LoggingConfig") },
	},
	{
		name:  "incidents table has PITR, SSE, deletion protection, TTL and is retained",
		check: checkTable,
		breakIt: func(t *samtemplate.Template) {
			set(t, "IncidentsTable", "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", false)
		},
	},
	{
		name:    "alerts topic is encrypted with the stack's key",
		check:   checkTopic,
		breakIt: func(t *samtemplate.Template) { delete(t.Resources["AlertsTopic"].Properties, "KmsMasterKeyId") },
	},
	{
		name:    "dead-letter queue has SSE and 14 days' retention",
		check:   checkQueue,
		breakIt: func(t *samtemplate.Template) { set(t, "ProcessorDeadLetterQueue", "MessageRetentionPeriod", 345600) },
	},
	{
		name:    "subscription filter depends on a scoped Lambda permission",
		check:   checkSubscription,
		breakIt: func(t *samtemplate.Template) { delete(t.Resources["ProcessorLogsPermission"].Properties, "SourceArn") },
	},
	{
		name:    "subscription filter waits for the permission",
		check:   checkSubscription,
		breakIt: func(t *samtemplate.Template) { t.Resources["ProcessorSubscriptionFilter"].DependsOn = nil },
	},
	{
		name:    "alarms treat missing data as not breaching and notify on ALARM, and on OK with NotifyOnOk",
		check:   checkAlarms,
		breakIt: func(t *samtemplate.Template) { delete(t.Resources["ErrorAlarm"].Properties, "OKActions") },
	},
	{
		name:    "error alarm uses the metric filter's metric and the parameters",
		check:   checkErrorAlarm,
		breakIt: func(t *samtemplate.Template) { set(t, "ErrorAlarm", "TreatMissingData", "breaching") },
	},
	{
		name:  "KMS key rotates and scopes CloudWatch Logs to the stack's log groups",
		check: checkKey,
		breakIt: func(t *samtemplate.Template) {
			stmts, _ := t.Resources["LogsKey"].Property("KeyPolicy.Statement")
			delete(stmts.([]any)[1].(map[string]any), "Condition")
		},
	},
	{
		name:    "second subscription exists only with its protocol, filters on message attributes",
		check:   checkSecondSubscription,
		breakIt: func(t *samtemplate.Template) { set(t, "AlertsSecondSubscription", "FilterPolicyScope", "MessageBody") },
	},
	{
		name:    "second subscription is conditioned on its protocol",
		check:   checkSecondSubscription,
		breakIt: func(t *samtemplate.Template) { t.Resources["AlertsSecondSubscription"].Condition = "" },
	},
	{
		name:    "email subscription exists only with AlarmEmail",
		check:   checkEmailSubscription,
		breakIt: func(t *samtemplate.Template) { t.Resources["AlertsEmailSubscription"].Condition = "" },
	},
}

func TestTemplateSecurity(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	for _, tc := range securityChecks {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, tc.check(tmpl))
		})
	}
}

// TestTemplateChecksCatchRegressions breaks the template in memory, one
// property at a time, and requires the matching check to notice.
func TestTemplateChecksCatchRegressions(t *testing.T) {
	for _, tc := range securityChecks {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := loadRepoTemplate(t)
			tc.breakIt(tmpl)
			assert.Error(t, tc.check(tmpl))
		})
	}
}

func TestTemplateParameters(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	tests := []struct {
		name, want string
	}{
		{"AlarmEmail", ""},
		{"ErrorPattern", "?ERROR ?FATAL ?CRITICAL"},
		{"DashboardErrorRegex", "ERROR|FATAL|CRITICAL"},
		{"AlarmThreshold", "1"},
		{"AlarmPeriodSeconds", "60"},
		{"EvaluationPeriods", "1"},
		{"DatapointsToAlarm", "1"},
		{"LogRetentionDays", "14"},
		{"MaxEventAgeSeconds", "3600"},
		{"AlertBurst", "5"},
		{"AlertWindowSeconds", "300"},
		{"ProcessorMemorySize", "256"},
		{"ProcessorReservedConcurrency", "0"},
		{"LogGroupNames", ""},
		{"WatchAccount", "false"},
		{"ExcludedLogGroupPrefixes", ""},
		{"DeployEmitter", "true"},
		{"RedactPatterns", ""},
		{"NotifyOnOk", "true"},
		{"SecondSubscriptionProtocol", ""},
		{"SecondSubscriptionEndpoint", ""},
		{"SecondSubscriptionFilterPolicy", ""},
		{"SecondSubscriptionRoleArn", ""},
		{"MemberAccountIds", ""},
		{"OrganizationId", ""},
		{"WriterExternalId", ""},
		{"KinesisShardCount", "1"},
		{"KinesisRetentionHours", "24"},
		{"KinesisBatchSize", "100"},
		{"KinesisBatchWindowSeconds", "5"},
		{"KinesisMaximumRetryAttempts", "3"},
		{"KinesisMaximumRecordAgeSeconds", "3600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tmpl.Parameter(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Len(t, tmpl.Parameters, len(tests), "a new parameter needs a default here and in samconfig.toml")

	err := tmpl.SetParameters(map[string]string{"AlarmEmail": "not an email", "AlarmPeriodSeconds": "45", "LogRetentionDays": "13", "DashboardErrorRegex": `"ERROR"`})
	require.Error(t, err)
	for _, p := range []string{"AlarmEmail", "AlarmPeriodSeconds", "LogRetentionDays", "DashboardErrorRegex"} {
		assert.ErrorContains(t, err, "parameter "+p)
	}
	assert.NoError(t, tmpl.SetParameters(map[string]string{"AlarmEmail": "ops@example.com"}))

	// M out of N: the Rules reject M > N before any change set, for every N.
	for n := 1; n <= 24; n++ {
		ok := map[string]string{"EvaluationPeriods": strconv.Itoa(n), "DatapointsToAlarm": strconv.Itoa(n)}
		assert.NoError(t, loadRepoTemplate(t).SetParameters(ok), "%d out of %d", n, n)
		if n < 24 {
			bad := map[string]string{"EvaluationPeriods": strconv.Itoa(n), "DatapointsToAlarm": strconv.Itoa(n + 1)}
			assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(bad),
				fmt.Sprintf("DatapointsToAlarm must be at most EvaluationPeriods (%d)", n), "%d out of %d", n+1, n)
		}
	}
}

// samconfig.toml's parameter_overrides must be valid and spell out the
// template's defaults, all but AlarmEmail and WriterExternalId: left out, a
// plain `sam deploy` keeps the address and the shared secret the stack was
// deployed with instead of resetting them (and a secret has no place in a
// committed file).
func TestTemplateSamconfigOverrides(t *testing.T) {
	data, err := os.ReadFile("../samconfig.toml")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^parameter_overrides\s*=\s*'(.*)'\s*$`).FindSubmatch(data)
	require.NotNil(t, m, "samconfig.toml: no parameter_overrides = '...' line")
	ov, err := samtemplate.ParseOverrides(string(m[1]))
	require.NoError(t, err)
	tmpl := loadRepoTemplate(t)
	defaults := tmpl.ParameterValues()
	delete(defaults, "AlarmEmail")
	delete(defaults, "WriterExternalId")
	require.NoError(t, tmpl.SetParameters(ov))
	assert.Equal(t, defaults, ov)
	for _, line := range []string{`version = 0.1`, `stack_name = "logalert"`, `parallel = true`, `resolve_s3 = true`, `confirm_changeset = true`} {
		assert.Contains(t, string(data), line)
	}
	assert.Regexp(t, `(?m)^capabilities = ".*CAPABILITY_IAM.*"$`, string(data))
	assert.NotRegexp(t, `\d{12}|profile\s*=`, string(data), "no account ids or profiles in samconfig.toml")
}

// ProcessorReservedConcurrency 0 leaves the function unreserved (any
// reservation fails on accounts at the minimum quota); another value
// reserves exactly that.
func TestProcessorReservedConcurrency(t *testing.T) {
	tests := []struct {
		value string
		want  any // nil: the property is absent
	}{
		{"0", nil},
		{"5", 5},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			tmpl := loadRepoTemplate(t)
			require.NoError(t, tmpl.SetParameters(map[string]string{"ProcessorReservedConcurrency": tc.value}))
			fn, err := tmpl.Resource("ProcessorFunction")
			require.NoError(t, err)
			raw, ok := fn.Property("ReservedConcurrentExecutions")
			require.True(t, ok, "the property is there, conditioned")
			// Evaluated inside its map, as CloudFormation does, so that
			// AWS::NoValue removes the key.
			props, err := tmpl.Eval(map[string]any{"ReservedConcurrentExecutions": raw}, &samtemplate.Env{StackName: "logalert"})
			require.NoError(t, err)
			got, ok := props.(map[string]any)["ReservedConcurrentExecutions"]
			if tc.want == nil {
				assert.False(t, ok, "ReservedConcurrentExecutions = %v", got)
				return
			}
			require.True(t, ok)
			n, err := samtemplate.Int(got)
			require.NoError(t, err)
			assert.EqualValues(t, tc.want, n)
		})
	}
}

// The processor names its stack, alarm and dashboard in the alerts (their
// commands and links): the environment must name the template's own.
func TestProcessorNamesItsDeployment(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	fn, err := tmpl.Resource("ProcessorFunction")
	require.NoError(t, err)
	dash, err := tmpl.Resource("Dashboard")
	require.NoError(t, err)
	vars, ok := fn.Property("Environment.Variables")
	require.True(t, ok)
	env := vars.(map[string]any)
	assert.Equal(t, ref("AWS::StackName"), env["STACK_NAME"])
	assert.Equal(t, ref("ErrorAlarm"), env["ERROR_ALARM_NAME"])
	name, ok := dash.Property("DashboardName")
	require.True(t, ok)
	assert.Equal(t, name, env["DASHBOARD_NAME"], "the dashboard by the name it is given (a Ref would be a cycle)")
}

// Idempotency markers must outlive the dead-letter queue's retention, or a
// payload redriven late would be counted a second time.
func TestMarkerTTLOutlivesTheDeadLetterQueue(t *testing.T) {
	r, err := loadRepoTemplate(t).Resource("ProcessorDeadLetterQueue")
	require.NoError(t, err)
	v, ok := r.Property("MessageRetentionPeriod")
	require.True(t, ok)
	seconds, err := samtemplate.Int(v)
	require.NoError(t, err)
	assert.Greater(t, store.DefaultMarkerTTL, time.Duration(seconds)*time.Second+24*time.Hour,
		"markers must live at least a day longer than the DLQ keeps a payload")
}

// TestTemplateCfnLint runs cfn-lint, which knows the SAM transform and every
// resource schema, on the central template and member.yaml; any finding
// fails.
func TestTemplateCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not on PATH (pip install cfn-lint); template lint skipped")
	}
	for _, path := range []string{templatePath, memberPath} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, path).CombinedOutput()
			assert.NoError(t, err, "cfn-lint: %s", out)
			assert.Empty(t, strings.TrimSpace(string(out)), "cfn-lint findings")
		})
	}
}

// The dashboard body is JSON only once Fn::Sub has run: resolve it with
// stand-in ids and check the widgets the operators rely on.
func TestTemplateDashboard(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	// A JSON filter pattern holds quotes; the body must stay valid JSON.
	require.NoError(t, tmpl.SetParameters(map[string]string{"ErrorPattern": `{ $.level = "ERROR" }`, "DashboardErrorRegex": "level.:.ERROR"}))
	body, dash := resolveDashboard(t, tmpl)

	all := body
	tests := []struct{ name, want string }{
		{"error count metric", `["LogAlert/logalert", "ErrorCount"`},
		{"threshold annotation", `"horizontal": [{"label": "alarm threshold", "value": 1}]`},
		{"alarm status", `"type": "alarm"`},
		{"error alarm in status", "ErrorAlarm/Arn"},
		{"logs insights on the app group", `SOURCE '/logalert/logalert/app'`},
		{"logs insights with DashboardErrorRegex", `filter @message like /level.:.ERROR/`},
		{"error lines per log group", `stats count(*) as errors by @log`},
		{"processor invocations", `["AWS/Lambda", "Invocations", "FunctionName", "logalert-ProcessorFunction"]`},
		{"processor errors, throttles, duration", `"Throttles"`},
		{"dead letters", `"ApproximateNumberOfMessagesVisible", "QueueName", "arn:aws:stub:us-east-1:123456789012:ProcessorDeadLetterQueue/QueueName"`},
		{"incidents opened", `["LogAlert/logalert/Processor", "IncidentsOpened"]`},
		{"incidents reopened beside them", `["LogAlert/logalert/Processor", "IncidentsOpened"], [".", "IncidentsReopened"]`},
		{"the way to the open incidents", "`logalert incidents list --stack logalert --region us-east-1 --status OPEN`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, all, tc.want)
		})
	}
	assert.Len(t, dash.Widgets, 8)
	// The incidents sit beside the alarm, on the top row.
	top := map[string]bool{}
	for _, w := range dash.Widgets {
		if w.Y == 0 {
			top[fmt.Sprint(w.Type, ":", w.Properties["title"])] = true
		}
	}
	assert.Equal(t, map[string]bool{"metric:Error lines (ErrorPattern)": true, "metric:Incidents opened and reopened (each mailed)": true, "alarm:Alarms": true}, top)
}

// dashboard is the part of a dashboard body the tests read.
type dashboard struct {
	Widgets []struct {
		Type       string         `json:"type"`
		Y          int            `json:"y"`
		Properties map[string]any `json:"properties"`
	} `json:"widgets"`
}

// resolveDashboard resolves the Dashboard's body with stand-in ids and
// requires it to be valid JSON.
func resolveDashboard(tb testing.TB, tmpl *samtemplate.Template) (string, dashboard) {
	tb.Helper()
	env := &samtemplate.Env{
		StackName:   "logalert",
		PhysicalIDs: map[string]string{"AppLogGroup": "/logalert/logalert/app", "ProcessorFunction": "logalert-ProcessorFunction"},
		GetAtt: func(id, attr string) (any, error) {
			return "arn:aws:stub:us-east-1:123456789012:" + id + "/" + attr, nil
		},
	}
	props, err := tmpl.ResolveProperties("Dashboard", env)
	require.NoError(tb, err)
	body, ok := props["DashboardBody"].(string)
	require.True(tb, ok, "DashboardBody is a string")
	var dash dashboard
	require.NoError(tb, json.Unmarshal([]byte(body), &dash), body)
	return body, dash
}

func loadRepoTemplate(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	tmpl, err := samtemplate.Load(templatePath)
	require.NoError(tb, err)
	return tmpl
}

// ----------------------------------------------------------------- checks

func functions(t *samtemplate.Template) []*samtemplate.Resource {
	return append(t.ResourcesOfType("AWS::Serverless::Function"), t.ResourcesOfType("AWS::Lambda::Function")...)
}

// policyStatements returns every IAM statement that applies to the function:
// its role's inline policies and any SAM Policies on the function. SAM
// policy templates and managed policy names are returned as errors, since
// their actions cannot be checked here.
func policyStatements(t *samtemplate.Template, fn *samtemplate.Resource) ([]map[string]any, error) {
	var stmts []map[string]any
	var errs []error
	addDoc := func(where string, doc any) {
		d, _ := doc.(map[string]any)
		switch s := d["Statement"].(type) {
		case []any:
			for _, x := range s {
				if m, ok := x.(map[string]any); ok {
					stmts = append(stmts, m)
				}
			}
		case map[string]any:
			stmts = append(stmts, s)
		default:
			errs = append(errs, fmt.Errorf("%s: no Statement", where))
		}
	}
	if role, err := roleOf(t, fn); err != nil {
		errs = append(errs, err)
	} else if role != nil {
		pols, _ := role.Properties["Policies"].([]any)
		for i, p := range pols {
			pm, _ := p.(map[string]any)
			addDoc(fmt.Sprintf("%s.Policies[%d]", role.LogicalID, i), pm["PolicyDocument"])
		}
	}
	switch p := fn.Properties["Policies"].(type) {
	case nil:
	case []any:
		for i, x := range p {
			if m, ok := x.(map[string]any); ok && m["Statement"] != nil {
				addDoc(fmt.Sprintf("%s.Policies[%d]", fn.LogicalID, i), m)
				continue
			}
			errs = append(errs, fmt.Errorf("%s.Policies[%d]: managed policy or SAM policy template %v: actions not checkable", fn.LogicalID, i, x))
		}
	case map[string]any:
		addDoc(fn.LogicalID+".Policies", p)
	default:
		errs = append(errs, fmt.Errorf("%s.Policies: managed policy %v: actions not checkable", fn.LogicalID, p))
	}
	return stmts, errors.Join(errs...)
}

// roleOf returns the AWS::IAM::Role of the template that the function's Role
// refers to, or nil when the function has none (SAM then generates one).
func roleOf(t *samtemplate.Template, fn *samtemplate.Resource) (*samtemplate.Resource, error) {
	raw, ok := fn.Properties["Role"]
	if !ok {
		return nil, nil
	}
	want := map[string]any{}
	if m, ok := raw.(map[string]any); ok {
		want = m
	}
	if ga, ok := want["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
		if id, ok := ga[0].(string); ok {
			if r, err := t.Resource(id); err == nil && r.Type == "AWS::IAM::Role" {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("%s.Role: %v is not !GetAtt <an AWS::IAM::Role of this template>.Arn", fn.LogicalID, raw)
}

func checkExplicitRoles(t *samtemplate.Template) error {
	var errs []error
	for _, fn := range functions(t) {
		role, err := roleOf(t, fn)
		switch {
		case err != nil:
			errs = append(errs, err)
		case role == nil:
			errs = append(errs, fmt.Errorf("%s: no Role, so SAM generates one with AWSLambdaBasicExecutionRole (logs actions on every resource)", fn.LogicalID))
		default:
			if _, ok := role.Properties["ManagedPolicyArns"]; ok {
				errs = append(errs, fmt.Errorf("%s: ManagedPolicyArns: managed policies are not least privilege here", role.LogicalID))
			}
		}
		if _, ok := fn.Properties["Policies"]; ok {
			errs = append(errs, fmt.Errorf("%s: Policies: put statements on its role instead", fn.LogicalID))
		}
	}
	return errors.Join(errs...)
}

// strs flattens an IAM Action or Resource value, and the literal text of
// intrinsic functions inside it, into strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, el := range x {
			out = append(out, strs(el)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, el := range x {
			out = append(out, strs(el)...)
		}
		return out
	}
	return nil
}

var wildcardLogsARN = regexp.MustCompile(`arn:[^:]*:logs:\*:\*:\*|logs:\*:\*:\*`)

func checkNoWildcards(t *samtemplate.Template) error {
	var errs []error
	for _, fn := range functions(t) {
		stmts, err := policyStatements(t, fn)
		if err != nil {
			errs = append(errs, err)
		}
		for i, s := range stmts {
			where := fmt.Sprintf("%s statement %d", fn.LogicalID, i)
			if _, ok := s["NotAction"]; ok {
				errs = append(errs, fmt.Errorf("%s: NotAction", where))
			}
			if _, ok := s["NotResource"]; ok {
				errs = append(errs, fmt.Errorf("%s: NotResource", where))
			}
			for _, a := range strs(s["Action"]) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					errs = append(errs, fmt.Errorf("%s: wildcard action %q", where, a))
				}
			}
			res, ok := s["Resource"]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no Resource", where))
			}
			for _, r := range strs(res) {
				if r == "*" {
					errs = append(errs, fmt.Errorf("%s: Resource \"*\"", where))
				}
				if wildcardLogsARN.MatchString(r) {
					errs = append(errs, fmt.Errorf("%s: wildcard logs ARN %q", where, r))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// actionsOf returns the sorted set of the statements' allowed actions.
func actionsOf(stmts []map[string]any) []string {
	set := map[string]bool{}
	for _, s := range stmts {
		if s["Effect"] == "Allow" {
			for _, a := range strs(s["Action"]) {
				set[a] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func checkActions(t *samtemplate.Template, fnID string, want []string) error {
	fn, err := t.Resource(fnID)
	if err != nil {
		return err
	}
	stmts, err := policyStatements(t, fn)
	if err != nil {
		return err
	}
	if got := actionsOf(stmts); !slices.Equal(got, want) {
		return fmt.Errorf("%s actions:\n got %v\nwant %v", fnID, got, want)
	}
	return nil
}

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// expect compares the raw value at path of resource id with want.
func expect(t *samtemplate.Template, id, path string, want any) error {
	r, err := t.Resource(id)
	if err != nil {
		return err
	}
	got, ok := r.Property(path)
	if !ok {
		return fmt.Errorf("%s.%s: missing (want %v)", id, path, want)
	}
	if b, isBool := want.(bool); isBool {
		if gb, err := samtemplate.Bool(got); err == nil && gb == b {
			return nil
		}
	} else if n, isInt := want.(int); isInt {
		if gn, err := samtemplate.Int(got); err == nil && gn == int64(n) {
			return nil
		}
	} else if reflect.DeepEqual(got, want) {
		return nil
	}
	return fmt.Errorf("%s.%s = %v, want %v", id, path, got, want)
}

func checkDeadLetterQueue(t *samtemplate.Template) error {
	errs := []error{
		expect(t, "ProcessorFunction", "EventInvokeConfig.MaximumRetryAttempts", 2),
		expect(t, "ProcessorFunction", "EventInvokeConfig.MaximumEventAgeInSeconds", ref("MaxEventAgeSeconds")),
		expect(t, "ProcessorFunction", "EventInvokeConfig.DestinationConfig.OnFailure.Type", "SQS"),
		expect(t, "ProcessorFunction", "EventInvokeConfig.DestinationConfig.OnFailure.Destination", getAtt("ProcessorDeadLetterQueue", "Arn")),
	}
	// The role must be allowed to send there.
	fn, err := t.Resource("ProcessorFunction")
	if err != nil {
		return err
	}
	stmts, err := policyStatements(t, fn)
	errs = append(errs, err)
	found := false
	for _, s := range stmts {
		if slices.Contains(strs(s["Action"]), "sqs:SendMessage") && reflect.DeepEqual(s["Resource"], getAtt("ProcessorDeadLetterQueue", "Arn")) {
			found = true
		}
	}
	if !found {
		errs = append(errs, errors.New("ProcessorRole: no sqs:SendMessage on ProcessorDeadLetterQueue.Arn"))
	}
	return errors.Join(errs...)
}

func checkLogGroups(t *samtemplate.Template) error {
	var errs []error
	groups := t.ResourcesOfType("AWS::Logs::LogGroup")
	if len(groups) == 0 {
		return errors.New("no AWS::Logs::LogGroup")
	}
	for _, g := range groups {
		errs = append(errs,
			expect(t, g.LogicalID, "RetentionInDays", ref("LogRetentionDays")),
			expect(t, g.LogicalID, "KmsKeyId", getAtt("LogsKey", "Arn")))
	}
	return errors.Join(errs...)
}

func checkFunctionLogGroups(t *samtemplate.Template) error {
	var errs []error
	for _, fn := range functions(t) {
		v, ok := fn.Property("LoggingConfig.LogGroup")
		m, _ := v.(map[string]any)
		id, _ := m["Ref"].(string)
		if r, err := t.Resource(id); !ok || err != nil || r.Type != "AWS::Logs::LogGroup" {
			errs = append(errs, fmt.Errorf("%s: LoggingConfig.LogGroup is not !Ref to a log group of the stack (Lambda would create /aws/lambda/... without retention or KMS)", fn.LogicalID))
		}
	}
	return errors.Join(errs...)
}

func checkTable(t *samtemplate.Template) error {
	r, err := t.Resource("IncidentsTable")
	if err != nil {
		return err
	}
	errs := []error{
		expect(t, "IncidentsTable", "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", true),
		expect(t, "IncidentsTable", "SSESpecification.SSEEnabled", true),
		expect(t, "IncidentsTable", "DeletionProtectionEnabled", true),
		expect(t, "IncidentsTable", "TimeToLiveSpecification.AttributeName", "expires_at"),
		expect(t, "IncidentsTable", "TimeToLiveSpecification.Enabled", true),
		expect(t, "IncidentsTable", "BillingMode", "PAY_PER_REQUEST"),
		expect(t, "IncidentsTable", "KeySchema", []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}}),
		expect(t, "IncidentsTable", "GlobalSecondaryIndexes.0.IndexName", "by-status-shard"),
		expect(t, "IncidentsTable", "GlobalSecondaryIndexes.0.KeySchema", []any{
			map[string]any{"AttributeName": "status_shard", "KeyType": "HASH"},
			map[string]any{"AttributeName": "last_seen", "KeyType": "RANGE"}}),
		expect(t, "IncidentsTable", "GlobalSecondaryIndexes.0.Projection.ProjectionType", "INCLUDE"),
	}
	if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
		errs = append(errs, fmt.Errorf("IncidentsTable: DeletionPolicy %q, UpdateReplacePolicy %q, want Retain", r.DeletionPolicy, r.UpdateReplacePolicy))
	}
	return errors.Join(errs...)
}

func checkTopic(t *samtemplate.Template) error {
	return expect(t, "AlertsTopic", "KmsMasterKeyId", getAtt("LogsKey", "Arn"))
}

func checkQueue(t *samtemplate.Template) error {
	return errors.Join(
		expect(t, "ProcessorDeadLetterQueue", "SqsManagedSseEnabled", true),
		expect(t, "ProcessorDeadLetterQueue", "MessageRetentionPeriod", 14*24*3600),
	)
}

func checkSubscription(t *samtemplate.Template) error {
	f, err := t.Resource("ProcessorSubscriptionFilter")
	if err != nil {
		return err
	}
	errs := []error{
		expect(t, "ProcessorLogsPermission", "Principal", "logs.amazonaws.com"),
		expect(t, "ProcessorLogsPermission", "Action", "lambda:InvokeFunction"),
		expect(t, "ProcessorLogsPermission", "SourceArn", getAtt("AppLogGroup", "Arn")),
		expect(t, "ProcessorLogsPermission", "SourceAccount", ref("AWS::AccountId")),
		expect(t, "ProcessorSubscriptionFilter", "DestinationArn", getAtt("ProcessorFunction", "Arn")),
		expect(t, "ProcessorSubscriptionFilter", "FilterPattern", ref("ErrorPattern")),
		expect(t, "ProcessorSubscriptionFilter", "LogGroupName", ref("AppLogGroup")),
	}
	if !slices.Contains(f.DependsOn, "ProcessorLogsPermission") {
		errs = append(errs, errors.New("ProcessorSubscriptionFilter: does not DependsOn ProcessorLogsPermission (creation races the permission)"))
	}
	return errors.Join(errs...)
}

func checkAlarms(t *samtemplate.Template) error {
	var errs []error
	alarms := t.ResourcesOfType("AWS::CloudWatch::Alarm")
	for _, want := range []string{"ErrorAlarm", "ProcessorErrorsAlarm", "ProcessorThrottlesAlarm", "DeadLetterQueueAlarm",
		"ProcessorDestinationFailuresAlarm", "ProcessorEventAgeAlarm", "IncidentsTableThrottleAlarm", "IncidentsIndexThrottleAlarm", "DeadLetterAgeAlarm"} {
		if !slices.ContainsFunc(alarms, func(r *samtemplate.Resource) bool { return r.LogicalID == want }) {
			errs = append(errs, fmt.Errorf("alarm %s: missing", want))
		}
	}
	for _, a := range alarms {
		errs = append(errs,
			expect(t, a.LogicalID, "TreatMissingData", "notBreaching"),
			expect(t, a.LogicalID, "AlarmActions", []any{ref("AlertsTopic")}),
			expect(t, a.LogicalID, "OKActions", map[string]any{"Fn::If": []any{"HasOkNotifications", []any{ref("AlertsTopic")}, ref("AWS::NoValue")}}))
	}
	return errors.Join(errs...)
}

func checkErrorAlarm(t *samtemplate.Template) error {
	return errors.Join(
		expect(t, "ErrorMetricFilter", "FilterPattern", ref("ErrorPattern")),
		expect(t, "ErrorMetricFilter", "LogGroupName", ref("AppLogGroup")),
		expect(t, "ErrorMetricFilter", "MetricTransformations.0.MetricName", "ErrorCount"),
		expect(t, "ErrorMetricFilter", "MetricTransformations.0.MetricNamespace", map[string]any{"Fn::Sub": "LogAlert/${AWS::StackName}"}),
		expect(t, "ErrorAlarm", "MetricName", "ErrorCount"),
		expect(t, "ErrorAlarm", "Namespace", map[string]any{"Fn::Sub": "LogAlert/${AWS::StackName}"}),
		expect(t, "ErrorAlarm", "Statistic", "Sum"),
		expect(t, "ErrorAlarm", "Period", ref("AlarmPeriodSeconds")),
		expect(t, "ErrorAlarm", "EvaluationPeriods", ref("EvaluationPeriods")),
		expect(t, "ErrorAlarm", "DatapointsToAlarm", ref("DatapointsToAlarm")),
		expect(t, "ErrorAlarm", "Threshold", ref("AlarmThreshold")),
		expect(t, "ErrorAlarm", "ComparisonOperator", "GreaterThanOrEqualToThreshold"),
		expect(t, "ErrorAlarm", "TreatMissingData", "notBreaching"),
	)
}

func checkKey(t *samtemplate.Template) error {
	errs := []error{expect(t, "LogsKey", "EnableKeyRotation", true)}
	stmts, _ := t.Resources["LogsKey"].Property("KeyPolicy.Statement")
	list, _ := stmts.([]any)
	logsScoped := false
	for _, s := range list {
		m, _ := s.(map[string]any)
		principal, _ := m["Principal"].(map[string]any)
		svc := strings.Join(strs(principal["Service"]), " ")
		if !strings.Contains(svc, "logs.") {
			continue
		}
		cond, _ := m["Condition"].(map[string]any)
		like, _ := cond["ArnLike"].(map[string]any)
		arn := strings.Join(strs(like["kms:EncryptionContext:aws:logs:arn"]), "")
		if strings.Contains(arn, "log-group:/logalert/${AWS::StackName}/") {
			logsScoped = true
		}
	}
	if !logsScoped {
		errs = append(errs, errors.New("LogsKey: no logs.<region> statement scoped with kms:EncryptionContext:aws:logs:arn to the stack's log groups"))
	}
	return errors.Join(errs...)
}

func checkEmailSubscription(t *samtemplate.Template) error {
	r, err := t.Resource("AlertsEmailSubscription")
	if err != nil {
		return err
	}
	if r.Condition != "HasAlarmEmail" {
		return fmt.Errorf("AlertsEmailSubscription: Condition %q, want HasAlarmEmail", r.Condition)
	}
	return errors.Join(
		expect(t, "AlertsEmailSubscription", "Protocol", "email"),
		expect(t, "AlertsEmailSubscription", "Endpoint", ref("AlarmEmail")),
	)
}

// checkSecondSubscription: the optional subscription exists only with a
// protocol, takes its endpoint, policy and role from the parameters
// (nothing when they are empty), filters on the message attributes the
// processor sets, and the topic policy lets nobody else publish for it.
func checkSecondSubscription(t *samtemplate.Template) error {
	r, err := t.Resource("AlertsSecondSubscription")
	if err != nil {
		return err
	}
	errs := []error{
		expect(t, "AlertsSecondSubscription", "TopicArn", ref("AlertsTopic")),
		expect(t, "AlertsSecondSubscription", "Protocol", ref("SecondSubscriptionProtocol")),
		expect(t, "AlertsSecondSubscription", "Endpoint", ref("SecondSubscriptionEndpoint")),
		expect(t, "AlertsSecondSubscription", "FilterPolicy", map[string]any{"Fn::If": []any{"HasSecondSubscriptionFilterPolicy", ref("SecondSubscriptionFilterPolicy"), ref("AWS::NoValue")}}),
		expect(t, "AlertsSecondSubscription", "FilterPolicyScope", map[string]any{"Fn::If": []any{"HasSecondSubscriptionFilterPolicy", "MessageAttributes", ref("AWS::NoValue")}}),
		expect(t, "AlertsSecondSubscription", "SubscriptionRoleArn", map[string]any{"Fn::If": []any{"HasSecondSubscriptionRole", ref("SecondSubscriptionRoleArn"), ref("AWS::NoValue")}}),
	}
	if r.Condition != "HasSecondSubscription" {
		errs = append(errs, fmt.Errorf("AlertsSecondSubscription: Condition %q, want HasSecondSubscription", r.Condition))
	}
	stmts, _ := t.Resources["AlertsTopicPolicy"].Property("PolicyDocument.Statement")
	for _, st := range stmts.([]any) {
		if st.(map[string]any)["Effect"] == "Allow" && strings.Contains(fmt.Sprint(st), "SecondSubscription") {
			errs = append(errs, fmt.Errorf("AlertsTopicPolicy: statement %v allows something for the second subscription", st))
		}
	}
	return errors.Join(errs...)
}

// ------------------------------------------------------- template breakers

func allow(action, resource string) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": action, "Resource": resource}
}

// addStatement appends an IAM statement to the role's first inline policy.
func addStatement(t *samtemplate.Template, roleID string, stmt map[string]any) {
	pol, _ := t.Resources[roleID].Property("Policies.0.PolicyDocument")
	doc := pol.(map[string]any)
	doc["Statement"] = append(doc["Statement"].([]any), stmt)
}

// set replaces the value at a dotted path of the resource's Properties.
func set(t *samtemplate.Template, id, path string, v any) {
	parts := strings.Split(path, ".")
	m := t.Resources[id].Properties
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	m[parts[len(parts)-1]] = v
}
