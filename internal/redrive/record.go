package redrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNotRecord reports a queue message that is neither a Lambda invocation
// record (of an asynchronous invocation or of a Kinesis event source
// mapping) nor a CloudWatch Logs subscription event.
var ErrNotRecord = errors.New("redrive: not a Lambda invocation record or CloudWatch Logs event")

// ErrNoPayload reports an invocation record without its requestPayload.
var ErrNoPayload = errors.New("redrive: invocation record has no requestPayload")

// Record is Lambda's invocation record of a failed asynchronous invocation,
// as its on-failure destination delivers it, or of a failed batch of a
// Kinesis event source mapping, which names the batch (KinesisBatchInfo)
// instead of carrying a RequestPayload.
type Record struct {
	Version         string          `json:"version"`
	Timestamp       time.Time       `json:"timestamp"`
	RequestContext  RequestContext  `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext ResponseContext `json:"responseContext"`
	ResponsePayload json.RawMessage `json:"responsePayload"`
	// KinesisBatchInfo names the failed batch of a Kinesis event source
	// mapping; nil in the record of an asynchronous invocation.
	KinesisBatchInfo *KinesisBatchInfo `json:"KinesisBatchInfo"`
}

// RequestContext says which invocation failed and why.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"` // RetriesExhausted, EventAgeExceeded; Kinesis: RetryAttemptsExhausted, RecordAgeExceeded
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is the outcome of the last attempt.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"` // Handled, Unhandled
}

// ErrorMessage returns the errorMessage of the last attempt's response, if
// it has one.
func (r Record) ErrorMessage() string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(r.ResponsePayload, &e) // absent or not an error object: no message
	return e.ErrorMessage
}

// ParseMessage reads a dead-letter queue message body: an invocation
// record, or (from a function's DeadLetterConfig) the bare event, which it
// returns as a Record holding only the RequestPayload. A Kinesis record
// needs its KinesisBatchInfo (shard and sequence numbers), and no payload.
// It returns an error wrapping ErrNotRecord or ErrNoPayload.
func ParseMessage(body string) (Record, error) {
	var probe struct {
		RequestContext *json.RawMessage `json:"requestContext"`
		AWSLogs        *json.RawMessage `json:"awslogs"`
	}
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		return Record{}, fmt.Errorf("%w: the message body is not JSON (%v)", ErrNotRecord, err)
	}
	switch {
	case probe.RequestContext != nil:
		var r Record
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return Record{}, fmt.Errorf("%w: %v", ErrNotRecord, err)
		}
		if b := r.KinesisBatchInfo; b != nil {
			if b.StreamARN == "" || b.ShardID == "" || b.StartSequenceNumber == "" || b.EndSequenceNumber == "" {
				return r, fmt.Errorf("%w: KinesisBatchInfo lacks its streamArn, shardId or sequence numbers", ErrNotRecord)
			}
			return r, nil
		}
		if p := bytes.TrimSpace(r.RequestPayload); len(p) == 0 || bytes.Equal(p, []byte("null")) {
			return r, ErrNoPayload
		}
		return r, nil
	case probe.AWSLogs != nil:
		return Record{RequestPayload: json.RawMessage(body)}, nil
	}
	return Record{}, ErrNotRecord
}
