package provision_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// centralStack applies testdata/central.yaml with overrides to a stack of
// the test's own.
func centralStack(t *testing.T, overrides map[string]string) (*samtemplate.Template, *provision.Stack, aws.Config) {
	t.Helper()
	cfg := awsConfig(t)
	tmpl, err := samtemplate.Load("testdata/central.yaml")
	require.NoError(t, err)
	require.NoError(t, tmpl.SetParameters(overrides))
	st, err := provision.Apply(t.Context(), provision.NewClients(cfg), tmpl, awstest.Name(t, "central"))
	require.NoError(t, err)
	return tmpl, st, cfg
}

// TestApplyCentralAccount creates a central account's stream and logs
// destination in moto and reads its event source mapping and writer role.
func TestApplyCentralAccount(t *testing.T) {
	tmpl, st, cfg := centralStack(t, map[string]string{"MemberAccountIds": "111111111111,222222222222", "WriterExternalId": "ext-1"})
	ctx := t.Context()

	stream := st.PhysicalIDs["CentralLogStream"]
	sum, err := kinesis.NewFromConfig(cfg).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	assert.EqualValues(t, 2, aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount))
	assert.EqualValues(t, 48, aws.ToInt32(sum.StreamDescriptionSummary.RetentionPeriodHours))
	assert.Equal(t, aws.ToString(sum.StreamDescriptionSummary.StreamARN), st.Attributes["CentralLogStream"]["Arn"])
	assert.Contains(t, st.Skipped, "CentralLogStream.StreamEncryption: no KMS key is created locally")

	dests, err := cloudwatchlogs.NewFromConfig(cfg).DescribeDestinations(ctx, &cloudwatchlogs.DescribeDestinationsInput{DestinationNamePrefix: aws.String(st.Name + "-central")})
	require.NoError(t, err)
	require.Len(t, dests.Destinations, 1)
	d := dests.Destinations[0]
	assert.Equal(t, st.Attributes["CentralLogStream"]["Arn"], aws.ToString(d.TargetArn))
	assert.Equal(t, st.Attributes["CentralDestinationRole"]["Arn"], aws.ToString(d.RoleArn))
	assert.Contains(t, aws.ToString(d.AccessPolicy), `"AWS":["111111111111","222222222222"]`)
	assert.Equal(t, aws.ToString(d.Arn), st.Outputs["CentralDestinationArn"])
	assert.True(t, provision.IsLogsDestination(st.Outputs["CentralDestinationArn"]))

	ds, err := st.Destinations(tmpl)
	require.NoError(t, err)
	assert.Equal(t, []provision.LogDestination{{LogicalID: "CentralLogDestination", Name: st.Name + "-central", ARN: aws.ToString(d.Arn), TargetARN: aws.ToString(d.TargetArn)}}, ds)

	maps, err := st.EventSourceMappings(tmpl)
	require.NoError(t, err)
	assert.Equal(t, []provision.EventSourceMapping{{
		LogicalID: "ProcessorKinesisMapping", StreamARN: st.Attributes["CentralLogStream"]["Arn"], StreamName: stream,
		Function: "ProcessorFunction", StartingPosition: "TRIM_HORIZON", BatchSize: 50, BatchWindow: 5 * time.Second,
		MaxRetries: 3, MaxRecordAge: time.Hour, Bisect: true, ReportBatchItemFailures: true,
		OnFailure: st.Attributes["DeadLetterQueue"]["Arn"],
	}}, maps)

	roles, err := st.WriterRoles(tmpl)
	require.NoError(t, err)
	require.Len(t, roles, 1, "the logs role trusts a service and needs no ExternalId")
	r := roles[0]
	assert.Equal(t, "CrossAccountWriterRole", r.LogicalID)
	assert.Equal(t, []string{"111111111111", "222222222222"}, r.Accounts)
	assert.Equal(t, "ext-1", r.ExternalID)
	assert.NoError(t, r.Trusts("222222222222", "ext-1", false))
	assert.ErrorContains(t, r.Trusts("222222222222", "ext-2", false), "requires its ExternalId")
	assert.ErrorContains(t, r.Trusts("333333333333", "ext-1", true), "does not trust account 333333333333", "no organization in the trust")

	// An organization's writers, and a principal named by its ARN.
	tmpl.Resources["CrossAccountWriterRole"].Properties["AssumeRolePolicyDocument"] = map[string]any{"Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole",
		"Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "ext-3", "aws:PrincipalOrgID": "o-abcdefghij"}},
	}}}
	roles, err = st.WriterRoles(tmpl)
	require.NoError(t, err)
	require.Len(t, roles, 1)
	assert.Equal(t, []string{"444444444444"}, roles[0].Accounts)
	assert.Equal(t, "o-abcdefghij", roles[0].OrganizationID)
	assert.NoError(t, roles[0].Trusts("333333333333", "ext-3", true), "a member of the organization")
	assert.Error(t, roles[0].Trusts("333333333333", "ext-3", false), "not a member")

	// Applied again: everything is found, nothing fails.
	_, err = provision.Apply(ctx, provision.NewClients(cfg), tmpl, st.Name)
	require.NoError(t, err)
}

