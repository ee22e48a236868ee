package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

// The central account (issue 11, docs/central-account.md): template.yaml
// evaluated with stand-in ids (stubEnv), no AWS.

const memberPath = "../member.yaml"

// Two member accounts, as the demo runs them.
const (
	memberA = "111111111111"
	memberB = "222222222222"
	orgID   = "o-abcdefghij"
	// stubEnv's account and Region.
	centralAccount = "123456789012"
	destinationArn = "arn:aws:logs:us-east-1:" + centralAccount + ":destination:logalert-central"
)

// centralIDs are the resources the central account adds; with the
// defaults none of them exists.
var centralIDs = []string{"CentralLogStream", "CentralDestinationRole", "CentralLogDestination", "ProcessorKinesisPolicy",
	"ProcessorKinesisMapping", "OrganizationErrorAlarm", "CrossAccountWriterRole"}

// centralTypes are the resource types only the central account uses.
var centralTypes = []string{"AWS::Kinesis::Stream", "AWS::Logs::Destination", "AWS::Lambda::EventSourceMapping"}

func loadCentral(t *testing.T, params map[string]string) *samtemplate.Template {
	t.Helper()
	tmpl := loadRepoTemplate(t)
	require.NoError(t, tmpl.SetParameters(params))
	return tmpl
}

func isActive(t *testing.T, tmpl *samtemplate.Template, id string) bool {
	t.Helper()
	if _, err := tmpl.Resource(id); err != nil {
		return false
	}
	ok, err := tmpl.Active(id, stubEnv(tmpl))
	require.NoError(t, err)
	return ok
}

