package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/store"
)

// fakeStore is a recorder whose methods are its fields; a nil field fails
// the test when called.
type fakeStore struct {
	t        *testing.T
	record   func(ctx context.Context, delivery string, deltas []incident.Delta) (store.Result, error)
	announce func(ctx context.Context, alerts []store.Alert, publish store.PublishFunc) (int, error)
	flush    func(ctx context.Context, publish store.DigestFunc) (store.Flushed, error)
}

func (f *fakeStore) Record(ctx context.Context, delivery string, deltas []incident.Delta) (store.Result, error) {
	if f.record == nil {
		f.t.Error("Record called")
		return store.Result{}, nil
	}
	return f.record(ctx, delivery, deltas)
}

func (f *fakeStore) Announce(ctx context.Context, alerts []store.Alert, publish store.PublishFunc) (int, error) {
	if f.announce == nil {
		f.t.Error("Announce called")
		return 0, nil
	}
	return f.announce(ctx, alerts, publish)
}

func (f *fakeStore) Flush(ctx context.Context, publish store.DigestFunc) (store.Flushed, error) {
	if f.flush == nil {
		f.t.Error("Flush called")
		return store.Flushed{}, nil
	}
	return f.flush(ctx, publish)
}

// publishFunc is a publisher of single alerts; it publishes no digests.
type publishFunc func(ctx context.Context, in incident.Incident, change incident.Change) error

func (f publishFunc) Publish(ctx context.Context, in incident.Incident, change incident.Change) error {
	return f(ctx, in, change)
}

func (f publishFunc) PublishDigest(context.Context, notify.Digest) error {
	return errors.New("publishFunc publishes no digests")
}

// orders is a delivery of /app/orders: 3 ERROR events of one incident, 2
// FATAL of another, and one INFO line.
func orders(t *testing.T, messageType string) (events.CloudwatchLogsEvent, *awslogs.Payload) {
	t.Helper()
	p := &awslogs.Payload{
		MessageType: messageType, Owner: "123456789012", LogGroup: "/app/orders",
		LogStream: "stream-1", SubscriptionFilters: []string{"logalert"},
	}
	for i, m := range []string{"ERROR order 1 failed", "INFO ok", "ERROR order 2 failed", "FATAL disk full", "ERROR order 3 failed", "FATAL disk full"} {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: fmt.Sprintf("%056d", i), Timestamp: 1764079200000 + int64(i)*1000, Message: m})
	}
	data, err := awslogs.Encode(p)
	require.NoError(t, err)
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}, p
}

// home is the processor's own account in the tests, the owner of orders.
const home = "123456789012"

func newTestProcessor(t *testing.T, st recorder, pub publisher, log *bytes.Buffer) *Processor {
	t.Helper()
	pattern, err := filterpattern.Parse(DefaultPattern)
	require.NoError(t, err)
	p := configure(Config{Table: "t", Pattern: pattern, Limits: awslogs.DefaultLimits, HomeAccount: home},
		[]Option{WithLogger(slog.New(slog.NewTextHandler(log, nil)))})
	p.store, p.alerts = st, pub
	return p
}

