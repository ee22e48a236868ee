package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// logsAPI is the subset of *cloudwatchlogs.Client groupLines calls.
type logsAPI interface {
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// PutLogEvents' limits on one call: 10,000 events and 1,048,576 bytes,
// each event counting its UTF-8 length plus 26 bytes.
const (
	maxBatchEvents = 10_000
	maxBatchBytes  = 1_048_576
	eventOverhead  = 26
)

// groupLines writes lines into a watched log group other than the
// function's own, through PutLogEvents (the template grants exactly that,
// per group), in a stream of its own created on first use.
type groupLines struct {
	logs    logsAPI
	group   string
	stream  string
	created bool
	now     func() time.Time
}

// newGroupLines returns a writer into group, in a stream named like the
// function's own: 2026/11/25/emitter/<random>.
func newGroupLines(logs logsAPI, group string, now func() time.Time) *groupLines {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &groupLines{logs: logs, group: group, stream: fmt.Sprintf("%s/emitter/%x", now().UTC().Format("2006/01/02"), b), now: now}
}

// WriteLines puts one event per line, stamped now, in as few calls as
// PutLogEvents' limits allow.
func (g *groupLines) WriteLines(ctx context.Context, lines []string) error {
	if !g.created {
		_, err := g.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &g.group, LogStreamName: &g.stream})
		var exists *types.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log stream %s in %s: %w", g.stream, g.group, err)
		}
		g.created = true
	}
	ts := g.now().UnixMilli()
	var (
		batch []types.InputLogEvent
		size  int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := g.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &g.group, LogStreamName: &g.stream, LogEvents: batch})
		if err != nil {
			return fmt.Errorf("put %d events into %s: %w", len(batch), g.group, err)
		}
		batch, size = nil, 0
		return nil
	}
	for _, l := range lines {
		if len(batch) == maxBatchEvents || size+len(l)+eventOverhead > maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, types.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(ts)})
		size += len(l) + eventOverhead
	}
	return flush()
}