// activeWithPrefix returns the active logical ids that start with prefix.
func activeWithPrefix(t *testing.T, tmpl *samtemplate.Template, prefix string) []string {
	t.Helper()
	var out []string
	for _, id := range tmpl.LogicalIDs() {
		if strings.HasPrefix(id, prefix) && isActive(t, tmpl, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// statements returns the Statement list of a resolved policy document
// (a mapping, or the JSON string Fn::ToJsonString makes).
func statements(t *testing.T, doc any) []map[string]any {
	t.Helper()
	if s, ok := doc.(string); ok {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m), s)
		doc = m
	}
	m, ok := doc.(map[string]any)
	require.True(t, ok, "policy document %v", doc)
	var out []map[string]any
	for _, s := range m["Statement"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// condition returns the value of key under operator op of a statement.
func condition(s map[string]any, op, key string) any {
	c, _ := s["Condition"].(map[string]any)
	m, _ := c[op].(map[string]any)
	return m[key]
}

// roleStatements returns the Allow statements that apply to a role: its
// inline policies and every active AWS::IAM::RolePolicy naming it.
func roleStatements(t *testing.T, tmpl *samtemplate.Template, roleID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	role := resolve(t, tmpl, roleID)
	pols, _ := role["Policies"].([]any)
	for _, p := range pols {
		out = append(out, statements(t, p.(map[string]any)["PolicyDocument"])...)
	}
	for _, id := range activeOfType(t, tmpl, "AWS::IAM::RolePolicy") {
		p := resolve(t, tmpl, id)
		if p["RoleName"] == "logalert-"+roleID {
			out = append(out, statements(t, p["PolicyDocument"])...)
		}
	}
	return out
}

func TestCentralDefaultsAddNothing(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	for _, id := range centralIDs {
		assert.False(t, isActive(t, tmpl, id), id)
	}
	assert.Empty(t, activeWithPrefix(t, tmpl, "MemberErrorAlarm"))
	assert.Empty(t, activeWithPrefix(t, tmpl, "WriterWrites"))
	for _, typ := range centralTypes {
		assert.Empty(t, activeOfType(t, tmpl, typ), typ)
	}
	outputs, err := tmpl.EvalOutputs(stubEnv(tmpl))
	require.NoError(t, err)
	for _, o := range []string{"CentralDestinationArn", "CentralStreamName", "CrossAccountWriterRoleArn"} {
		assert.NotContains(t, outputs, o)
	}
	// A WriterExternalId without members makes no writer role either.
	tmpl = loadCentral(t, map[string]string{"WriterExternalId": "secret-1"})
	assert.False(t, isActive(t, tmpl, "CrossAccountWriterRole"))

	// The processor tells its own account's incidents from the members'.
	env := resolve(t, tmpl, "ProcessorFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, centralAccount, env["HOME_ACCOUNT_ID"])
}

func TestCentralMemberAccounts(t *testing.T) {
	tmpl := loadCentral(t, map[string]string{
		"MemberAccountIds": memberA + "," + memberB, "KinesisShardCount": "2", "KinesisRetentionHours": "48",
		"KinesisBatchSize": "50", "KinesisBatchWindowSeconds": "10", "KinesisMaximumRetryAttempts": "4", "KinesisMaximumRecordAgeSeconds": "1800",
	})
	for _, id := range []string{"CentralLogStream", "CentralDestinationRole", "CentralLogDestination", "ProcessorKinesisPolicy", "ProcessorKinesisMapping"} {
		assert.True(t, isActive(t, tmpl, id), id)
	}
	assert.False(t, isActive(t, tmpl, "OrganizationErrorAlarm"))
	assert.False(t, isActive(t, tmpl, "CrossAccountWriterRole"), "no writer role without WriterExternalId")
	require.NoError(t, checkCentral(tmpl))

	stream := resolve(t, tmpl, "CentralLogStream")
	assert.Equal(t, "2", fmt.Sprint(stream["ShardCount"]))
	assert.Equal(t, "48", fmt.Sprint(stream["RetentionPeriodHours"]))

	// The destination: the members by id, nobody else.
	dest := resolve(t, tmpl, "CentralLogDestination")
	assert.Equal(t, "logalert-central", dest["DestinationName"])
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Sid":"MemberAccounts","Effect":"Allow","Principal":{"AWS":["`+memberA+`","`+memberB+`"]},
		"Action":"logs:PutSubscriptionFilter","Resource":"`+destinationArn+`"}]}`, dest["DestinationPolicy"].(string))

	// CloudWatch Logs may assume the role for this account and the members.
	trust := statements(t, resolve(t, tmpl, "CentralDestinationRole")["AssumeRolePolicyDocument"])
	require.Len(t, trust, 2)
	assert.Equal(t, centralAccount, condition(trust[0], "StringEquals", "aws:SourceAccount"))
	assert.Equal(t, []any{memberA, memberB}, condition(trust[1], "StringEquals", "aws:SourceAccount"))

	esm := resolve(t, tmpl, "ProcessorKinesisMapping")
	for key, want := range map[string]string{"BatchSize": "50", "MaximumBatchingWindowInSeconds": "10", "MaximumRetryAttempts": "4", "MaximumRecordAgeInSeconds": "1800"} {
		assert.Equal(t, want, fmt.Sprint(esm[key]), key)
	}

	// One alarm per member, on its own count.
	assert.Equal(t, []string{"MemberErrorAlarm" + memberA, "MemberErrorAlarm" + memberB}, activeWithPrefix(t, tmpl, "MemberErrorAlarm"))
	procEnv := resolve(t, tmpl, "ProcessorFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	for _, acct := range []string{memberA, memberB} {
		a := resolve(t, tmpl, "MemberErrorAlarm"+acct)
		assert.Equal(t, "logalert-member-"+acct+"-error-lines", a["AlarmName"])
		assert.Equal(t, procEnv["METRICS_NAMESPACE"], a["Namespace"], "the processor's EMF namespace")
		assert.Equal(t, "MemberEventsMatched", a["MetricName"])
		assert.Equal(t, []any{map[string]any{"Name": "AccountId", "Value": acct}}, a["Dimensions"])
		assert.Equal(t, []any{"logalert-AlertsTopic"}, a["AlarmActions"])
	}

	outputs, err := tmpl.EvalOutputs(stubEnv(tmpl))
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:stub:us-east-1:123456789012:CentralLogDestination/Arn", outputs["CentralDestinationArn"])
	assert.Equal(t, "logalert-CentralLogStream", outputs["CentralStreamName"])
	assert.NotContains(t, outputs, "CrossAccountWriterRoleArn")
}

func TestCentralOrganization(t *testing.T) {
	tmpl := loadCentral(t, map[string]string{"OrganizationId": orgID})
	require.NoError(t, checkCentral(tmpl))
	dest := resolve(t, tmpl, "CentralLogDestination")
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Sid":"Organization","Effect":"Allow","Principal":"*",
		"Action":"logs:PutSubscriptionFilter","Resource":"`+destinationArn+`",
		"Condition":{"StringEquals":{"aws:PrincipalOrgID":"`+orgID+`"}}}]}`, dest["DestinationPolicy"].(string))
	trust := statements(t, resolve(t, tmpl, "CentralDestinationRole")["AssumeRolePolicyDocument"])
	require.Len(t, trust, 2)
	assert.Equal(t, orgID, condition(trust[1], "StringEquals", "aws:SourceOrgID"))

	assert.Empty(t, activeWithPrefix(t, tmpl, "MemberErrorAlarm"))
	a := resolve(t, tmpl, "OrganizationErrorAlarm")
	assert.Equal(t, "MemberEventsMatched", a["MetricName"])
	assert.NotContains(t, a, "Dimensions", "the total over every account (the metric's dimension set [])")

	// Path A for the whole organization.
	tmpl = loadCentral(t, map[string]string{"OrganizationId": orgID, "WriterExternalId": "secret-1"})
	require.NoError(t, checkCentral(tmpl))
	trust = statements(t, resolve(t, tmpl, "CrossAccountWriterRole")["AssumeRolePolicyDocument"])
	require.Len(t, trust, 1)
	assert.Equal(t, map[string]any{"AWS": "*"}, trust[0]["Principal"])
	assert.Equal(t, orgID, condition(trust[0], "StringEquals", "aws:PrincipalOrgID"))
}

