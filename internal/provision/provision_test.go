package provision_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// motoURL is the endpoint of the moto_server TestMain started.
var motoURL string

func TestMain(m *testing.M) {
	os.Exit(awstest.RunWithMoto(context.Background(), m, "provision tests", &motoURL))
}

// awsConfig points the SDK at moto with static test credentials.
func awsConfig(tb testing.TB) aws.Config {
	tb.Helper()
	cfg, err := awstest.Config(tb.Context(), motoURL)
	require.NoError(tb, err)
	return cfg
}

// loadTemplate reads the repository's template.yaml.
func loadTemplate(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	t, err := samtemplate.Load("../../template.yaml")
	require.NoError(tb, err)
	return t
}

func TestProvisionCreateTable(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	tmpl := loadTemplate(t)
	name := awstest.Name(t, "incidents")

	require.NoError(t, provision.CreateTable(t.Context(), db, tmpl, "IncidentsTable", name))
	require.NoError(t, provision.CreateTable(t.Context(), db, tmpl, "IncidentsTable", name), "second run must be a no-op")

	out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	require.NoError(t, err)
	tbl := out.Table
	assert.Equal(t, []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}}, tbl.KeySchema)
	if assert.NotNil(t, tbl.BillingModeSummary) {
		assert.Equal(t, types.BillingModePayPerRequest, tbl.BillingModeSummary.BillingMode)
	}
	require.Len(t, tbl.GlobalSecondaryIndexes, 1)
	gsi := tbl.GlobalSecondaryIndexes[0]
	assert.Equal(t, "by-status-shard", aws.ToString(gsi.IndexName))
	assert.Equal(t, []types.KeySchemaElement{
		{AttributeName: aws.String("status_shard"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("last_seen"), KeyType: types.KeyTypeRange},
	}, gsi.KeySchema)
	assert.Equal(t, types.ProjectionTypeInclude, gsi.Projection.ProjectionType)
	assert.ElementsMatch(t, []string{"incident_id", "status", "severity", "log_group", "occurrences", "updated_at"},
		gsi.Projection.NonKeyAttributes, "the index projects what list and stats read, not the sample message")
	assert.True(t, aws.ToBool(tbl.DeletionProtectionEnabled), "deletion protection")
	if assert.NotNil(t, tbl.SSEDescription, "SSE") {
		assert.Equal(t, types.SSEStatusEnabled, tbl.SSEDescription.Status)
	}

	ttl, err := db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	require.NoError(t, err)
	assert.Equal(t, types.TimeToLiveStatusEnabled, ttl.TimeToLiveDescription.TimeToLiveStatus)
	assert.Equal(t, "expires_at", aws.ToString(ttl.TimeToLiveDescription.AttributeName))

	pitr, err := db.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	require.NoError(t, err)
	assert.Equal(t, types.PointInTimeRecoveryStatusEnabled,
		pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
}

func TestProvisionCreateTableErrors(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	tmpl := loadTemplate(t)
	tests := []struct {
		name, logicalID, want string
	}{
		{"unknown resource", "Nope", "resource Nope: not in the template"},
		{"not a table", "AlertsTopic", "resource AlertsTopic: type AWS::SNS::Topic, want AWS::DynamoDB::Table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := provision.CreateTable(t.Context(), db, tmpl, tc.logicalID, "x")
			assert.EqualError(t, err, tc.want)
		})
	}
}

// A property that does not convert is an error that says where, never an
// empty value: every problem of the resource is reported before any call.
func TestProvisionReportsBadProperties(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: [HASH]}]
      BillingMode: PAY_PER_REQUEST
      DeletionProtectionEnabled: perhaps
      Tags: [{Key: [a, b], Value: x}, {Value: y}]
      TimeToLiveSpecification: {Enabled: true}
`))
	require.NoError(t, err)
	const name = "incidents-bad-properties"
	err = provision.CreateTable(t.Context(), db, tmpl, "Table", name)
	assert.EqualError(t, err, `resource Table: Properties.KeySchema[0].KeyType: want a scalar, got a list