func TestProcess(t *testing.T) {
	data, payload := orders(t, awslogs.MessageTypeData)
	control, _ := orders(t, awslogs.MessageTypeControl)
	pattern, err := filterpattern.Parse(DefaultPattern)
	require.NoError(t, err)
	want := incident.Group(payload, pattern)
	alert := store.Alert{Change: incident.Opened, Incident: incident.Incident{ID: want.Deltas[0].ID}}
	published := errors.New("unused")

	tests := []struct {
		name      string
		ev        events.CloudwatchLogsEvent
		store     func(t *testing.T) *fakeStore
		publish   publishFunc // nil: no alerts topic
		want      counts
		wantErr   string
		wantInLog string
	}{
		{
			name:  "malformed payload fails before the store",
			ev:    events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "%%%"}},
			store: func(t *testing.T) *fakeStore { return &fakeStore{t: t} },
			want:  counts{badPayload: true}, wantErr: "awslogs: malformed payload",
		},
		{
			name:  "control message is acknowledged, nothing recorded",
			ev:    control,
			store: func(t *testing.T) *fakeStore { return &fakeStore{t: t} },
			want:  counts{events: 6, decompressed: decompressed(t, control), account: home, control: true}, wantInLog: "control message ignored",
		},
		{
			name: "records the grouped delivery once, then announces what it opened",
			ev:   data,
			store: func(t *testing.T) *fakeStore {
				return &fakeStore{t: t,
					record: func(_ context.Context, delivery string, deltas []incident.Delta) (store.Result, error) {
						assert.Equal(t, incident.DeliveryID(payload), delivery)
						assert.Equal(t, want.Deltas, deltas)
						return store.Result{Opened: 1, Duplicates: 1, Alerts: []store.Alert{alert}}, nil
					},
					announce: func(ctx context.Context, alerts []store.Alert, publish store.PublishFunc) (int, error) {
						assert.Equal(t, []store.Alert{alert}, alerts)
						assert.ErrorIs(t, publish(ctx, alert.Incident, alert.Change), published, "the processor's publisher")
						return 1, nil
					},
				}
			},
			publish: func(_ context.Context, in incident.Incident, change incident.Change) error {
				assert.Equal(t, alert.Incident, in)
				assert.Equal(t, incident.Opened, change)
				return published
			},
			want: counts{events: 6, matched: 5, incidents: 2, opened: 1, duplicates: 1, alerts: 1, decompressed: decompressed(t, data), account: home},
		},
		{
			name: "without an alerts topic nothing is announced",
			ev:   data,
			store: func(t *testing.T) *fakeStore {
				return &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
					return store.Result{Reopened: 1, Alerts: []store.Alert{alert}}, nil
				}}
			},
			want: counts{events: 6, matched: 5, incidents: 2, reopened: 1, decompressed: decompressed(t, data), account: home},
		},
		{
			name: "nothing opened, nothing announced",
			ev:   data,
			store: func(t *testing.T) *fakeStore {
				return &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
					return store.Result{}, nil
				}}
			},
			publish: func(context.Context, incident.Incident, incident.Change) error { return nil },
			want:    counts{events: 6, matched: 5, incidents: 2, decompressed: decompressed(t, data), account: home},
		},
		{
			name: "a record error fails the delivery, keeps what was counted, announces nothing",
			ev:   data,
			store: func(t *testing.T) *fakeStore {
				return &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
					return store.Result{Opened: 1}, store.ErrContention
				}}
			},
			publish: func(context.Context, incident.Incident, incident.Change) error { return nil },
			want:    counts{events: 6, matched: 5, incidents: 2, opened: 1, decompressed: decompressed(t, data), account: home},
			wantErr: "record 2 incidents of /app/orders: store: write contention",
		},
		{
			name: "an announce error fails the delivery with what was sent",
			ev:   data,
			store: func(t *testing.T) *fakeStore {
				return &fakeStore{t: t,
					record: func(context.Context, string, []incident.Delta) (store.Result, error) {
						return store.Result{Opened: 2, Alerts: []store.Alert{alert, alert}}, nil
					},
					announce: func(context.Context, []store.Alert, store.PublishFunc) (int, error) {
						return 1, errors.New("1 alerts still owed: boom")
					},
				}
			},
			publish: func(context.Context, incident.Incident, incident.Change) error { return nil },
			want:    counts{events: 6, matched: 5, incidents: 2, opened: 2, alerts: 1, decompressed: decompressed(t, data), account: home},
			wantErr: "announce: 1 alerts still owed: boom",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			var pub publisher
			if tc.publish != nil {
				pub = tc.publish
			}
			p := newTestProcessor(t, tc.store(t), pub, &log)
			got, err := p.process(t.Context(), func(fn func(*awslogs.Payload) error) error {
				return awslogs.View(tc.ev.AWSLogs.Data, awslogs.DefaultLimits, fn)
			})
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
			if tc.wantInLog != "" {
				assert.Contains(t, log.String(), tc.wantInLog)
			}
		})
	}
}

// decompressed is the size of ev's payload once inflated.
func decompressed(t *testing.T, ev events.CloudwatchLogsEvent) int {
	t.Helper()
	p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits)
	require.NoError(t, err)
	return p.DecompressedBytes
}

func TestAnnounce(t *testing.T) {
	alerts := []store.Alert{{Change: incident.Opened}, {Change: incident.Reopened}}
	owed := errors.New("2 alerts still owed")
	tests := []struct {
		name     string
		alerts   []store.Alert
		publish  bool
		announce func(ctx context.Context, alerts []store.Alert, publish store.PublishFunc) (int, error)
		want     int
		wantErr  error
	}{
		{name: "no publisher: the store is not asked", alerts: alerts},
		{name: "no alerts: the store is not asked", publish: true},
		{
			name: "the store announces them", alerts: alerts, publish: true,
			announce: func(_ context.Context, got []store.Alert, _ store.PublishFunc) (int, error) { return len(got), nil },
			want:     2,
		},
		{
			name: "the store's error is returned with the count sent", alerts: alerts, publish: true,
			announce: func(context.Context, []store.Alert, store.PublishFunc) (int, error) { return 0, owed },
			wantErr:  owed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pub publisher
			if tc.publish {
				pub = publishFunc(func(context.Context, incident.Incident, incident.Change) error { return nil })
			}
			p := newTestProcessor(t, &fakeStore{t: t, announce: tc.announce}, pub, &bytes.Buffer{})
			n, err := p.announce(t.Context(), tc.alerts)
			assert.Equal(t, tc.want, n)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.ErrorContains(t, err, "announce: ")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
