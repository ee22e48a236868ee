package local

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logalert/logalert/internal/redrive"
)

// Function is the code of a Lambda function that takes subscription
// deliveries; (*pipeline.Processor).Handle is one.
type Function func(ctx context.Context, ev events.CloudwatchLogsEvent) error

// FaultFunc lets a test make an invocation fail: called before each attempt
// (from 1), a non-nil error fails that attempt with it instead of running
// the function.
type FaultFunc func(attempt int, ev events.CloudwatchLogsEvent) error

// queueSender is the subset of *sqs.Client that Invoker calls.
type queueSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// retryDelays are Lambda's waits before the retries of a failed
// asynchronous invocation: one minute before the first, two before the
// second (Lambda Developer Guide, "How Lambda handles errors and retries
// with asynchronous invocation").
var retryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// Conditions of an on-failure destination record.
const (
	ConditionRetriesExhausted = "RetriesExhausted"
	ConditionEventAgeExceeded = "EventAgeExceeded"
)

// InvokeConfig is a function's asynchronous invocation configuration.
type InvokeConfig struct {
	// FunctionARN names the function in the records sent to the DLQ.
	FunctionARN string
	// MaxRetries is EventInvokeConfig.MaximumRetryAttempts, 0 to 2.
	MaxRetries int
	// MaxEventAge is EventInvokeConfig.MaximumEventAgeInSeconds (virtual
	// time); an event older than this before a retry goes to the DLQ.
	MaxEventAge time.Duration
	// Timeout bounds one invocation (real time), as the function's Timeout.
	Timeout time.Duration
	// Concurrency is how many invocations run at once (at least 1).
	Concurrency int
	// DLQURL is the SQS queue of the on-failure destination.
	DLQURL string
}

// InvokeStats counts what an Invoker did.
type InvokeStats struct {
	Events         int `json:"events"`      // events submitted
	Invocations    int `json:"invocations"` // attempts, failed ones included
	FailedAttempts int `json:"failed_attempts"`
	Succeeded      int `json:"succeeded"`     // events the function accepted
	DeadLettered   int `json:"dead_lettered"` // events sent to the DLQ
}

// FailureRecord is the invocation record Lambda sends to an SQS on-failure
// destination (Lambda Developer Guide, "Capturing records of Lambda
// asynchronous invocations"): the shape redrive.Record reads back, with
// the request and response typed.
type FailureRecord struct {
	Version         string                     `json:"version"`
	Timestamp       string                     `json:"timestamp"`
	RequestContext  redrive.RequestContext     `json:"requestContext"`
	RequestPayload  events.CloudwatchLogsEvent `json:"requestPayload"`
	ResponseContext redrive.ResponseContext    `json:"responseContext"`
	ResponsePayload FailureResponsePayload     `json:"responsePayload"`
}

// FailureResponsePayload is the error the function returned, as the Go
// runtime reports it.
type FailureResponsePayload struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// Invoker invokes a Function with Lambda's asynchronous semantics: each
// event runs in the background; a failed attempt is retried after Lambda's
// delays on the twin's clock, up to MaxRetries times or until the event is
// older than MaxEventAge; then the event goes to the DLQ as a FailureRecord.
// At most 64 events are in flight; Submit waits for room. It is safe for
// concurrent use.
type Invoker struct {
	fn     Function
	cfg    InvokeConfig
	clock  *Clock
	dlq    queueSender
	fault  FaultFunc
	report func(format string, args ...any)

	slots    chan struct{} // running invocations
	inflight chan struct{} // events not finished
	wg       sync.WaitGroup

	mu    sync.Mutex
	stats InvokeStats
	errs  []error
}

// maxInFlight bounds the events an Invoker holds.
const maxInFlight = 64

// NewInvoker returns an Invoker of fn. fault may be nil; report (may be nil)
// receives one line per failed attempt and per dead-lettered event.
func NewInvoker(fn Function, cfg InvokeConfig, clock *Clock, dlq queueSender, fault FaultFunc, report func(format string, args ...any)) *Invoker {
	if report == nil {
		report = func(string, ...any) {}
	}
	cfg.MaxRetries = min(max(cfg.MaxRetries, 0), len(retryDelays))
	return &Invoker{
		fn: fn, cfg: cfg, clock: clock, dlq: dlq, fault: fault, report: report,
		slots:    make(chan struct{}, max(cfg.Concurrency, 1)),
		inflight: make(chan struct{}, maxInFlight),
	}
}

// Submit queues one invocation of ev; it returns once ev is queued (or ctx
// is done), as Lambda's Invoke with InvocationType Event does.
func (inv *Invoker) Submit(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	select {
	case inv.inflight <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("queue invocation: %w", ctx.Err())
	}
	inv.mu.Lock()
	inv.stats.Events++
	inv.mu.Unlock()
	inv.wg.Add(1)
	go func() {
		defer func() { <-inv.inflight; inv.wg.Done() }()
		inv.handle(ctx, ev)
	}()
	return nil
}

// Pending returns how many submitted events are not finished.
func (inv *Invoker) Pending() int { return len(inv.inflight) }

