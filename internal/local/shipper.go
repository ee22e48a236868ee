package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logalert/logalert/internal/backoff"
)

// PutLogEvents limits, from the API reference: a batch holds at most
// MaxBatchEvents events and MaxBatchBytes bytes, counted as the UTF-8 bytes
// of every message plus EventOverhead bytes per event; its events are in
// chronological order and span less than MaxBatchSpan.
const (
	MaxBatchBytes  = 1_048_576
	MaxBatchEvents = 10_000
	EventOverhead  = 26
	MaxBatchSpan   = 24 * time.Hour
	// MaxEventBytes is the largest event, message plus EventOverhead: the
	// 256 KB quota that every endpoint accepts (CloudWatch Logs itself
	// takes 1 MB events since April 2025), so that any event the twin ships
	// fits one of its subscription deliveries (MaxDeliveryBytes).
	MaxEventBytes = 262_144
)

// ErrEventTooLarge reports a log event over MaxEventBytes; no batch can hold
// it.
var ErrEventTooLarge = errors.New("local: log event over 256 KB")

// ErrRejected reports events that PutLogEvents accepted the request for but
// refused to store (too old, too new or expired, see RejectedLogEventsInfo).
var ErrRejected = errors.New("local: log events rejected")

// logsWriter is the subset of *cloudwatchlogs.Client that Shipper calls.
type logsWriter interface {
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
}

// DefaultBackoff rides out a few seconds of throttling: the attempts of a
// PutLogEvents call and the full-jitter delays between them.
var DefaultBackoff = backoff.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second, Attempts: 8}

// retryCodes are the error codes the Shipper retries besides what the
// SDK's standard retryer retries (throttling, server errors, connection
// errors): CloudWatch Logs' ServiceUnavailableException, whatever its HTTP
// status.
var retryCodes = []string{"ServiceUnavailableException"}

// ShipStats counts what a Shipper did.
type ShipStats struct {
	Events  int `json:"events"`  // events sent in accepted PutLogEvents calls
	Bytes   int `json:"bytes"`   // message bytes of those events
	Batches int `json:"batches"` // successful PutLogEvents calls
	Retries int `json:"retries"` // PutLogEvents calls repeated after throttling or a server error
}

// Shipper writes lines to one log stream through PutLogEvents, the way a
// careful CloudWatch Logs client does: it creates the stream when it is
// missing, splits the events into batches within PutLogEvents' limits,
// retries throttling and server errors with the SDK's standard retryer
// (DefaultBackoff's attempts and full-jitter delays, plus retryCodes), and
// reports every other error with the log group and stream it concerns.
// It implements emit.LineWriter. It is safe for concurrent use; batches are
// sent one at a time, in order.
type Shipper struct {
	logs          logsWriter
	group, stream string
	now           func() time.Time
	retryer       aws.Retryer
	// delay is the wait before retry n of a call (DefaultBackoff.Delay);
	// the retryer sleeps it.
	delay func(n int) time.Duration

	mu    sync.Mutex
	last  int64 // timestamp of the last line, so timestamps never go back
	stats ShipStats
}

// NewShipper returns a Shipper for the stream of group; now stamps the lines
// WriteLines is given.
func NewShipper(logs logsWriter, group, stream string, now func() time.Time) *Shipper {
	s := &Shipper{logs: logs, group: group, stream: stream, now: now, delay: DefaultBackoff.Delay}
	s.retryer = retry.AddWithErrorCodes(retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = DefaultBackoff.Attempts
		o.MaxBackoff = DefaultBackoff.Max
		o.RateLimiter = ratelimit.None // a burst of throttles is when retries matter
		o.Backoff = retry.BackoffDelayerFunc(func(n int, _ error) (time.Duration, error) {
			s.stats.Retries++ // the retryer asks for a delay before each retry; put holds s.mu
			return s.delay(n), nil
		})
	}), retryCodes...)
	return s
}

// Stats returns what the Shipper has stored so far.
func (s *Shipper) Stats() ShipStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WriteLines stores each line as one event stamped with the current time
// (never earlier than the previous line).
func (s *Shipper) WriteLines(ctx context.Context, lines []string) error {
	s.mu.Lock()
	events := make([]types.InputLogEvent, len(lines))
	for i, l := range lines {
		s.last = max(s.last, s.now().UnixMilli())
		events[i] = types.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(s.last)}
	}
	s.mu.Unlock()
	return s.Put(ctx, events)
}

