package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
)

// submitted collects what a Subscription submits, decoded.
type submitted struct{ payloads []*awslogs.Payload }

func (s *submitted) Submit(_ context.Context, ev events.CloudwatchLogsEvent) error {
	p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
	if err != nil {
		return err
	}
	s.payloads = append(s.payloads, p)
	return nil
}

func TestSubscriptionBatchesPerStream(t *testing.T) {
	pattern, err := filterpattern.Parse("?ERROR ?CRITICAL")
	require.NoError(t, err)
	got := &submitted{}
	sub := NewSubscription("logalert-errors", "123456789012", "/app", pattern, got)
	require.NoError(t, sub.Deliver(t.Context(), []Event{
		{ID: "1", Stream: "a", Timestamp: 10, Message: "ERROR one"},
		{ID: "2", Stream: "b", Timestamp: 11, Message: "ERROR two"},
		{ID: "3", Stream: "a", Timestamp: 12, Message: "INFO fine"},
		{ID: "4", Stream: "a", Timestamp: 13, Message: "CRITICAL three"},
	}))
	require.Len(t, got.payloads, 2, "one payload per log stream")
	want := []*awslogs.Payload{
		{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/app", LogStream: "a", SubscriptionFilters: []string{"logalert-errors"},
			LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 10, Message: "ERROR one"}, {ID: "4", Timestamp: 13, Message: "CRITICAL three"}}},
		{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/app", LogStream: "b", SubscriptionFilters: []string{"logalert-errors"},
			LogEvents: []awslogs.LogEvent{{ID: "2", Timestamp: 11, Message: "ERROR two"}}},
	}
	for i, w := range want {
		p := got.payloads[i] // compared field by field: Decode adds its own figures
		assert.Equal(t, w.MessageType, p.MessageType)
		assert.Equal(t, w.Owner, p.Owner)
		assert.Equal(t, w.LogGroup, p.LogGroup)
		assert.Equal(t, w.LogStream, p.LogStream)
		assert.Equal(t, w.SubscriptionFilters, p.SubscriptionFilters)
		assert.Equal(t, w.LogEvents, p.LogEvents)
	}
	assert.Equal(t, SubscriptionStats{Events: 4, Matched: 3, Deliveries: 2}, sub.Stats())
}

// randomEvents returns n events of stream a of 1 KB of random hex each:
// 600 make about 400 KB once gzipped and base64-encoded, over the 256 KB
// invocation payload.
func randomEvents(n int) []Event {
	rng := rand.New(rand.NewPCG(1, 2))
	var evs []Event
	for i := range n {
		b := make([]byte, 500)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		evs = append(evs, Event{ID: fmt.Sprint(i), Stream: "a", Timestamp: int64(i) + 1, Message: fmt.Sprintf("ERROR %x", b)})
	}
	return evs
}

func TestSubscriptionSplitsLargeDeliveries(t *testing.T) {
	pattern, err := filterpattern.Parse("")
	require.NoError(t, err)
	got := &submitted{}
	sub := NewSubscription("all", "123456789012", "/app", pattern, got)
	require.NoError(t, sub.Deliver(t.Context(), randomEvents(600)))
	require.Greater(t, len(got.payloads), 1)
	n := 0
	for _, p := range got.payloads {
		data, err := awslogs.Encode(p)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(data)+len(`{"awslogs":{"data":""}}`), MaxDeliveryBytes)
		for _, e := range p.LogEvents {
			assert.Equal(t, fmt.Sprint(n), e.ID, "in order, none lost")
			n++
		}
	}
	assert.Equal(t, 600, n)
}

func TestSplitDelivery(t *testing.T) {
	mk := func(n, size int) []awslogs.LogEvent {
		out := make([]awslogs.LogEvent, n)
		for i := range out {
			out[i] = awslogs.LogEvent{ID: fmt.Sprint(i), Message: strings.Repeat("x", size)}
		}
		return out
	}
	tests := []struct {
		name string
		in   []awslogs.LogEvent
		want []int
	}{
		{"none", nil, nil},
		{"count", mk(MaxBatchEvents+1, 1), []int{MaxBatchEvents, 1}},
		{"bytes", mk(2_000, 1_000), []int{1_022, 978}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sizes []int
			for _, b := range splitDelivery(tc.in) {
				sizes = append(sizes, len(b))
			}
			assert.Equal(t, tc.want, sizes)
		})
	}
}
