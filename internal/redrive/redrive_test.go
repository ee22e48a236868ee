package redrive_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/redrive"
)

func TestParseMessage(t *testing.T) {
	record, err := os.ReadFile("testdata/invocation-record.json")
	require.NoError(t, err)

	r, err := redrive.ParseMessage(string(record))
	require.NoError(t, err)
	assert.Equal(t, "1.0", r.Version)
	assert.Equal(t, time.Date(2019, 11, 14, 18, 16, 5, 568e6, time.UTC), r.Timestamp)
	assert.Equal(t, redrive.RequestContext{
		RequestID:              "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
		FunctionARN:            "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
		Condition:              "RetriesExhausted",
		ApproximateInvokeCount: 3,
	}, r.RequestContext)
	assert.Equal(t, redrive.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"}, r.ResponseContext)
	assert.Equal(t, "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request", r.ErrorMessage())
	assert.JSONEq(t, `{"awslogs":{"data":"H4sIAAAAAAAAAKtWKkktLlGyUlAqS8wpTVWqBQCdJrKfEwAAAA=="}}`, string(r.RequestPayload))

	tests := []struct {
		name, body string
		want       error
		payload    string
	}{
		{"bare event from a DeadLetterConfig", `{"awslogs":{"data":"H4sI"}}`, nil, `{"awslogs":{"data":"H4sI"}}`},
		{"record without payload", `{"version":"1.0","requestContext":{"requestId":"r"}}`, redrive.ErrNoPayload, ""},
		{"record with null payload", `{"requestContext":{},"requestPayload":null}`, redrive.ErrNoPayload, ""},
		{"other JSON", `{"Records":[]}`, redrive.ErrNotRecord, ""},
		{"not JSON", `hello`, redrive.ErrNotRecord, ""},
		{"record of another shape", `{"requestContext":"x"}`, redrive.ErrNotRecord, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := redrive.ParseMessage(tc.body)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tc.payload, string(r.RequestPayload))
		})
	}
}

// invokeFunc is the Lambda client's Invoke made of a function.
type invokeFunc func(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)

func (f invokeFunc) Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return f(ctx, in, optFns...)
}

func TestLambdaTarget(t *testing.T) {
	payload := json.RawMessage(`{"awslogs":{"data":"H4sI"}}`)
	failure := errors.New("connection reset")
	tests := []struct {
		name    string
		out     *lambda.InvokeOutput
		err     error
		wantErr string
		is      error
	}{
		{"success", &lambda.InvokeOutput{StatusCode: 200, Payload: []byte("null")}, nil, "", nil},
		{"handled error", &lambda.InvokeOutput{StatusCode: 200, FunctionError: new("Handled"),
			Payload: []byte(`{"errorMessage":"record 3 incidents of /app: store: write contention, retries exhausted","errorType":"wrapError"}`)}, nil,
			"redrive: function error (Handled) in logalert-Processor: wrapError: record 3 incidents of /app: store: write contention, retries exhausted", redrive.ErrFunction},
		{"unhandled error", &lambda.InvokeOutput{StatusCode: 200, FunctionError: new("Unhandled"),
			Payload: []byte(`{"errorMessage":"RequestId: 1 Error: Runtime exited with error: signal: killed","errorType":"Runtime.ExitError"}`)}, nil,
			"redrive: function error (Unhandled) in logalert-Processor: Runtime.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed", redrive.ErrFunction},
		{"error without a JSON body", &lambda.InvokeOutput{StatusCode: 200, FunctionError: new("Unhandled"), Payload: []byte("timeout")}, nil,
			"redrive: function error (Unhandled) in logalert-Processor: timeout", redrive.ErrFunction},
		{"invoke fails", nil, failure, "redrive: target unavailable: invoke logalert-Processor: connection reset", redrive.ErrTargetUnavailable},
		{"function missing", nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Function not found"},
			"redrive: target unavailable: invoke logalert-Processor: api error ResourceNotFoundException: Function not found", redrive.ErrTargetUnavailable},
		{"payload too large", nil, &smithy.GenericAPIError{Code: "RequestTooLargeException", Message: "Request must be smaller than 6291456 bytes"},
			"invoke logalert-Processor: api error RequestTooLargeException: Request must be smaller than 6291456 bytes", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *lambda.InvokeInput
			target := redrive.NewLambda(invokeFunc(func(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
				got = in
				return tc.out, tc.err
			}), "logalert-Processor")
			err := target.Redrive(t.Context(), payload)
			require.NotNil(t, got)
			assert.Equal(t, "logalert-Processor", *got.FunctionName)
			assert.Equal(t, types.InvocationTypeRequestResponse, got.InvocationType, "synchronous: the outcome is known before the message is deleted")
			assert.Equal(t, []byte(payload), got.Payload, "the original payload, byte for byte")
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			} else {
				require.NotErrorIs(t, err, redrive.ErrTargetUnavailable, "one payload's problem does not stop the run")
			}
			assert.Equal(t, tc.wantErr, err.Error())
		})
	}
}

func TestHandlerTarget(t *testing.T) {
	var got events.CloudwatchLogsEvent
	h := redrive.Handler(func(_ context.Context, ev events.CloudwatchLogsEvent) error {
		got = ev
		return nil
	})
	require.NoError(t, h.Redrive(t.Context(), json.RawMessage(`{"awslogs":{"data":"H4sI"}}`)))
	assert.Equal(t, "H4sI", got.AWSLogs.Data)
	assert.ErrorContains(t, h.Redrive(t.Context(), json.RawMessage(`[1]`)), "decode subscription event")
}
