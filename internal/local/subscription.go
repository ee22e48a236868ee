package local

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
)

// MaxDeliveryBytes bounds the JSON of one delivery to a Lambda function:
// the asynchronous invocation payload limit every Lambda endpoint accepts
// (256 KB; raised to 1 MB in late 2025).
const MaxDeliveryBytes = 256 << 10

// submitter queues asynchronous invocations; *Invoker is one.
type submitter interface {
	Submit(ctx context.Context, ev events.CloudwatchLogsEvent) error
}

// SubscriptionStats counts what a Subscription did.
type SubscriptionStats struct {
	Events     int `json:"events"`     // events read
	Matched    int `json:"matched"`    // events the filter pattern matched
	Deliveries int `json:"deliveries"` // payloads handed to the function
}

// Subscription is a subscription filter with a Lambda destination: it
// selects the events its pattern matches, batches them as CloudWatch Logs
// does for Lambda (one payload per log stream, in event order, split to
// stay within PutLogEvents' batch limits and the invocation payload limit),
// wraps each batch in the awslogs payload (gzip and base64 of the
// DATA_MESSAGE document) and invokes the function asynchronously. Not safe
// for concurrent use.
type Subscription struct {
	name, owner, group string
	pattern            *filterpattern.Pattern
	fn                 submitter
	stats              SubscriptionStats
}

// NewSubscription returns the subscription filter name of group, owned by
// the account owner.
func NewSubscription(name, owner, group string, pattern *filterpattern.Pattern, fn submitter) *Subscription {
	return &Subscription{name: name, owner: owner, group: group, pattern: pattern, fn: fn}
}

// Stats returns the counts so far.
func (s *Subscription) Stats() SubscriptionStats { return s.stats }

// Deliver delivers the events the pattern matches.
func (s *Subscription) Deliver(ctx context.Context, evs []Event) error {
	s.stats.Events += len(evs)
	var order []string
	byStream := map[string][]awslogs.LogEvent{}
	for _, e := range evs {
		if !s.pattern.Match(e.Message) {
			continue
		}
		s.stats.Matched++
		if _, ok := byStream[e.Stream]; !ok {
			order = append(order, e.Stream)
		}
		byStream[e.Stream] = append(byStream[e.Stream], awslogs.LogEvent{ID: e.ID, Timestamp: e.Timestamp, Message: e.Message})
	}
	for _, stream := range order {
		for _, batch := range splitDelivery(byStream[stream]) {
			if err := s.deliver(ctx, stream, batch); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitDelivery splits one stream's events within PutLogEvents' batch
// limits, the size of what one ingestion delivers.
func splitDelivery(evs []awslogs.LogEvent) [][]awslogs.LogEvent {
	return splitBatches(evs,
		func(e awslogs.LogEvent) int { return eventSize(e.Message) },
		func(e awslogs.LogEvent) int64 { return e.Timestamp })
}

// deliver encodes one batch and submits it, halving batches whose payload
// is over MaxDeliveryBytes.
func (s *Subscription) deliver(ctx context.Context, stream string, batch []awslogs.LogEvent) error {
	data, err := awslogs.Encode(&awslogs.Payload{
		MessageType:         awslogs.MessageTypeData,
		Owner:               s.owner,
		LogGroup:            s.group,
		LogStream:           stream,
		SubscriptionFilters: []string{s.name},
		LogEvents:           batch,
	})
	if err != nil {
		return fmt.Errorf("subscription %s: %w", s.name, err)
	}
	ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
	// The invocation's JSON is {"awslogs":{"data":"..."}}; base64 needs no
	// escaping.
	if size := len(data) + len(`{"awslogs":{"data":""}}`); size > MaxDeliveryBytes && len(batch) > 1 {
		half := len(batch) / 2
		if err := s.deliver(ctx, stream, batch[:half]); err != nil {
			return err
		}
		return s.deliver(ctx, stream, batch[half:])
	}
	if err := s.fn.Submit(ctx, ev); err != nil {
		return fmt.Errorf("subscription %s: deliver %d events of %s: %w", s.name, len(batch), stream, err)
	}
	s.stats.Deliveries++
	return nil
}