// Put stores events, sorted by timestamp (stable, on a copy), in as few
// PutLogEvents calls as the limits allow. It fails with ErrEventTooLarge
// before sending anything if an event cannot fit a batch, and with
// ErrRejected if the service refused some events; batches sent before an
// error stay stored.
func (s *Shipper) Put(ctx context.Context, events []types.InputLogEvent) error {
	batches, err := Batches(events)
	if err != nil {
		return fmt.Errorf("ship to %s/%s: %w", s.group, s.stream, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batches {
		if err := s.put(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// Batches sorts a copy of events by timestamp (stable) and splits it into
// PutLogEvents batches: at most MaxBatchEvents events and MaxBatchBytes
// bytes (messages plus EventOverhead each), spanning less than
// MaxBatchSpan. An event over MaxEventBytes fails with ErrEventTooLarge.
func Batches(events []types.InputLogEvent) ([][]types.InputLogEvent, error) {
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b types.InputLogEvent) int {
		return cmp.Compare(aws.ToInt64(a.Timestamp), aws.ToInt64(b.Timestamp))
	})
	for i, e := range sorted {
		if size := eventSize(aws.ToString(e.Message)); size > MaxEventBytes {
			return nil, fmt.Errorf("%w: event %d is %d bytes with overhead, at most %d", ErrEventTooLarge, i, size, MaxEventBytes)
		}
	}
	return splitBatches(sorted,
		func(e types.InputLogEvent) int { return eventSize(aws.ToString(e.Message)) },
		func(e types.InputLogEvent) int64 { return aws.ToInt64(e.Timestamp) }), nil
}

// eventSize is what an event counts against PutLogEvents' batch size.
func eventSize(message string) int { return len(message) + EventOverhead }

// splitBatches cuts events, in time order, into consecutive batches within
// PutLogEvents' limits: MaxBatchEvents events, MaxBatchBytes bytes (by
// size), a span under MaxBatchSpan (by timestamp). An event larger than a
// batch gets a batch of its own.
func splitBatches[E any](events []E, size func(E) int, timestamp func(E) int64) [][]E {
	var (
		out   [][]E
		start int
		bytes int
		first int64
		span  = MaxBatchSpan.Milliseconds()
	)
	for i, e := range events {
		n, ts := size(e), timestamp(e)
		if i > start && (i-start == MaxBatchEvents || bytes+n > MaxBatchBytes || ts-first >= span) {
			out = append(out, events[start:i:i])
			start, bytes = i, 0
		}
		if i == start {
			first = ts
		}
		bytes += n
	}
	if start < len(events) {
		out = append(out, events[start:])
	}
	return out
}

// withRetryer makes one PutLogEvents call use the Shipper's retryer.
func (s *Shipper) withRetryer(o *cloudwatchlogs.Options) { o.Retryer = s.retryer }

// put sends one batch, creating the stream once if it is missing; the
// retryer retries what is worth retrying. The caller holds s.mu.
func (s *Shipper) put(ctx context.Context, batch []types.InputLogEvent) error {
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: &s.group, LogStreamName: &s.stream, LogEvents: batch}
	retries := s.stats.Retries
	out, err := s.logs.PutLogEvents(ctx, in, s.withRetryer)
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		if err := s.createStream(ctx); err != nil {
			return err
		}
		retries = s.stats.Retries // creating the stream is not a retry
		out, err = s.logs.PutLogEvents(ctx, in, s.withRetryer)
	}
	if err != nil {
		return fmt.Errorf("put %d log events into %s/%s (attempt %d): %w", len(batch), s.group, s.stream, s.stats.Retries-retries+1, err)
	}
	return s.accepted(batch, out.RejectedLogEventsInfo)
}

// accepted records a stored batch and reports the events the service
// refused to store.
func (s *Shipper) accepted(batch []types.InputLogEvent, rej *types.RejectedLogEventsInfo) error {
	s.stats.Batches++
	s.stats.Events += len(batch)
	for _, e := range batch {
		s.stats.Bytes += len(aws.ToString(e.Message))
	}
	if rej == nil || (rej.TooOldLogEventEndIndex == nil && rej.ExpiredLogEventEndIndex == nil && rej.TooNewLogEventStartIndex == nil) {
		return nil
	}
	idx := func(p *int32) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Errorf("%w: %s/%s refused events of a batch of %d (too old up to index %s, expired up to %s, too new from %s); "+
		"timestamps must be within 14 days before and 2 hours after the service's clock",
		ErrRejected, s.group, s.stream, len(batch), idx(rej.TooOldLogEventEndIndex), idx(rej.ExpiredLogEventEndIndex), idx(rej.TooNewLogEventStartIndex))
}

// createStream creates the Shipper's stream; one that exists already is
// fine, a missing log group is reported by name.
func (s *Shipper) createStream(ctx context.Context) error {
	_, err := s.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &s.group, LogStreamName: &s.stream})
	var (
		exists   *types.ResourceAlreadyExistsException
		notFound *types.ResourceNotFoundException
	)
	switch {
	case err == nil, errors.As(err, &exists):
		return nil
	case errors.As(err, &notFound):
		return fmt.Errorf("create log stream %s: log group %s does not exist (deploy the stack first): %w", s.stream, s.group, err)
	default:
		return fmt.Errorf("create log stream %s in %s: %w", s.stream, s.group, err)
	}
}
