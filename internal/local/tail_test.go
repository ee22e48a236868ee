package local

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGroup is a log group whose FilterLogEvents answers as CloudWatch
// Logs does: events from StartTime on, pageSize a page.
type fakeGroup struct {
	events   []types.FilteredLogEvent
	pageSize int
	starts   []int64
}

func (g *fakeGroup) add(stream string, ts int64, msg string) {
	g.events = append(g.events, types.FilteredLogEvent{
		EventId: aws.String(strconv.Itoa(len(g.events))), LogStreamName: aws.String(stream),
		Timestamp: aws.Int64(ts), Message: aws.String(msg),
	})
}

func (g *fakeGroup) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	g.starts = append(g.starts, aws.ToInt64(in.StartTime))
	var match []types.FilteredLogEvent
	for _, e := range g.events {
		if *e.Timestamp >= aws.ToInt64(in.StartTime) {
			match = append(match, e)
		}
	}
	from := 0
	if in.NextToken != nil {
		from, _ = strconv.Atoi(*in.NextToken)
	}
	to := min(from+g.pageSize, len(match))
	out := &cloudwatchlogs.FilterLogEventsOutput{Events: match[from:to]}
	if to < len(match) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	return out, nil
}

func messages(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func TestTailer(t *testing.T) {
	g := &fakeGroup{pageSize: 2}
	g.add("a", 100, "one")
	g.add("a", 100, "two")
	g.add("b", 101, "three")
	tl := NewTailer(g, "/app", 100)
	var got [][]string
	collect := func(evs []Event) error { got = append(got, messages(evs)); return nil }

	n, err := tl.Poll(t.Context(), collect)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, [][]string{{"one", "two"}, {"three"}}, got, "page by page")

	got = nil
	n, err = tl.Poll(t.Context(), collect)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing new")
	assert.Nil(t, got)

	// A new event at the cursor's millisecond and a later one.
	g.add("a", 101, "four")
	g.add("b", 150, "five")
	n, err = tl.Poll(t.Context(), collect)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, [][]string{{"four"}, {"five"}}, got, "the duplicate of page one is skipped")
	assert.Equal(t, []int64{100, 100, 101, 101, 101}, g.starts, "each Poll reads from the newest timestamp seen")
}

func TestTailerRetriesAFailedPage(t *testing.T) {
	g := &fakeGroup{pageSize: 10}
	g.add("a", 5, "one")
	tl := NewTailer(g, "/app", 0)
	boom := errors.New("boom")
	_, err := tl.Poll(t.Context(), func([]Event) error { return boom })
	assert.ErrorIs(t, err, boom)
	var got []string
	n, err := tl.Poll(t.Context(), func(evs []Event) error { got = messages(evs); return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"one"}, got, "the page comes again")
}