resource Table: Properties.DeletionProtectionEnabled: "perhaps" is not a boolean
resource Table: Properties.Tags[0].Key: want a scalar, got a list
resource Table: Properties.Tags[1].Key: missing
resource Table: Properties.TimeToLiveSpecification.AttributeName: missing`)
	_, err = db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	assert.ErrorAs(t, err, &notFound, "nothing created")
}

func TestProvisionApply(t *testing.T) {
	cfg := awsConfig(t)
	clients := provision.NewClients(cfg)
	tests := []struct {
		name, overrides  string
		wantSubscription string // email endpoint, "" for none
	}{
		{"with email", `AlarmEmail=ops@example.com LogRetentionDays=30`, "ops@example.com"},
		{"defaults", ``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := awstest.Name(t, "apply")
			tmpl := loadTemplate(t)
			ov, err := samtemplate.ParseOverrides(tc.overrides)
			require.NoError(t, err)
			require.NoError(t, tmpl.SetParameters(ov))
			days, err := tmpl.Parameter("LogRetentionDays")
			require.NoError(t, err)

			st, err := provision.Apply(t.Context(), clients, tmpl, stack)
			require.NoError(t, err)
			again, err := provision.Apply(t.Context(), clients, tmpl, stack)
			require.NoError(t, err, "second Apply must succeed on the existing resources")
			assert.Equal(t, st.PhysicalIDs, again.PhysicalIDs, "second Apply finds the same resources")
			assert.Equal(t, st.Outputs, again.Outputs)

			// Outputs resolve against what was created.
			assert.Equal(t, st.PhysicalIDs["IncidentsTable"], st.Outputs["IncidentsTableName"])
			assert.Equal(t, "/logalert/"+stack+"/app", st.Outputs["AppLogGroupName"])
			assert.Equal(t, "LogAlert/"+stack, st.Outputs["MetricNamespace"])
			assert.Equal(t, stack+"-error-lines", st.Outputs["ErrorAlarmName"])
			assert.Contains(t, st.Outputs["DashboardUrl"], "#dashboards:name="+stack+"-overview")
			for _, k := range []string{"AlertsTopicArn", "DeadLetterQueueUrl", "DeadLetterQueueArn", "ProcessorFunctionName", "EmitterFunctionName"} {
				assert.NotEmpty(t, st.Outputs[k], k)
			}

			// Table: key schema and TTL (details in TestProvisionCreateTable).
			table, err := dynamodb.NewFromConfig(cfg).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(st.Outputs["IncidentsTableName"])})
			require.NoError(t, err)
			assert.Equal(t, "pk", aws.ToString(table.Table.KeySchema[0].AttributeName))

			// Log groups with the template's retention.
			logs := cloudwatchlogs.NewFromConfig(cfg)
			for _, id := range []string{"AppLogGroup", "ProcessorLogGroup"} {
				name := st.PhysicalIDs[id]
				out, err := logs.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
				require.NoError(t, err)
				require.Len(t, out.LogGroups, 1, id)
				assert.Equal(t, days, fmt.Sprint(aws.ToInt32(out.LogGroups[0].RetentionInDays)), id)
			}

			// Queue with 14 days' retention and SSE.
			q, err := sqs.NewFromConfig(cfg).GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(st.Outputs["DeadLetterQueueUrl"]), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			require.NoError(t, err)
			assert.Equal(t, "1209600", q.Attributes["MessageRetentionPeriod"])
			assert.Equal(t, "true", q.Attributes["SqsManagedSseEnabled"])
			assert.Equal(t, st.Outputs["DeadLetterQueueArn"], q.Attributes["QueueArn"])

			// Email subscription only with AlarmEmail, and only once.
			subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(st.Outputs["AlertsTopicArn"])})
			require.NoError(t, err)
			var endpoints []string
			for _, s := range subs.Subscriptions {
				assert.Equal(t, "email", aws.ToString(s.Protocol))
				endpoints = append(endpoints, aws.ToString(s.Endpoint))
			}
			if tc.wantSubscription == "" {
				assert.Empty(t, endpoints)
				assert.NotContains(t, st.PhysicalIDs, "AlertsEmailSubscription")
			} else {
				assert.Equal(t, []string{tc.wantSubscription}, endpoints)
				assert.NotEmpty(t, st.PhysicalIDs["AlertsEmailSubscription"])
				t.Logf("email subscription id from the endpoint: %s", st.PhysicalIDs["AlertsEmailSubscription"])
			}

			// What a local run cannot have is said, not hidden.
			assert.Contains(t, st.Skipped, "AppLogGroup.KmsKeyId: no KMS key is created locally")
			assert.Contains(t, st.Skipped, "AlertsTopic.KmsMasterKeyId: no KMS key is created locally")
			assert.Contains(t, st.NotCreated, "ProcessorFunction")
			assert.NotContains(t, st.Created, "ProcessorFunction")
		})
	}
}

func TestProvisionApplyRejectsEmptyStackName(t *testing.T) {
	_, err := provision.Apply(t.Context(), provision.NewClients(awsConfig(t)), loadTemplate(t), "")
	assert.EqualError(t, err, "apply: empty stack name")
}

// Resources that already exist with other settings are brought in line
// rather than failing Apply ("already exists" is fine).
func TestProvisionApplyExistingResources(t *testing.T) {
	cfg := awsConfig(t)
	stack := awstest.Name(t, "existing")
	sq := sqs.NewFromConfig(cfg)
	_, err := sq.CreateQueue(t.Context(), &sqs.CreateQueueInput{
		QueueName:  aws.String(stack + "-ProcessorDeadLetterQueue"),
		Attributes: map[string]string{"MessageRetentionPeriod": "60"},
	})
	require.NoError(t, err)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	group := "/logalert/" + stack + "/app"
	_, err = logs.CreateLogGroup(t.Context(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)

	st, err := provision.Apply(t.Context(), provision.NewClients(cfg), loadTemplate(t), stack)
	require.NoError(t, err)

	q, err := sq.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(st.PhysicalIDs["ProcessorDeadLetterQueue"]), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMessageRetentionPeriod},
	})
	require.NoError(t, err)
	assert.Equal(t, "1209600", q.Attributes["MessageRetentionPeriod"])
	out, err := logs.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	require.NoError(t, err)
	require.Len(t, out.LogGroups, 1)
	assert.Equal(t, int32(14), aws.ToInt32(out.LogGroups[0].RetentionInDays))

	env := st.Env()
	props, err := loadTemplate(t).ResolveProperties("ProcessorFunction", env)
	require.NoError(t, err, "the local twin resolves the processor's environment from the Stack")
	vars, _ := props["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, st.PhysicalIDs["IncidentsTable"], vars["INCIDENTS_TABLE"])
	assert.Equal(t, st.Outputs["AlertsTopicArn"], vars["ALERTS_TOPIC_ARN"])
	assert.Equal(t, "?ERROR ?FATAL ?CRITICAL", vars["INCIDENT_PATTERN"])
	assert.Equal(t, "LogAlert/"+stack+"/Processor", vars["METRICS_NAMESPACE"])
}

// A rerun with another AlarmEmail moves the subscription, as a
// CloudFormation update would; an empty one removes it.
func TestProvisionApplyMovesTheEmailSubscription(t *testing.T) {
	cfg := awsConfig(t)
	stack := awstest.Name(t, "moves")
	emails := func(st *provision.Stack) []string {
		out, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(st.Outputs["AlertsTopicArn"])})
		require.NoError(t, err)
		var got []string
		for _, s := range out.Subscriptions {
			got = append(got, aws.ToString(s.Protocol)+":"+aws.ToString(s.Endpoint))
		}
		return got
	}
	apply := func(email string) *provision.Stack {
		tmpl := loadTemplate(t)
		require.NoError(t, tmpl.SetParameters(map[string]string{"AlarmEmail": email}))
		st, err := provision.Apply(t.Context(), provision.NewClients(cfg), tmpl, stack)
		require.NoError(t, err)
		return st
	}

	st := apply("first@example.com")
	assert.Equal(t, []string{"email:first@example.com"}, emails(st))
	assert.Empty(t, st.Unsubscribed)

	st = apply("second@example.com")
	assert.Equal(t, []string{"email:second@example.com"}, emails(st))
	assert.Equal(t, []string{st.Outputs["AlertsTopicArn"] + ": first@example.com"}, st.Unsubscribed)

	st = apply("")
	assert.Empty(t, emails(st))
}

func TestProvisionCreateTableRejectsOtherKeySchema(t *testing.T) {
	db := dynamodb.NewFromConfig(awsConfig(t))
	name := awstest.Name(t, "incidents")
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	require.NoError(t, err)
	err = provision.CreateTable(t.Context(), db, loadTemplate(t), "IncidentsTable", name)
	assert.EqualError(t, err, "table "+name+" exists with another key schema than IncidentsTable's: delete it or use another name")
}