// Path A with both kinds of members, on the app group and on LogGroupNames.
func TestCentralWriterRole(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		groups []string
	}{
		{"app group", map[string]string{}, []string{"/logalert/logalert/app"}},
		{"LogGroupNames", map[string]string{"LogGroupNames": "/shop/api,/aws/lambda/shop-worker"}, []string{"/shop/api", "/aws/lambda/shop-worker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]string{"MemberAccountIds": memberA + "," + memberB, "OrganizationId": orgID, "WriterExternalId": "ext-Id_42"}
			for k, v := range tc.params {
				params[k] = v
			}
			tmpl := loadCentral(t, params)
			require.NoError(t, checkCentral(tmpl))
			trust := statements(t, resolve(t, tmpl, "CrossAccountWriterRole")["AssumeRolePolicyDocument"])
			require.Len(t, trust, 2)
			assert.Equal(t, map[string]any{"AWS": []any{memberA, memberB}}, trust[0]["Principal"])
			assert.Nil(t, condition(trust[0], "StringEquals", "aws:PrincipalOrgID"))
			assert.Equal(t, orgID, condition(trust[1], "StringEquals", "aws:PrincipalOrgID"))
			for _, s := range trust {
				assert.Equal(t, "ext-Id_42", condition(s, "StringEquals", "sts:ExternalId"))
			}

			stmts := roleStatements(t, tmpl, "CrossAccountWriterRole")
			var resources []string
			for _, s := range stmts {
				resources = append(resources, strs(s["Resource"])...)
			}
			var want []string
			for _, g := range tc.groups {
				want = append(want, "arn:aws:logs:us-east-1:"+centralAccount+":log-group:"+g, "arn:aws:logs:us-east-1:"+centralAccount+":log-group:"+g+":log-stream:*")
			}
			assert.ElementsMatch(t, want, resources, "the watched groups and their streams, nothing else")

			outputs, err := tmpl.EvalOutputs(stubEnv(tmpl))
			require.NoError(t, err)
			assert.Equal(t, "arn:aws:stub:us-east-1:123456789012:CrossAccountWriterRole/Arn", outputs["CrossAccountWriterRoleArn"])
			assert.True(t, isActive(t, tmpl, "OrganizationErrorAlarm"))
			assert.Len(t, activeWithPrefix(t, tmpl, "MemberErrorAlarm"), 2)
		})
	}
}

