package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeQueue records SendMessage; err fails it.
type fakeQueue struct {
	mu     sync.Mutex
	bodies []string
	err    error
}

func (q *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return nil, q.err
	}
	q.bodies = append(q.bodies, *in.MessageBody)
	return &sqs.SendMessageOutput{}, nil
}

const testFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:logalert-ProcessorFunction"

// fastClock runs a minute in 10 ms.
func fastClock() *Clock { return NewClock(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), 6000, nil) }

func testEvent() events.CloudwatchLogsEvent {
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA="}}
}

func TestInvoker(t *testing.T) {
	errDB := fmt.Errorf("record 2 incidents: %w", errors.New("table busy"))
	tests := []struct {
		name       string
		fails      int // attempts that fail before success
		maxRetries int
		want       InvokeStats
		dlq        bool
	}{
		{"first attempt", 0, 2, InvokeStats{Events: 1, Invocations: 1, Succeeded: 1}, false},
		{"second retry", 2, 2, InvokeStats{Events: 1, Invocations: 3, FailedAttempts: 2, Succeeded: 1}, false},
		{"retries exhausted", 3, 2, InvokeStats{Events: 1, Invocations: 3, FailedAttempts: 3, DeadLettered: 1}, true},
		{"no retries", 1, 0, InvokeStats{Events: 1, Invocations: 1, FailedAttempts: 1, DeadLettered: 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock, q := fastClock(), &fakeQueue{}
			var (
				mu       sync.Mutex
				attempts []time.Time
				ids      []string
			)
			fn := func(ctx context.Context, ev events.CloudwatchLogsEvent) error {
				lc, ok := lambdacontext.FromContext(ctx)
				if !assert.True(t, ok, "no Lambda context") { // assert: this runs on the Invoker's goroutine
					return errors.New("no Lambda context")
				}
				mu.Lock()
				defer mu.Unlock()
				attempts = append(attempts, clock.Now())
				ids = append(ids, lc.AwsRequestID)
				assert.Equal(t, testFunctionARN, lc.InvokedFunctionArn)
				if len(attempts) <= tc.fails {
					return errDB
				}
				return nil
			}
			inv := NewInvoker(fn, InvokeConfig{FunctionARN: testFunctionARN, MaxRetries: tc.maxRetries, Timeout: time.Second, DLQURL: "https://dlq"}, clock, q, nil, nil)
			require.NoError(t, inv.Submit(t.Context(), testEvent()))
			inv.Wait()
			assert.Equal(t, tc.want, inv.Stats())
			assert.Zero(t, inv.Pending())
			require.NoError(t, inv.Err())
			for i := 1; i < len(attempts); i++ {
				assert.GreaterOrEqual(t, attempts[i].Sub(attempts[i-1]), retryDelays[i-1], "Lambda's delay before retry %d", i)
				assert.Equal(t, ids[0], ids[i], "retries keep the request id")
			}
			if !tc.dlq {
				assert.Empty(t, q.bodies)
				return
			}
			require.Len(t, q.bodies, 1)
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(q.bodies[0]), &rec))
			assert.Equal(t, "1.0", rec["version"])
			assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, rec["timestamp"])
			assert.Equal(t, map[string]any{
				"requestId": ids[0], "functionArn": testFunctionARN + ":$LATEST",
				"condition": "RetriesExhausted", "approximateInvokeCount": float64(tc.maxRetries + 1),
			}, rec["requestContext"])
			assert.Equal(t, map[string]any{"awslogs": map[string]any{"data": testEvent().AWSLogs.Data}}, rec["requestPayload"])
			assert.Equal(t, map[string]any{"statusCode": float64(200), "executedVersion": "$LATEST", "functionError": "Unhandled"}, rec["responseContext"])
			assert.Equal(t, map[string]any{"errorMessage": "record 2 incidents: table busy", "errorType": "wrapError"}, rec["responsePayload"])
			var typed FailureRecord
			require.NoError(t, json.Unmarshal([]byte(q.bodies[0]), &typed))
			assert.Equal(t, testEvent(), typed.RequestPayload)
		})
	}
}

func TestInvokerFaultAndPanic(t *testing.T) {
	clock, q := fastClock(), &fakeQueue{}
	ran := 0
	fn := func(context.Context, events.CloudwatchLogsEvent) error {
		ran++
		panic("nil map")
	}
	fault := func(attempt int, _ events.CloudwatchLogsEvent) error {
		if attempt < 3 {
			return fmt.Errorf("forced failure %d", attempt)
		}
		return nil
	}
	inv := NewInvoker(fn, InvokeConfig{FunctionARN: testFunctionARN, MaxRetries: 2, DLQURL: "https://dlq"}, clock, q, fault, nil)
	require.NoError(t, inv.Submit(t.Context(), testEvent()))
	inv.Wait()
	assert.Equal(t, 1, ran, "the fault stands in for the function on attempts 1 and 2")
	require.Len(t, q.bodies, 1)
	var rec FailureRecord
	require.NoError(t, json.Unmarshal([]byte(q.bodies[0]), &rec))
	assert.Equal(t, FailureResponsePayload{ErrorMessage: "nil map", ErrorType: "string"}, rec.ResponsePayload, "a panic reports its value")
}

func TestInvokerEventAge(t *testing.T) {
	clock, q := fastClock(), &fakeQueue{}
	fn := func(context.Context, events.CloudwatchLogsEvent) error { return errors.New("down") }
	inv := NewInvoker(fn, InvokeConfig{FunctionARN: testFunctionARN, MaxRetries: 2, MaxEventAge: 30 * time.Second, DLQURL: "https://dlq"}, clock, q, nil, nil)
	require.NoError(t, inv.Submit(t.Context(), testEvent()))
	inv.Wait()
	require.Len(t, q.bodies, 1)
	var rec FailureRecord
	require.NoError(t, json.Unmarshal([]byte(q.bodies[0]), &rec))
	assert.Equal(t, ConditionEventAgeExceeded, rec.RequestContext.Condition)
	assert.Equal(t, 1, rec.RequestContext.ApproximateInvokeCount, "older than 30 s before the first retry")
}

func TestInvokerLostEvents(t *testing.T) {
	clock := fastClock()
	q := &fakeQueue{err: errors.New("AccessDenied")}
	var lines []string
	report := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	fn := func(context.Context, events.CloudwatchLogsEvent) error { return errors.New("down") }
	inv := NewInvoker(fn, InvokeConfig{FunctionARN: testFunctionARN, MaxRetries: 2, DLQURL: "https://dlq"}, clock, q, nil, report)
	require.NoError(t, inv.Submit(t.Context(), testEvent()))
	inv.Wait()
	err := inv.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "send failure record to https://dlq (the event is lost): AccessDenied")
	assert.Len(t, lines, 3, "one line per failed attempt")
}

func TestNewRequestID(t *testing.T) {
	id := newRequestID()
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
	assert.NotEqual(t, id, newRequestID())
}
