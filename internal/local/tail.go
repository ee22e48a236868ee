package local

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// logsReader is the subset of *cloudwatchlogs.Client that Tailer calls.
type logsReader interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Event is one stored log event as CloudWatch Logs returns it.
type Event struct {
	ID        string
	Stream    string
	Timestamp int64 // milliseconds since the Unix epoch
	Message   string
}

// Tailer reads the events added to a log group since its last Poll, as
// `aws logs tail --follow` does: FilterLogEvents from the newest timestamp
// seen, skipping the event ids already seen at that timestamp. Memory stays
// bounded by one page (at most 10,000 events) and the ids of one
// millisecond. An event stored later with a timestamp older than the newest
// one seen is not read; every writer of the twin stamps events with the
// twin's clock, which never goes back.
type Tailer struct {
	logs   logsReader
	group  string
	cursor int64               // newest timestamp seen
	seen   map[string]struct{} // ids seen at cursor
}

// NewTailer returns a Tailer of group that starts with the events stamped
// from start on (milliseconds since the epoch).
func NewTailer(logs logsReader, group string, start int64) *Tailer {
	return &Tailer{logs: logs, group: group, cursor: start, seen: map[string]struct{}{}}
}

// Poll reads the new events page by page and hands each non-empty page to
// fn; the cursor moves past a page only when fn returns nil, so a page fn
// failed on comes again on the next Poll. It returns how many events fn
// accepted.
func (t *Tailer) Poll(ctx context.Context, fn func([]Event) error) (int, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &t.group, StartTime: aws.Int64(t.cursor)}
	total := 0
	for {
		out, err := t.logs.FilterLogEvents(ctx, in)
		if err != nil {
			return total, fmt.Errorf("read new events of %s: %w", t.group, err)
		}
		page := make([]Event, 0, len(out.Events))
		for _, e := range out.Events {
			ev := Event{ID: aws.ToString(e.EventId), Stream: aws.ToString(e.LogStreamName), Timestamp: aws.ToInt64(e.Timestamp), Message: aws.ToString(e.Message)}
			if _, dup := t.seen[ev.ID]; dup && ev.Timestamp == t.cursor {
				continue
			}
			page = append(page, ev)
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return total, err
			}
			total += len(page)
			t.advance(page)
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			return total, nil
		}
		in.NextToken = out.NextToken
	}
}

// advance moves the cursor to the newest event of page.
func (t *Tailer) advance(page []Event) {
	for _, e := range page {
		switch {
		case e.Timestamp > t.cursor:
			t.cursor = e.Timestamp
			clear(t.seen)
			t.seen[e.ID] = struct{}{}
		case e.Timestamp == t.cursor:
			t.seen[e.ID] = struct{}{}
		}
	}
}