// TestApplyCentralAccountWithoutMembers leaves Path B and Path A out.
func TestApplyCentralAccountWithoutMembers(t *testing.T) {
	tmpl, st, _ := centralStack(t, nil)
	assert.NotContains(t, st.Created, "CentralLogStream")
	maps, err := st.EventSourceMappings(tmpl)
	require.NoError(t, err)
	assert.Empty(t, maps)
	roles, err := st.WriterRoles(tmpl)
	require.NoError(t, err)
	assert.Empty(t, roles)
}

// TestEventSourceMappingDefaults reads Lambda's defaults for what a
// mapping leaves unset, and refuses a source that is no stream of the
// template.
func TestEventSourceMappingDefaults(t *testing.T) {
	tmpl, st, _ := centralStack(t, map[string]string{"MemberAccountIds": "111111111111"})
	props := tmpl.Resources["ProcessorKinesisMapping"].Properties
	for _, k := range []string{"BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "FunctionResponseTypes", "DestinationConfig"} {
		delete(props, k)
	}
	maps, err := st.EventSourceMappings(tmpl)
	require.NoError(t, err)
	require.Len(t, maps, 1)
	m := maps[0]
	assert.Equal(t, 100, m.BatchSize)
	assert.Zero(t, m.BatchWindow)
	assert.Equal(t, -1, m.MaxRetries)
	assert.Equal(t, time.Duration(-1), m.MaxRecordAge)
	assert.False(t, m.Bisect)
	assert.False(t, m.ReportBatchItemFailures)
	assert.Empty(t, m.OnFailure)

	props["EventSourceArn"] = "arn:aws:kinesis:us-east-1:123456789012:stream/elsewhere"
	props["FunctionName"] = "someone-else"
	_, err = st.EventSourceMappings(tmpl)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Properties.EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/elsewhere is not a Kinesis stream of the template")
	assert.Contains(t, err.Error(), "Properties.FunctionName: not a function of the template")
}

// TestMemberSubscriptionFilters reads the subscription filters of a
// member account's stack (member.yaml), which deliver to the central
// account's logs destination.
func TestMemberSubscriptionFilters(t *testing.T) {
	tmpl, err := samtemplate.Load("../../member.yaml")
	require.NoError(t, err)
	const dest = "arn:aws:logs:us-east-1:123456789012:destination:logalert-central"
	require.NoError(t, tmpl.SetParameters(map[string]string{"CentralDestinationArn": dest, "LogGroupNames": "/member/api,/member/worker", "FilterPattern": "?ERROR ?FATAL"}))
	cfg := awsConfig(t)
	cfg.Region = "us-east-1"
	st, err := provision.Apply(t.Context(), provision.NewClients(cfg), tmpl, awstest.Name(t, "member"))
	require.NoError(t, err)
	subs, err := st.SubscriptionFilters(tmpl, "")
	require.NoError(t, err)
	require.Len(t, subs, 2)
	for i, g := range []string{"/member/api", "/member/worker"} {
		assert.Equal(t, g, subs[i].Group)
		assert.Equal(t, dest, subs[i].DestinationARN)
		assert.Empty(t, subs[i].Destination)
		assert.Equal(t, "?ERROR ?FATAL", subs[i].Pattern.String())
	}
	assert.Equal(t, "/member/api,/member/worker", st.Outputs["SubscribedLogGroups"])
	assert.False(t, provision.IsLogsDestination("arn:aws:lambda:us-east-1:123456789012:function:f"))
}

// TestApplyTemplateWithMembers applies the repository's template with two
// member accounts and a writer ExternalId: Path B's stream, destination
// and mapping, and Path A's role, as the twin reads them.
func TestApplyTemplateWithMembers(t *testing.T) {
	cfg := awsConfig(t)
	tmpl := loadTemplate(t)
	require.NoError(t, tmpl.SetParameters(map[string]string{"MemberAccountIds": "111111111111,222222222222", "WriterExternalId": "ext-1"}))
	st, err := provision.Apply(t.Context(), provision.NewClients(cfg), tmpl, awstest.Name(t, "members"))
	require.NoError(t, err)
	assert.Subset(t, st.Created, []string{"CentralLogStream", "CentralLogDestination"})
	assert.True(t, provision.IsLogsDestination(st.Outputs["CentralDestinationArn"]), st.Outputs["CentralDestinationArn"])
	maps, err := st.EventSourceMappings(tmpl)
	require.NoError(t, err)
	require.Len(t, maps, 1)
	m := maps[0]
	assert.Equal(t, st.PhysicalIDs["CentralLogStream"], m.StreamName)
	assert.Equal(t, "ProcessorFunction", m.Function)
	assert.Equal(t, st.Attributes["ProcessorDeadLetterQueue"]["Arn"], m.OnFailure)
	assert.True(t, m.Bisect)
	assert.True(t, m.ReportBatchItemFailures)
	roles, err := st.WriterRoles(tmpl)
	require.NoError(t, err)
	require.Len(t, roles, 1)
	assert.Equal(t, "CrossAccountWriterRole", roles[0].LogicalID)
	assert.NoError(t, roles[0].Trusts("111111111111", "ext-1", false))
}
