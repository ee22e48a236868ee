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

// delivery is one payload of a subscription: the awslogs document of
// events of one log stream, as awslogs.Encode returns it (gzipped,
// base64-encoded).
type delivery struct {
	group, stream string
	events        int
	data          string
}

// target is where a Subscription sends its deliveries: a Lambda function
// (lambdaTarget) or a logs destination (*Destination).
type target interface {
	// fits reports whether a delivery of data is within the target's
	// payload limit.
	fits(data string) bool
	// send sends the deliveries in order and returns how many it sent.
	send(ctx context.Context, ds []delivery) (int, error)
}

// lambdaTarget invokes a function asynchronously with each delivery.
type lambdaTarget struct{ fn submitter }

// fits checks the invocation's JSON, {"awslogs":{"data":"..."}}, against
// MaxDeliveryBytes; base64 needs no escaping.
func (l lambdaTarget) fits(data string) bool {
	return len(data)+len(`{"awslogs":{"data":""}}`) <= MaxDeliveryBytes
}

func (l lambdaTarget) send(ctx context.Context, ds []delivery) (int, error) {
	for i, d := range ds {
		if err := l.fn.Submit(ctx, events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: d.data}}); err != nil {
			return i, fmt.Errorf("deliver %d events of %s: %w", d.events, d.stream, err)
		}
	}
	return len(ds), nil
}

// SubscriptionStats counts what a Subscription did.
type SubscriptionStats struct {
	Events     int `json:"events"`     // events read
	Matched    int `json:"matched"`    // events the filter pattern matched
	Deliveries int `json:"deliveries"` // payloads handed to the function or the destination
}

// Subscription is a subscription filter with a Lambda destination, or a
// logs destination in another account: it selects the events its pattern
// matches, batches them as CloudWatch Logs does (one payload per log
// stream, in event order, split to stay within PutLogEvents' batch limits
// and the target's payload limit), wraps each batch in the awslogs payload
// (gzip of the DATA_MESSAGE document, base64-encoded for Lambda) and
// invokes the function asynchronously, or puts it into the destination's
// stream. Not safe for concurrent use.
type Subscription struct {
	name, owner, group string
	pattern            *filterpattern.Pattern
	to                 target
	stats              SubscriptionStats
}

// NewSubscription returns the subscription filter name of group, owned by
// the account owner, that invokes fn.
func NewSubscription(name, owner, group string, pattern *filterpattern.Pattern, fn submitter) *Subscription {
	return &Subscription{name: name, owner: owner, group: group, pattern: pattern, to: lambdaTarget{fn}}
}

// NewDestinationSubscription returns the subscription filter name of
// group, in the account owner (a member account), that delivers to the
// logs destination dest (in the central account): the payloads' owner is
// the member account.
func NewDestinationSubscription(name, owner, group string, pattern *filterpattern.Pattern, dest *Destination) *Subscription {
	return &Subscription{name: name, owner: owner, group: group, pattern: pattern, to: dest}
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
	var ds []delivery
	for _, stream := range order {
		for _, batch := range splitDelivery(byStream[stream]) {
			var err error
			if ds, err = s.encode(ds, stream, batch); err != nil {
				return err
			}
		}
	}
	n, err := s.to.send(ctx, ds)
	s.stats.Deliveries += n
	if err != nil {
		return fmt.Errorf("subscription %s: %w", s.name, err)
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

// encode appends the delivery of one batch to ds, halving batches whose
// payload the target cannot take.
func (s *Subscription) encode(ds []delivery, stream string, batch []awslogs.LogEvent) ([]delivery, error) {
	data, err := awslogs.Encode(&awslogs.Payload{
		MessageType:         awslogs.MessageTypeData,
		Owner:               s.owner,
		LogGroup:            s.group,
		LogStream:           stream,
		SubscriptionFilters: []string{s.name},
		LogEvents:           batch,
	})
	if err != nil {
		return ds, fmt.Errorf("subscription %s: %w", s.name, err)
	}
	if !s.to.fits(data) && len(batch) > 1 {
		half := len(batch) / 2
		if ds, err = s.encode(ds, stream, batch[:half]); err != nil {
			return ds, err
		}
		return s.encode(ds, stream, batch[half:])
	}
	return append(ds, delivery{group: s.group, stream: stream, events: len(batch), data: data}), nil
}
