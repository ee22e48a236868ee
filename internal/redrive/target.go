package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// Target processes one original payload again.
type Target interface {
	// Redrive returns nil once the payload was processed; any error leaves
	// its message in the queue.
	Redrive(ctx context.Context, payload json.RawMessage) error
}

// Handler is a Target that calls an in-process handler, such as
// (*pipeline.Processor).Handle.
type Handler func(ctx context.Context, ev events.CloudwatchLogsEvent) error

// Redrive decodes payload as a subscription event and handles it.
func (h Handler) Redrive(ctx context.Context, payload json.RawMessage) error {
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode subscription event: %w", err)
	}
	return h(ctx, ev)
}

// ErrFunction reports that the invoked function returned an error.
var ErrFunction = errors.New("redrive: function error")

// ErrTargetUnavailable reports that the target cannot take any payload (the
// function is missing, access is denied, the endpoint is unreachable):
// retrying the next message would fail the same way, so Run stops.
var ErrTargetUnavailable = errors.New("redrive: target unavailable")

// payloadErrors are the Invoke error codes that concern one payload, not
// the function: the run goes on with the next message.
var payloadErrors = map[string]bool{
	"RequestTooLargeException":       true,
	"InvalidRequestContentException": true,
}

// invokeAPI is the subset of *lambda.Client that Lambda calls.
type invokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Lambda is a Target that invokes a deployed function synchronously
// (RequestResponse), so the outcome is known before the message is deleted
// and a failure goes nowhere but back into the queue.
type Lambda struct {
	client   invokeAPI
	function string
}

// NewLambda returns a Target invoking function (a name or ARN) with client.
func NewLambda(client invokeAPI, function string) *Lambda {
	return &Lambda{client: client, function: function}
}

// Redrive invokes the function with payload. A function error (the
// response's FunctionError, Handled or Unhandled) is an error wrapping
// ErrFunction with the function's errorMessage. An Invoke that fails for
// any reason but the payload's (after the SDK's retries) wraps
// ErrTargetUnavailable.
func (l *Lambda) Redrive(ctx context.Context, payload json.RawMessage) error {
	_, err := l.invoke(ctx, payload)
	return err
}

// RedriveKinesis invokes the function with ev, as the event source mapping
// does, and returns the batchItemFailures of its response; errors are
// Redrive's.
func (l *Lambda) RedriveKinesis(ctx context.Context, ev events.KinesisEvent) ([]string, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode kinesis event: %w", err)
	}
	out, err := l.invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(out, &resp); err != nil && len(bytes.TrimSpace(out)) > 0 {
		return nil, fmt.Errorf("%w: %s answered %.200q, not a batch response: %w", ErrFunction, l.function, out, err)
	}
	return failedItems(resp), nil
}

// invoke invokes the function synchronously with payload and returns its
// response payload.
func (l *Lambda) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := l.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   &l.function,
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && payloadErrors[api.ErrorCode()] || ctx.Err() != nil {
			return nil, fmt.Errorf("invoke %s: %w", l.function, err)
		}
		return nil, fmt.Errorf("%w: invoke %s: %w", ErrTargetUnavailable, l.function, err)
	}
	if out.FunctionError == nil {
		return out.Payload, nil
	}
	var e struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	msg := strings.TrimSpace(string(out.Payload))
	if json.Unmarshal(out.Payload, &e) == nil && e.ErrorMessage != "" {
		msg = e.ErrorMessage
		if e.ErrorType != "" {
			msg = e.ErrorType + ": " + msg
		}
	}
	if len(msg) > 500 {
		msg = strings.ToValidUTF8(msg[:500], "") + "…"
	}
	return nil, fmt.Errorf("%w (%s) in %s: %s", ErrFunction, *out.FunctionError, l.function, msg)
}
