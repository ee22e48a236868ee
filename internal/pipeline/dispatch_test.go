package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/store"
)

func TestInvoke(t *testing.T) {
	control, _ := orders(t, awslogs.MessageTypeControl)
	data, _ := orders(t, awslogs.MessageTypeData)
	controlJSON, err := json.Marshal(control)
	require.NoError(t, err)
	dataJSON, err := json.Marshal(data)
	require.NoError(t, err)

	tests := []struct {
		name      string
		event     string
		recorded  bool
		wantErr   string
		wantInLog string
	}{
		{name: "a subscription delivery goes to Handle", event: string(controlJSON), wantInLog: "control message ignored"},
		{name: "its data is decoded and recorded", event: string(dataJSON), recorded: true, wantInLog: "delivery processed"},
		{name: "a bad awslogs field fails as a malformed payload", event: `{"awslogs":{"data":"%%%"}}`, wantErr: "awslogs: malformed payload"},
		{name: "an unknown shape names its keys", event: `{"detail":{},"source":"x"}`, wantErr: "unknown event shape: top-level keys [detail source]"},
		{name: "not an object", event: `[1,2]`, wantErr: "unknown event shape: not a JSON object"},
		{name: "awslogs of the wrong type", event: `{"awslogs":5}`, wantErr: "unknown event shape: awslogs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			recorded := false
			st := &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
				recorded = true
				return store.Result{}, nil
			}}
			out, err := newTestProcessor(t, st, nil, &log).Invoke(context.Background(), json.RawMessage(tt.event))
			assert.Nil(t, out)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.recorded, recorded)
			assert.Contains(t, log.String(), tt.wantInLog)
		})
	}
}

// digestPublisher publishes digests into a slice and no single alerts.
type digestPublisher struct{ digests []notify.Digest }

func (p *digestPublisher) Publish(context.Context, incident.Incident, incident.Change) error {
	return errors.New("digestPublisher publishes no single alerts")
}

func (p *digestPublisher) PublishDigest(_ context.Context, d notify.Digest) error {
	p.digests = append(p.digests, d)
	return nil
}

// scheduledEvent is what an EventBridge schedule sends the processor.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-11-25T14:05:00Z","region":"eu-west-1",
"resources":["arn:aws:events:eu-west-1:123456789012:rule/logalert-flush"],"detail":{}}`

// A scheduled event flushes the digests: the store's digest goes to the
// publisher as a notify.Digest. A failed flush is logged, not returned:
// the event carries nothing to retry, and the next tick flushes again.
func TestInvokeScheduledEventFlushes(t *testing.T) {
	from := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	in := incident.Incident{ID: "inc-1", LogGroup: "/app/orders", Occurrences: 3}
	tests := []struct {
		name      string
		flushErr  error
		wantInLog string
	}{
		{"flushed", nil, "digests flushed"},
		{"failed", errors.New("throttled"), "digests not flushed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				log   bytes.Buffer
				pub   digestPublisher
				calls int
			)
			st := &fakeStore{t: t, flush: func(ctx context.Context, publish store.DigestFunc) (store.Flushed, error) {
				calls++
				err := publish(ctx, store.Digest{LogGroup: "/app/orders", From: from, To: from.Add(5 * time.Minute),
					Alerts: []store.Alert{{Change: incident.Reopened, Incident: in}}})
				return store.Flushed{Digests: 1, Alerts: 1}, errors.Join(err, tc.flushErr)
			}}
			out, err := newTestProcessor(t, st, &pub, &log).Invoke(t.Context(), json.RawMessage(scheduledEvent))
			require.NoError(t, err)
			assert.Nil(t, out)
			assert.Equal(t, 1, calls)
			assert.Equal(t, []notify.Digest{{LogGroup: "/app/orders", From: from, To: from.Add(5 * time.Minute),
				Alerts: []notify.Alert{{Incident: in, Change: incident.Reopened}}}}, pub.digests)
			assert.Contains(t, log.String(), tc.wantInLog)
		})
	}
}

// Other EventBridge events are not the schedule: they stay unknown.
func TestInvokeOtherEventBridgeEventIsUnknown(t *testing.T) {
	var log bytes.Buffer
	_, err := newTestProcessor(t, &fakeStore{t: t}, &digestPublisher{}, &log).
		Invoke(t.Context(), json.RawMessage(`{"source":"aws.events","detail-type":"Something Else","detail":{}}`))
	assert.ErrorIs(t, err, ErrUnknownEvent)
}

// Without an alerts topic a scheduled event has nothing to flush.
func TestInvokeScheduledEventWithoutTopic(t *testing.T) {
	var log bytes.Buffer
	out, err := newTestProcessor(t, &fakeStore{t: t}, nil, &log).Invoke(t.Context(), json.RawMessage(scheduledEvent))
	require.NoError(t, err)
	assert.Nil(t, out)
}
