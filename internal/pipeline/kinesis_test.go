package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/store"
)

// member is a member account of the tests, not the processor's own.
const member = "111111111111"

// kinesisRecord is a record of a Kinesis batch: sequence number seq, data
// the gzipped awslogs document of p (or raw, when p is nil).
func kinesisRecord(t *testing.T, seq string, p *awslogs.Payload, raw []byte) events.KinesisEventRecord {
	t.Helper()
	if p != nil {
		var err error
		raw, err = awslogs.EncodeGzip(p)
		require.NoError(t, err)
	}
	return events.KinesisEventRecord{
		EventSource: sourceKinesis, EventID: "shardId-000000000000:" + seq,
		Kinesis: events.KinesisRecord{SequenceNumber: seq, PartitionKey: "k", Data: raw},
	}
}

// memberPayload is a DATA_MESSAGE of account's /aws/lambda/api group with
// messages, one event each.
func memberPayload(account string, messages ...string) *awslogs.Payload {
	p := &awslogs.Payload{MessageType: awslogs.MessageTypeData, Owner: account, LogGroup: "/aws/lambda/api",
		LogStream: "s", SubscriptionFilters: []string{"member-errors"}}
	for i, m := range messages {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: fmt.Sprintf("%s-%d", account, i), Timestamp: 1764079200000 + int64(i), Message: m})
	}
	return p
}

func TestHandleKinesis(t *testing.T) {
	control := &awslogs.Payload{MessageType: awslogs.MessageTypeControl, Owner: "CloudwatchLogs"}
	fromMember, fromHome := memberPayload(member, "ERROR a 1", "INFO b"), memberPayload(home, "ERROR a 2")
	down := errors.New("dynamodb down")

	tests := []struct {
		name        string
		records     []events.KinesisEventRecord
		record      func(delivery string, deltas []incident.Delta) (store.Result, error) // nil: never called
		wantFailed  []string
		wantCalls   int
		wantInLog   []string
		wantMetrics []string
	}{
		{
			name:    "every record is processed, in order, and nothing fails",
			records: []events.KinesisEventRecord{kinesisRecord(t, "1", fromMember, nil), kinesisRecord(t, "2", fromHome, nil)},
			record: func(_ string, deltas []incident.Delta) (store.Result, error) {
				return store.Result{Opened: len(deltas)}, nil
			},
			wantCalls:   2,
			wantInLog:   []string{"kinesis batch processed", "records=2 failed=0", "matched=2", "opened=2"},
			wantMetrics: []string{`"AccountId":"111111111111","MemberEventsMatched":1`, `"AccountId":"123456789012","MemberEventsMatched":1`, `"EventsMatched":2`},
		},
		{
			name: "a corrupt record is reported alone; the good ones around it are recorded",
			records: []events.KinesisEventRecord{kinesisRecord(t, "1", fromMember, nil), kinesisRecord(t, "2", nil, []byte("not gzip")),
				kinesisRecord(t, "3", fromHome, nil)},
			record:      func(string, []incident.Delta) (store.Result, error) { return store.Result{}, nil },
			wantFailed:  []string{"2"},
			wantCalls:   2,
			wantInLog:   []string{"kinesis record failed", "sequence_number=2", "awslogs: malformed payload: gzip header", "records=3 failed=1 bad_payloads=1"},
			wantMetrics: []string{`"BadPayloads":1`},
		},
		{
			name:      "a control message is skipped",
			records:   []events.KinesisEventRecord{kinesisRecord(t, "1", control, nil)},
			wantInLog: []string{"control message ignored", "records=1 failed=0 bad_payloads=0 control=1"},
		},
		{
			name:    "a store failure reports its record, so that the mapping retries it",
			records: []events.KinesisEventRecord{kinesisRecord(t, "1", fromMember, nil), kinesisRecord(t, "2", fromHome, nil)},
			record: func(_ string, deltas []incident.Delta) (store.Result, error) {
				if deltas[0].AccountID == member {
					return store.Result{}, down
				}
				return store.Result{}, nil
			},
			wantFailed: []string{"1"},
			wantCalls:  2,
			wantInLog:  []string{"dynamodb down", "account=111111111111", "records=2 failed=1 bad_payloads=0"},
		},
		{name: "an empty batch does nothing", wantInLog: []string{"records=0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log, metrics bytes.Buffer
			calls := 0
			st := &fakeStore{t: t}
			if tc.record != nil {
				st.record = func(_ context.Context, delivery string, deltas []incident.Delta) (store.Result, error) {
					calls++
					return tc.record(delivery, deltas)
				}
			}
			p := newTestProcessor(t, st, nil, &log)
			p.namespace, p.metrics, p.now = "ns", &metrics, func() time.Time { return time.UnixMilli(1764079200000) }
			resp, err := p.HandleKinesis(t.Context(), events.KinesisEvent{Records: tc.records})
			require.NoError(t, err)
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			assert.Equal(t, tc.wantFailed, failed)
			assert.Equal(t, tc.wantCalls, calls)
			for _, w := range tc.wantInLog {
				assert.Contains(t, log.String(), w)
			}
			for _, w := range tc.wantMetrics {
				assert.Contains(t, metrics.String(), w)
			}
			assert.Equal(t, 1, strings.Count(log.String(), "kinesis batch processed"), "one line per batch")
		})
	}
}

