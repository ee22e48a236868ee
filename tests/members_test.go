package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/local"
)

// memberTwin is a twin of a central stack of the test's own with the two
// member accounts and a writer ExternalId of the test's own.
func memberTwin(t *testing.T) (*local.Twin, string) {
	t.Helper()
	stack := awstest.Name(t, "central")
	externalID := "ext-" + stack
	tw, err := local.New(t.Context(), newConfig(t, motoURL), local.Config{
		Template:        "../template.yaml",
		MemberOverrides: map[string]string{"LogGroupNames": "/" + stack + "/api,/" + stack + "/worker"},
		StackName:       stack,
		Overrides: map[string]string{
			"MemberAccountIds": memberA + "," + memberB, "WriterExternalId": externalID,
			"AlarmEmail": "oncall@example.com", "NotifyOnOk": "false",
		},
		Period: time.Second,
	})
	require.NoError(t, err)
	return tw, externalID
}

// TestPathAWriterAssumesTheRole writes from a member account into the
// central account's watched group through the writer role, as Path A
// does: the lines become incidents of the central account; a wrong
// ExternalId, an account the role does not trust and a group it does not
// cover are refused.
func TestPathAWriterAssumesTheRole(t *testing.T) {
	ctx := t.Context()
	tw, externalID := memberTwin(t)
	dep := tw.Deployment()
	require.Len(t, dep.Members, 2)
	assert.Equal(t, memberA, dep.Members[0].AccountID)
	assert.NotEmpty(t, dep.WriterRole)

	_, err := tw.CrossAccountWriter(ctx, memberA, "wrong", dep.LogGroup, "a")
	assert.ErrorContains(t, err, "requires its ExternalId")
	_, err = tw.CrossAccountWriter(ctx, "333333333333", externalID, dep.LogGroup, "a")
	assert.ErrorContains(t, err, "not a member account")
	_, err = tw.CrossAccountWriter(ctx, memberA, externalID, dep.ProcessorLogGroup, "a")
	assert.ErrorContains(t, err, "may write only into the watched log groups")

	stacks, err := cloudformation.NewFromConfig(newConfig(t, motoURL)).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(dep.StackName)})
	require.NoError(t, err)
	require.Len(t, stacks.Stacks, 1)
	recorded := map[string]string{}
	for _, p := range stacks.Stacks[0].Parameters {
		recorded[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	assert.Equal(t, "****", recorded["WriterExternalId"], "NoEcho, as CloudFormation shows it")
	assert.Equal(t, memberA+","+memberB, recorded["MemberAccountIds"])

	w, err := tw.CrossAccountWriter(ctx, memberB, externalID, dep.LogGroup, "member-b/app")
	require.NoError(t, err)
	require.NoError(t, w.WriteLines(ctx, []string{"ERROR payment 17 declined", "INFO fine", "ERROR payment 18 declined"}))
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	require.Len(t, res.Incidents, 1)
	inc := res.Incidents[0]
	assert.EqualValues(t, 2, inc.Occurrences)
	assert.Equal(t, dep.LogGroup, inc.LogGroup)
	assert.Equal(t, dep.AccountID, inc.AccountID, "the lines are in the central account's group")
	assert.True(t, strings.HasPrefix(inc.SampleMessage, "ERROR payment"), inc.SampleMessage)
}

// TestPathBMembersThroughKinesis writes error lines in both member
// accounts' groups: their subscription filters deliver to the central
// destination, which puts them on the stream, whose event source mapping
// invokes the processor; each account gets its incidents, with its id.
func TestPathBMembersThroughKinesis(t *testing.T) {
	ctx := t.Context()
	tw, _ := memberTwin(t)
	dep := tw.Deployment()
	require.NotEmpty(t, dep.Stream)
	require.Len(t, dep.Members, 2)
	for i, m := range dep.Members {
		require.Len(t, m.LogGroups, 2)
		w, err := tw.MemberWriter(m.AccountID, m.LogGroups[i], "app/1")
		require.NoError(t, err)
		require.NoError(t, w.WriteLines(ctx, []string{"ERROR order 1 lost", "INFO fine", "ERROR order 2 lost", "FATAL disk 9 full"}))
	}
	_, err := tw.MemberWriter("333333333333", "/x", "y")
	assert.ErrorContains(t, err, "not a member account")
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	require.NotNil(t, res.PathB)
	assert.Equal(t, 6, res.PathB.Subscriptions.Matched, "three lines of each account match the member filter")
	assert.Equal(t, 2, res.PathB.Destination.Deliveries, "one record per member log stream")
	assert.Equal(t, 2, res.PathB.Kinesis.Processed)
	assert.Zero(t, res.PathB.Kinesis.Failed)
	assert.Zero(t, res.Deliveries.Matched, "nothing reached the central groups")

	type key struct{ account, group string }
	got := map[key]int64{}
	for _, in := range res.Incidents {
		got[key{in.AccountID, in.LogGroup}] += in.Occurrences
	}
	assert.Equal(t, map[key]int64{
		{memberA, dep.Members[0].LogGroups[0]}: 3,
		{memberB, dep.Members[1].LogGroups[1]}: 3,
	}, got)
}

// putRecord puts data straight into the stream, as a logs destination
// puts a delivery, and returns its sequence number.
func putRecord(t *testing.T, kin *kinesis.Client, stream string, data []byte) string {
	t.Helper()
	out, err := kin.PutRecord(t.Context(), &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: data, PartitionKey: aws.String("one-shard")})
	require.NoError(t, err)
	return aws.ToString(out.SequenceNumber)
}