func TestCentralParametersAreChecked(t *testing.T) {
	for name, params := range map[string]map[string]string{
		"OrganizationId":                 {"OrganizationId": "my-org"},
		"MemberAccountIds":               {"MemberAccountIds": memberA + ",12345"},
		"WriterExternalId":               {"WriterExternalId": "x"},
		"KinesisBatchSize":               {"KinesisBatchSize": "0"},
		"KinesisRetentionHours":          {"KinesisRetentionHours": "12"},
		"KinesisMaximumRecordAgeSeconds": {"KinesisMaximumRecordAgeSeconds": "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(params), "parameter "+name)
		})
	}
}

// centralChecks break one property of the central resources each, and
// checkCentral must notice: the checks above can fail.
func TestCentralChecksCatchRegressions(t *testing.T) {
	params := map[string]string{"MemberAccountIds": memberA, "OrganizationId": orgID, "WriterExternalId": "secret-1"}
	breakers := map[string]func(*samtemplate.Template){
		"writer trust without ExternalId": func(tmpl *samtemplate.Template) {
			ifStatement(tmpl, "CrossAccountWriterRole", "AssumeRolePolicyDocument.Statement", 0)["Condition"] = map[string]any{}
		},
		"writer may delete groups": func(tmpl *samtemplate.Template) {
			pols := tmpl.Resources["CrossAccountWriterRole"].Properties["Policies"].(map[string]any)["Fn::If"].([]any)[1]
			doc := pols.([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), allow("logs:DeleteLogGroup", "x"))
		},
		"stream unencrypted": func(tmpl *samtemplate.Template) {
			delete(tmpl.Resources["CentralLogStream"].Properties, "StreamEncryption")
		},
		"destination role without SourceArn": func(tmpl *samtemplate.Template) {
			delete(ifStatement(tmpl, "CentralDestinationRole", "AssumeRolePolicyDocument.Statement", 1)["Condition"].(map[string]any), "ArnLike")
		},
		"destination role may read": func(tmpl *samtemplate.Template) {
			addStatement(tmpl, "CentralDestinationRole", allow("kinesis:GetRecords", "x"))
		},
		"mapping without bisect": func(tmpl *samtemplate.Template) {
			set(tmpl, "ProcessorKinesisMapping", "BisectBatchOnFunctionError", false)
		},
		"mapping without failure destination": func(tmpl *samtemplate.Template) {
			delete(tmpl.Resources["ProcessorKinesisMapping"].Properties, "DestinationConfig")
		},
		"mapping reports whole batches": func(tmpl *samtemplate.Template) {
			delete(tmpl.Resources["ProcessorKinesisMapping"].Properties, "FunctionResponseTypes")
		},
		"processor may write the stream": func(tmpl *samtemplate.Template) {
			doc, _ := tmpl.Resources["ProcessorKinesisPolicy"].Property("PolicyDocument")
			m := doc.(map[string]any)
			m["Statement"] = append(m["Statement"].([]any), allow("kinesis:PutRecord", "x"))
		},
	}
	tmpl := loadCentral(t, params)
	require.NoError(t, checkCentral(tmpl))
	for name, breakIt := range breakers {
		t.Run(name, func(t *testing.T) {
			tmpl := loadCentral(t, params)
			breakIt(tmpl)
			assert.Error(t, checkCentral(tmpl))
		})
	}
}

// ifStatement returns the true branch of the i-th statement (an Fn::If)
// of a resource's policy at path, as written.
func ifStatement(tmpl *samtemplate.Template, id, path string, i int) map[string]any {
	v, _ := tmpl.Resources[id].Property(path)
	st := v.([]any)[i].(map[string]any)
	if f, ok := st["Fn::If"].([]any); ok {
		return f[1].(map[string]any)
	}
	return st
}

