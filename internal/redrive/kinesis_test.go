package redrive_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/redrive"
)

func TestParseKinesisFailureRecord(t *testing.T) {
	body, err := os.ReadFile("testdata/kinesis-failure-record.json")
	require.NoError(t, err)
	r, err := redrive.ParseMessage(string(body))
	require.NoError(t, err, "a Kinesis record carries no requestPayload")
	assert.Equal(t, "RetryAttemptsExhausted", r.RequestContext.Condition)
	assert.Equal(t, time.Date(2019, 11, 14, 0, 38, 6, 21e6, time.UTC), r.Timestamp)
	require.NotNil(t, r.KinesisBatchInfo)
	assert.Equal(t, redrive.KinesisBatchInfo{
		ShardID:                         "shardId-000000000001",
		StartSequenceNumber:             "49601189658422359378836298521827638475320189012309704722",
		EndSequenceNumber:               "49601189658422359378836298522902373528957594348623495186",
		ApproximateArrivalOfFirstRecord: time.Date(2019, 11, 14, 0, 38, 4, 835e6, time.UTC),
		ApproximateArrivalOfLastRecord:  time.Date(2019, 11, 14, 0, 38, 5, 580e6, time.UTC),
		BatchSize:                       500,
		StreamARN:                       "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
	}, *r.KinesisBatchInfo)

	_, err = redrive.ParseMessage(`{"requestContext":{},"KinesisBatchInfo":{"shardId":"s"}}`)
	require.ErrorIs(t, err, redrive.ErrNotRecord)
	assert.ErrorContains(t, err, "KinesisBatchInfo lacks")
	r, err = redrive.ParseMessage(`{"requestContext":{},"requestPayload":{"awslogs":{"data":"x"}}}`)
	require.NoError(t, err)
	assert.Nil(t, r.KinesisBatchInfo, "an asynchronous invocation's record")
}

func TestKinesisHandlerTarget(t *testing.T) {
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{{Kinesis: events.KinesisRecord{SequenceNumber: "1"}}, {Kinesis: events.KinesisRecord{SequenceNumber: "2"}}}}
	h := redrive.KinesisHandler(func(_ context.Context, got events.KinesisEvent) (events.KinesisEventResponse, error) {
		assert.Equal(t, ev, got)
		return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "2"}}}, nil
	})
	failed, err := h.RedriveKinesis(t.Context(), ev)
	require.NoError(t, err)
	assert.Equal(t, []string{"2"}, failed)
}

func TestLambdaRedriveKinesis(t *testing.T) {
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{{EventSource: "aws:kinesis", Kinesis: events.KinesisRecord{SequenceNumber: "7", Data: []byte{0x1f, 0x8b}}}}}
	tests := []struct {
		name       string
		out        *lambda.InvokeOutput
		wantFailed []string
		wantErr    string
	}{
		{"every record processed", &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"batchItemFailures":[]}`)}, nil, ""},
		{"some failed", &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"batchItemFailures":[{"itemIdentifier":"7"}]}`)}, []string{"7"}, ""},
		{"null answer", &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`null`)}, nil, ""},
		{"not a batch response", &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`"ok"`)}, nil, `redrive: function error: fn answered "\"ok\"", not a batch response`},
		{"function error", &lambda.InvokeOutput{StatusCode: 200, FunctionError: new("Unhandled"), Payload: []byte(`{"errorMessage":"boom"}`)}, nil, "redrive: function error (Unhandled) in fn: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sent []byte
			target := redrive.NewLambda(invokeFunc(func(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
				sent = in.Payload
				return tc.out, nil
			}), "fn")
			failed, err := target.RedriveKinesis(t.Context(), ev)
			want, err2 := json.Marshal(ev)
			require.NoError(t, err2)
			assert.JSONEq(t, string(want), string(sent), "the batch as the event source mapping sends it")
			assert.Equal(t, tc.wantFailed, failed)
			if tc.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, redrive.ErrFunction)
				assert.ErrorContains(t, err, tc.wantErr)
			}
		})
	}
}