// Wait blocks until every submitted event is finished.
func (inv *Invoker) Wait() { inv.wg.Wait() }

// Stats returns the counts so far.
func (inv *Invoker) Stats() InvokeStats {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.stats
}

// Err returns the events that were lost: not accepted by the function and
// not sent to the DLQ (the DLQ refused them, or the twin stopped first).
func (inv *Invoker) Err() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return errors.Join(inv.errs...)
}

func (inv *Invoker) count(f func(*InvokeStats)) {
	inv.mu.Lock()
	f(&inv.stats)
	inv.mu.Unlock()
}

func (inv *Invoker) lost(err error) {
	inv.mu.Lock()
	inv.errs = append(inv.errs, err)
	inv.mu.Unlock()
}

// handle runs the attempts of one event, then sends it to the DLQ if they
// all failed.
func (inv *Invoker) handle(ctx context.Context, ev events.CloudwatchLogsEvent) {
	requestID := newRequestID()
	queued := inv.clock.Now()
	condition := ConditionRetriesExhausted
	attempts := 0
	var last error
	for attempt := 1; attempt <= 1+inv.cfg.MaxRetries; attempt++ {
		if attempt > 1 {
			if err := inv.clock.Sleep(ctx, retryDelays[attempt-2]); err != nil {
				inv.lost(fmt.Errorf("invocation %s abandoned before retry %d: %w", requestID, attempt-1, err))
				return
			}
			if inv.cfg.MaxEventAge > 0 && inv.clock.Now().Sub(queued) > inv.cfg.MaxEventAge {
				condition = ConditionEventAgeExceeded
				break
			}
		}
		attempts = attempt
		last = inv.invoke(ctx, requestID, attempt, ev)
		inv.count(func(s *InvokeStats) { s.Invocations++ })
		if last == nil {
			inv.count(func(s *InvokeStats) { s.Succeeded++ })
			return
		}
		inv.count(func(s *InvokeStats) { s.FailedAttempts++ })
		inv.report("invocation %s attempt %d of %d failed: %v", requestID, attempt, 1+inv.cfg.MaxRetries, last)
	}
	if err := inv.deadLetter(ctx, requestID, condition, attempts, ev, last); err != nil {
		inv.lost(err)
		return
	}
	inv.count(func(s *InvokeStats) { s.DeadLettered++ })
	inv.report("invocation %s sent to the dead-letter queue (%s after %d attempts)", requestID, condition, attempts)
}

// invoke runs one attempt within the function's timeout, with the Lambda
// context a function sees, and turns a panic into an error as the runtime
// does.
func (inv *Invoker) invoke(ctx context.Context, requestID string, attempt int, ev events.CloudwatchLogsEvent) error {
	select {
	case inv.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-inv.slots }()
	if inv.fault != nil {
		if err := inv.fault(attempt, ev); err != nil {
			return err
		}
	}
	lc := &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: inv.cfg.FunctionARN}
	_, err := call(ctx, inv.cfg.Timeout, lc, func(ctx context.Context, ev events.CloudwatchLogsEvent) (struct{}, error) {
		return struct{}{}, inv.fn(ctx, ev)
	}, ev)
	return err
}

// call runs fn with ev as Lambda runs a function: within timeout (real
// time; none when 0), with the Lambda context lc, and with a panic turned
// into an error as the runtime does.
func call[E, R any](ctx context.Context, timeout time.Duration, lc *lambdacontext.LambdaContext, fn func(context.Context, E) (R, error), ev E) (out R, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ctx = lambdacontext.NewContext(ctx, lc)
	defer func() {
		if v := recover(); v != nil {
			err = panicError{v}
		}
	}()
	return fn(ctx, ev)
}

// panicError is a panic of the function, reported as the runtime reports
// it: the message of the value, the type of the value.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint(p.v) }

// deadLetter sends the on-failure destination record of ev.
func (inv *Invoker) deadLetter(ctx context.Context, requestID, condition string, attempts int, ev events.CloudwatchLogsEvent, last error) error {
	rec := FailureRecord{
		Version:   "1.0",
		Timestamp: inv.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: redrive.RequestContext{
			RequestID: requestID, FunctionARN: inv.cfg.FunctionARN + ":$LATEST",
			Condition: condition, ApproximateInvokeCount: attempts,
		},
		RequestPayload:  ev,
		ResponseContext: redrive.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"},
	}
	if last != nil {
		rec.ResponsePayload = FailureResponsePayload{ErrorMessage: last.Error(), ErrorType: errorType(last)}
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("invocation %s: encode failure record: %w", requestID, err)
	}
	if _, err := inv.dlq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(inv.cfg.DLQURL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("invocation %s: send failure record to %s (the event is lost): %w", requestID, inv.cfg.DLQURL, err)
	}
	return nil
}

// errorType names err's type as aws-lambda-go does in errorType: the type
// name without package or pointer ("wrapError", "joinError").
func errorType(err error) string {
	var v any = err
	if p, ok := err.(panicError); ok {
		v = p.v
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// newRequestID returns a random version 4 UUID, as Lambda's request ids are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