// Exactly what each central role may do.
var (
	writerActions      = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	destinationActions = []string{"kinesis:PutRecord", "kinesis:PutRecords", "kms:GenerateDataKey"}
	processorKinesis   = []string{"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
		"kinesis:GetShardIterator", "kinesis:ListShards", "kms:Decrypt"}
)

// checkCentral checks the active central resources of a template whose
// parameters are set: least privilege, trust conditions, encryption and
// the event source mapping's failure handling.
func checkCentral(tmpl *samtemplate.Template) error {
	// The helpers above fail through testing.T; here every problem is an
	// error, so that TestCentralChecksCatchRegressions can expect one.
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	env := stubEnv(tmpl)
	res := func(id string) map[string]any {
		p, rerr := tmpl.ResolveProperties(id, env)
		if rerr != nil {
			fail("%s: %v", id, rerr)
		}
		return p
	}
	active := func(id string) bool {
		ok, aerr := tmpl.Active(id, env)
		return aerr == nil && ok
	}
	stmtsOf := func(doc any) []map[string]any {
		m, _ := doc.(map[string]any)
		l, _ := m["Statement"].([]any)
		var out []map[string]any
		for _, s := range l {
			if sm, ok := s.(map[string]any); ok {
				out = append(out, sm)
			}
		}
		return out
	}
	inline := func(role map[string]any) []map[string]any {
		var out []map[string]any
		pols, _ := role["Policies"].([]any)
		for _, p := range pols {
			pm, _ := p.(map[string]any)
			out = append(out, stmtsOf(pm["PolicyDocument"])...)
		}
		return out
	}
	attached := func(roleID string) []map[string]any {
		var out []map[string]any
		for _, r := range tmpl.ResourcesOfType("AWS::IAM::RolePolicy") {
			if !active(r.LogicalID) {
				continue
			}
			p := res(r.LogicalID)
			if p["RoleName"] == "logalert-"+roleID {
				out = append(out, stmtsOf(p["PolicyDocument"])...)
			}
		}
		return out
	}
	exactly := func(what string, stmts []map[string]any, want []string) {
		if got := actionsOf(stmts); !slices.Equal(got, want) {
			fail("%s actions: got %v, want %v", what, got, want)
		}
		for _, s := range stmts {
			for _, r := range strs(s["Resource"]) {
				if r == "*" || strings.HasSuffix(r, ":*:*") {
					fail("%s: resource %q", what, r)
				}
			}
		}
	}
	streamArn := "arn:aws:stub:us-east-1:123456789012:CentralLogStream/Arn"

	stream := res("CentralLogStream")
	if enc, _ := stream["StreamEncryption"].(map[string]any); enc["EncryptionType"] != "KMS" || enc["KeyId"] != "arn:aws:stub:us-east-1:123456789012:LogsKey/Arn" {
		fail("CentralLogStream: StreamEncryption %v, want KMS with LogsKey", stream["StreamEncryption"])
	}

	role := res("CentralDestinationRole")
	for i, s := range stmtsOf(role["AssumeRolePolicyDocument"]) {
		if p, _ := s["Principal"].(map[string]any); p["Service"] != "logs.amazonaws.com" {
			fail("CentralDestinationRole trust %d: principal %v", i, s["Principal"])
		}
		if arn, _ := condition(s, "ArnLike", "aws:SourceArn").(string); !strings.HasPrefix(arn, "arn:aws:logs:us-east-1:") {
			fail("CentralDestinationRole trust %d: aws:SourceArn %q, want this Region's CloudWatch Logs", i, arn)
		}
		if condition(s, "StringEquals", "aws:SourceAccount") == nil && condition(s, "StringEquals", "aws:SourceOrgID") == nil {
			fail("CentralDestinationRole trust %d: neither aws:SourceAccount nor aws:SourceOrgID", i)
		}
	}
	dstmts := inline(role)
	exactly("CentralDestinationRole", dstmts, destinationActions)
	for _, s := range dstmts {
		if slices.Contains(strs(s["Action"]), "kinesis:PutRecord") && s["Resource"] != streamArn {
			fail("CentralDestinationRole: puts to %v, want the central stream", s["Resource"])
		}
	}

	exactly("ProcessorKinesisPolicy", stmtsOf(res("ProcessorKinesisPolicy")["PolicyDocument"]), processorKinesis)

	esm := res("ProcessorKinesisMapping")
	for key, want := range map[string]any{
		"EventSourceArn":             streamArn,
		"FunctionName":               "arn:aws:stub:us-east-1:123456789012:ProcessorFunction/Arn",
		"StartingPosition":           "TRIM_HORIZON",
		"BisectBatchOnFunctionError": true,
		"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
		"DestinationConfig":          map[string]any{"OnFailure": map[string]any{"Destination": "arn:aws:stub:us-east-1:123456789012:ProcessorDeadLetterQueue/Arn"}},
	} {
		if !assert.ObjectsAreEqual(want, esm[key]) {
			fail("ProcessorKinesisMapping.%s = %v, want %v", key, esm[key], want)
		}
	}
	for _, key := range []string{"BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds"} {
		if _, ok := esm[key]; !ok {
			fail("ProcessorKinesisMapping.%s: missing", key)
		}
	}
	if r, _ := tmpl.Resource("ProcessorKinesisMapping"); r == nil || !slices.Contains(r.DependsOn, "ProcessorKinesisPolicy") {
		fail("ProcessorKinesisMapping: does not wait for ProcessorKinesisPolicy (the role cannot read the stream yet)")
	}

	if active("CrossAccountWriterRole") {
		w := res("CrossAccountWriterRole")
		ext, _ := tmpl.Parameter("WriterExternalId")
		trust := stmtsOf(w["AssumeRolePolicyDocument"])
		if len(trust) == 0 {
			fail("CrossAccountWriterRole: no trust statement")
		}
		for i, s := range trust {
			if got := condition(s, "StringEquals", "sts:ExternalId"); got != ext {
				fail("CrossAccountWriterRole trust %d: sts:ExternalId %v, want WriterExternalId", i, got)
			}
			if p, _ := s["Principal"].(map[string]any); p["AWS"] == "*" && condition(s, "StringEquals", "aws:PrincipalOrgID") == nil {
				fail("CrossAccountWriterRole trust %d: any account, without aws:PrincipalOrgID", i)
			}
		}
		exactly("CrossAccountWriterRole", append(inline(w), attached("CrossAccountWriterRole")...), writerActions)
	}
	return errors.Join(errs...)
}

