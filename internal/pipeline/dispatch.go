package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUnknownEvent is returned for an event that is none of the shapes the
// processor is wired to receive.
var ErrUnknownEvent = errors.New("pipeline: unknown event shape")

// shape holds the top-level keys that tell the processor's event sources
// apart; only their presence is read here.
type shape struct {
	AWSLogs json.RawMessage `json:"awslogs"`
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
}

// sourceKinesis is the eventSource of a Kinesis event source mapping's
// records.
const sourceKinesis = "aws:kinesis"

// Invoke is the processor Lambda's entry point: it tells the event's source
// by its shape and hands it to the matching handler. A CloudWatch Logs
// subscription delivery ({"awslogs": {"data": ...}}) goes to Handle; a
// batch of a Kinesis event source mapping ({"Records": [...]}, the first
// record's eventSource "aws:kinesis") goes to HandleKinesis; an EventBridge
// scheduled event goes to Flush, whose failure is logged and not returned
// (the next tick retries it). The result is what Lambda returns to the
// source: nil for an asynchronous delivery or a schedule, the
// events.KinesisEventResponse (batchItemFailures) for a Kinesis batch. An
// event of any other shape is an error that names its keys,
// so a mis-wired trigger shows up in the processor's log and dead-letter
// queue instead of being dropped.
func (h *Processor) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var s shape
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %v", ErrUnknownEvent, err)
	}
	switch {
	case s.AWSLogs != nil:
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%w: awslogs: %v", ErrUnknownEvent, err)
		}
		return nil, h.Handle(ctx, ev)
	case len(s.Records) > 0 && s.Records[0].EventSource == sourceKinesis:
		var ev events.KinesisEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%w: kinesis: %v", ErrUnknownEvent, err)
		}
		return h.HandleKinesis(ctx, ev)
	case scheduled(raw):
		// Not an error for Lambda: the event carries nothing to retry or
		// dead-letter, and what failed stays due for the next tick.
		_, _ = h.Flush(ctx) // logged there
		return nil, nil
	}
	return nil, fmt.Errorf("%w: top-level keys %v", ErrUnknownEvent, keys(raw))
}

// scheduled reports whether raw is an EventBridge scheduled event
// ({"source":"aws.events","detail-type":"Scheduled Event",...}), which the
// processor's schedule sends to flush the alert digests.
func scheduled(raw json.RawMessage) bool {
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.Source == "aws.events" && ev.DetailType == "Scheduled Event"
}

// keys lists the top-level keys of a JSON object, for an error message.
func keys(raw json.RawMessage) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