// TestHandleKinesisAccounts pins account identity: the same group and
// message in two accounts are two incidents, the processor's own keeping
// the ID it had before accounts were told apart, and each delta carries
// its account.
func TestHandleKinesisAccounts(t *testing.T) {
	var got []incident.Delta
	var deliveries []string
	st := &fakeStore{t: t, record: func(_ context.Context, delivery string, deltas []incident.Delta) (store.Result, error) {
		got, deliveries = append(got, deltas...), append(deliveries, delivery)
		return store.Result{}, nil
	}}
	p := newTestProcessor(t, st, nil, &bytes.Buffer{})
	fromMember, fromHome := memberPayload(member, "ERROR a 1"), memberPayload(home, "ERROR a 1")
	resp, err := p.HandleKinesis(t.Context(), events.KinesisEvent{Records: []events.KinesisEventRecord{
		kinesisRecord(t, "1", fromMember, nil), kinesisRecord(t, "2", fromHome, nil)}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)
	require.Len(t, got, 2)
	fp := got[0].Fingerprint
	assert.Equal(t, fp, got[1].Fingerprint)
	assert.Equal(t, member, got[0].AccountID)
	assert.Equal(t, incident.AccountID(home, member, "/aws/lambda/api", fp), got[0].ID)
	assert.Equal(t, home, got[1].AccountID)
	assert.Equal(t, incident.ID("/aws/lambda/api", fp), got[1].ID, "the home account keeps its IDs")
	assert.NotEqual(t, got[0].ID, got[1].ID)
	assert.Equal(t, []string{incident.DeliveryID(fromMember), incident.DeliveryID(fromHome)}, deliveries)
	assert.NotEqual(t, deliveries[0], deliveries[1])
}

func TestInvokeKinesis(t *testing.T) {
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{
		kinesisRecord(t, "49590338271490256608559692538361571095921575989136588898", memberPayload(member, "ERROR a"), nil),
		kinesisRecord(t, "49590338271490256608559692538361571095921575989136588899", nil, []byte{0x1f, 0x8b}),
	}}
	ev.Records[0].EventName, ev.Records[0].AwsRegion = "aws:kinesis:record", "us-east-1"
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	st, recorded := countingStore(t)
	out, err := newTestProcessor(t, st, nil, &bytes.Buffer{}).Invoke(t.Context(), raw)
	require.NoError(t, err)
	assert.Equal(t, 1, *recorded)
	js, err := json.Marshal(out)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"49590338271490256608559692538361571095921575989136588899"}]}`, string(js),
		"what Lambda hands back to the event source mapping")

	_, err = newTestProcessor(t, &fakeStore{t: t}, nil, &bytes.Buffer{}).Invoke(t.Context(), json.RawMessage(`{"Records":[{"eventSource":"aws:sqs"}]}`))
	assert.ErrorIs(t, err, ErrUnknownEvent)
	assert.ErrorContains(t, err, "top-level keys [Records]")
}

// TestHandleKinesisSamples runs the Kinesis samples of events/ through
// HandleKinesis: what README.md there promises.
func TestHandleKinesisSamples(t *testing.T) {
	tests := []struct {
		file       string
		wantFailed []string
		wantCalls  int
	}{
		{"kinesis-batch.json", nil, 2},
		{"kinesis-corrupt-record.json", []string{"49656894543311236488410282014853106117939102371245637002"}, 2},
		{"kinesis-control.json", nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", tc.file))
			require.NoError(t, err)
			st, calls := countingStore(t)
			out, err := newTestProcessor(t, st, nil, &bytes.Buffer{}).Invoke(t.Context(), raw)
			require.NoError(t, err)
			resp, ok := out.(events.KinesisEventResponse)
			require.True(t, ok, "%T", out)
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			assert.Equal(t, tc.wantFailed, failed)
			assert.Equal(t, tc.wantCalls, *calls)
		})
	}
}

// countingStore is a fakeStore whose Record succeeds and counts its calls.
func countingStore(t *testing.T) (*fakeStore, *int) {
	calls := new(int)
	return &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
		*calls++
		return store.Result{}, nil
	}}, calls
}