// member.yaml, deployed in each member account, with two groups: two
// filters to the central destination, no role unless the organization
// grants the destination.
func TestMemberTemplate(t *testing.T) {
	load := func(t *testing.T, params map[string]string) *samtemplate.Template {
		t.Helper()
		tmpl, err := samtemplate.Load(memberPath)
		require.NoError(t, err)
		require.NoError(t, tmpl.SetParameters(params))
		return tmpl
	}
	params := map[string]string{"CentralDestinationArn": destinationArn, "LogGroupNames": "/aws/lambda/orders,/ecs/web"}
	tmpl := load(t, params)
	filters := activeOfType(t, tmpl, "AWS::Logs::SubscriptionFilter")
	assert.ElementsMatch(t, []string{"MemberSubscriptionawslambdaorders", "MemberSubscriptionecsweb"}, filters)
	assert.Empty(t, activeOfType(t, tmpl, "AWS::IAM::Role"))
	central, err := loadRepoTemplate(t).Parameter("ErrorPattern")
	require.NoError(t, err)
	for id, group := range map[string]string{"MemberSubscriptionawslambdaorders": "/aws/lambda/orders", "MemberSubscriptionecsweb": "/ecs/web"} {
		f := resolve(t, tmpl, id)
		assert.Equal(t, group, f["LogGroupName"])
		assert.Equal(t, destinationArn, f["DestinationArn"])
		assert.Equal(t, "logalert", f["FilterName"], "named after the member stack: a group may feed two central accounts")
		assert.Equal(t, central, f["FilterPattern"], "the central stack's ErrorPattern by default")
		assert.NotContains(t, f, "RoleArn", "a destination granted to the account needs no role")
	}
	outputs, err := tmpl.EvalOutputs(stubEnv(tmpl))
	require.NoError(t, err)
	assert.Equal(t, "/aws/lambda/orders,/ecs/web", outputs["SubscribedLogGroups"])

	// Granted to the organization: CloudWatch Logs checks each group
	// through a role that may only deliver that group's lines.
	params["OrganizationDestination"] = "true"
	tmpl = load(t, params)
	assert.ElementsMatch(t, []string{"MemberSubscriptionRoleawslambdaorders", "MemberSubscriptionRoleecsweb"}, activeOfType(t, tmpl, "AWS::IAM::Role"))
	f := resolve(t, tmpl, "MemberSubscriptionecsweb")
	assert.Equal(t, "arn:aws:stub:us-east-1:123456789012:MemberSubscriptionRoleecsweb/Arn", f["RoleArn"])
	role := resolve(t, tmpl, "MemberSubscriptionRoleecsweb")
	trust := statements(t, role["AssumeRolePolicyDocument"])
	require.Len(t, trust, 1)
	assert.Equal(t, map[string]any{"Service": "logs.amazonaws.com"}, trust[0]["Principal"])
	assert.Equal(t, centralAccount, condition(trust[0], "StringEquals", "aws:SourceAccount"))
	perms := statements(t, role["Policies"].([]any)[0].(map[string]any)["PolicyDocument"])
	require.Len(t, perms, 1)
	assert.Equal(t, "logs:PutLogEvents", perms[0]["Action"])
	assert.Equal(t, "arn:aws:logs:us-east-1:"+centralAccount+":log-group:/ecs/web:*", perms[0]["Resource"])

	// Bad input is refused with the parameter's name.
	bad, err := samtemplate.Load(memberPath)
	require.NoError(t, err)
	assert.ErrorContains(t, bad.SetParameters(map[string]string{"CentralDestinationArn": "logalert-central", "LogGroupNames": "/ecs/web"}), "parameter CentralDestinationArn")
	assert.ErrorContains(t, bad.SetParameters(map[string]string{"CentralDestinationArn": destinationArn, "LogGroupNames": ""}), "LogGroupNames must name at least one log group")
	assert.ErrorContains(t, bad.SetParameters(map[string]string{"CentralDestinationArn": destinationArn, "LogGroupNames": "/a,,/b"}), "LogGroupNames must name at least one log group")
}