// memberPayload is a delivery of member account memberA's group: the
// gzipped awslogs document a logs destination puts on the stream.
func memberPayload(t *testing.T, group, stream string, start int64, lines ...string) []byte {
	t.Helper()
	p := &awslogs.Payload{MessageType: awslogs.MessageTypeData, Owner: memberA, LogGroup: group, LogStream: stream, SubscriptionFilters: []string{"logalert-central"}}
	for i, l := range lines {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: fmt.Sprintf("%056d", start+int64(i)), Timestamp: time.Now().UnixMilli(), Message: l})
	}
	data, err := awslogs.EncodeGzip(p)
	require.NoError(t, err)
	return data
}

// TestPathBCorruptAndRedeliveredRecords puts records straight into the
// central stream: a good one, a corrupt one, another good one, and the
// first again (a logs destination that delivered twice). The corrupt
// record fails alone: the good records' incidents are recorded, each
// event counted exactly once across the redeliveries (the mapping retries
// from the corrupt record, so the record after it comes again each time),
// and the corrupt record's batch ends in the dead-letter queue with its
// shard and sequence numbers.
func TestPathBCorruptAndRedeliveredRecords(t *testing.T) {
	ctx := t.Context()
	tw, _ := memberTwin(t)
	dep := tw.Deployment()
	kin := kinesis.NewFromConfig(newConfig(t, motoURL))
	group := dep.Members[0].LogGroups[0]
	first := memberPayload(t, group, "app/1", 1, "ERROR order 1 lost", "ERROR order 2 lost")
	putRecord(t, kin, dep.Stream, first)
	corrupt := putRecord(t, kin, dep.Stream, []byte("not gzip at all"))
	putRecord(t, kin, dep.Stream, memberPayload(t, group, "app/2", 10, "FATAL disk 3 full"))
	putRecord(t, kin, dep.Stream, first)

	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, in := range res.Incidents {
		assert.Equal(t, memberA, in.AccountID)
		got[in.LogStream] += in.Occurrences
	}
	assert.Equal(t, map[string]int64{"app/1": 2, "app/2": 1}, got, "every event counted once")
	k := res.PathB.Kinesis
	assert.Equal(t, 4, k.Records)
	assert.Positive(t, k.Retries, "the batch was retried from the corrupt record")
	assert.Positive(t, k.Failed)
	assert.Equal(t, 1, k.FailureRecords)
	assert.Equal(t, 1, res.DLQDepth)

	msgs, err := sqs.NewFromConfig(newConfig(t, motoURL)).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dep.DLQURL), MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Len(t, msgs.Messages, 1)
	var rec local.KinesisFailureRecord
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &rec))
	assert.Equal(t, corrupt, rec.KinesisBatchInfo.StartSequenceNumber, "the on-failure record starts at the corrupt record")
	assert.Equal(t, res.Deployment.Stream, streamName(rec.KinesisBatchInfo.StreamARN))
}

// streamName is the name in a Kinesis stream ARN.
func streamName(arn string) string {
	_, name, _ := strings.Cut(arn, ":stream/")
	return name
}