// The central dashboard adds the organization's alarm and a widget that
// finds every member's MemberEventsMatched by a search expression; the
// body stays valid JSON.
func TestCentralDashboard(t *testing.T) {
	tmpl := loadCentral(t, map[string]string{"MemberAccountIds": memberA, "OrganizationId": orgID})
	_, dash := resolveDashboard(t, tmpl)
	require.Len(t, dash.Widgets, 9)
	w := dash.Widgets[8]
	assert.Equal(t, "Matched lines per member account (MemberEventsMatched)", w.Properties["title"])
	metrics, _ := w.Properties["metrics"].([]any)
	require.Len(t, metrics, 1)
	expr := metrics[0].([]any)[0].(map[string]any)["expression"]
	assert.Equal(t, "SEARCH('{LogAlert/logalert/Processor,AccountId} MetricName=MemberEventsMatched', 'Sum', 60)", expr)
	var alarms []any
	for _, w := range dash.Widgets {
		if w.Type == "alarm" {
			alarms, _ = w.Properties["alarms"].([]any)
		}
	}
	assert.Contains(t, alarms, "arn:aws:stub:us-east-1:123456789012:OrganizationErrorAlarm/Arn")

	// Members without an organization: the widget, no organization alarm.
	_, dash = resolveDashboard(t, loadCentral(t, map[string]string{"MemberAccountIds": memberA}))
	require.Len(t, dash.Widgets, 9)
	for _, w := range dash.Widgets {
		if w.Type == "alarm" {
			assert.NotContains(t, w.Properties["alarms"], "arn:aws:stub:us-east-1:123456789012:OrganizationErrorAlarm/Arn")
		}
	}
}
