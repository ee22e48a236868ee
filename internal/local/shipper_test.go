package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/motoserver"
)

// logEvents returns n events of message size bytes, 1 ms apart from t0.
func logEvents(n, size int, t0 int64) []types.InputLogEvent {
	out := make([]types.InputLogEvent, n)
	msg := strings.Repeat("x", size)
	for i := range out {
		out[i] = types.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(t0 + int64(i))}
	}
	return out
}

func TestBatches(t *testing.T) {
	day := MaxBatchSpan.Milliseconds()
	// Events that fill a batch to the byte exactly: 4 events of
	// 262,118 bytes + 26 = 1,048,576.
	full := logEvents(4, MaxEventBytes-EventOverhead, 0)
	tests := []struct {
		name string
		in   []types.InputLogEvent
		want []int // batch sizes
	}{
		{"empty", nil, nil},
		{"one", logEvents(1, 10, 0), []int{1}},
		{"10,000 events fit one batch", logEvents(MaxBatchEvents, 1, 0), []int{MaxBatchEvents}},
		{"10,001 events need two", logEvents(MaxBatchEvents+1, 1, 0), []int{MaxBatchEvents, 1}},
		{"exactly 1,048,576 bytes fit", full, []int{4}},
		{"one byte more does not", append(full, logEvents(1, 0, 5)...), []int{4, 1}},
		// 80-byte messages: 800,000 bytes without the overhead, 1,060,000
		// with it, so 9,892 × 106 bytes fit.
		{"26 bytes count per event", logEvents(MaxBatchEvents, 80, 0), []int{9_892, 108}},
		{"bytes limit", logEvents(2_000, 1_000, 0), []int{1_022, 978}},
		{"span under 24 hours", []types.InputLogEvent{ev(0), ev(day - 1)}, []int{2}},
		{"span of 24 hours splits", []types.InputLogEvent{ev(0), ev(day - 1), ev(day)}, []int{2, 1}},
		{"out of order is sorted", []types.InputLogEvent{ev(day), ev(0), ev(5)}, []int{2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Batches(tc.in)
			require.NoError(t, err)
			var sizes []int
			var total int
			for _, b := range got {
				sizes = append(sizes, len(b))
				total += len(b)
				bytes := 0
				for i, e := range b {
					bytes += len(*e.Message) + EventOverhead
					if i > 0 {
						assert.LessOrEqual(t, *b[i-1].Timestamp, *e.Timestamp, "chronological")
					}
				}
				assert.LessOrEqual(t, bytes, MaxBatchBytes)
				assert.Less(t, *b[len(b)-1].Timestamp-*b[0].Timestamp, day)
			}
			assert.Equal(t, tc.want, sizes)
			assert.Equal(t, len(tc.in), total)
		})
	}
}

func ev(ts int64) types.InputLogEvent {
	return types.InputLogEvent{Message: aws.String("m"), Timestamp: aws.Int64(ts)}
}

func TestBatchesStableAndCopies(t *testing.T) {
	in := []types.InputLogEvent{
		{Message: aws.String("b"), Timestamp: aws.Int64(2)},
		{Message: aws.String("a1"), Timestamp: aws.Int64(1)},
		{Message: aws.String("a2"), Timestamp: aws.Int64(1)},
	}
	got, err := Batches(in)
	require.NoError(t, err)
	require.Len(t, got, 1)
	var msgs []string
	for _, e := range got[0] {
		msgs = append(msgs, *e.Message)
	}
	assert.Equal(t, []string{"a1", "a2", "b"}, msgs, "same timestamp keeps its order")
	assert.Equal(t, "b", *in[0].Message, "the caller's slice is not sorted")
}

func TestBatchesEventTooLarge(t *testing.T) {
	_, err := Batches(logEvents(1, MaxEventBytes-EventOverhead+1, 0))
	assert.ErrorIs(t, err, ErrEventTooLarge)
}

// fakeLogs is a logsWriter whose calls are functions.
type fakeLogs struct {
	put    func(in *cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error)
	create func(in *cloudwatchlogs.CreateLogStreamInput) error
	puts   int
}

func (f *fakeLogs) PutLogEvents(_ context.Context, in *cloudwatchlogs.PutLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	f.puts++
	return f.put(in)
}

func (f *fakeLogs) CreateLogStream(_ context.Context, in *cloudwatchlogs.CreateLogStreamInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error) {
	return &cloudwatchlogs.CreateLogStreamOutput{}, f.create(in)
}

// newTestShipper returns a Shipper for stream-1 of /app that records the
// delays its retryer computes and waits none of them.
func newTestShipper(logs logsWriter) (*Shipper, *[]time.Duration) {
	return newShipperFor(logs, "/app", "stream-1", func() time.Time { return time.UnixMilli(1_000) })
}

func newShipperFor(logs logsWriter, group, stream string, now func() time.Time) (*Shipper, *[]time.Duration) {
	s := NewShipper(logs, group, stream, now)
	var slept []time.Duration
	s.delay = func(n int) time.Duration { slept = append(slept, DefaultBackoff.Delay(n)); return 0 }
	return s, &slept
}

// moto is the moto_server of the tests that need one, started by the
// first; TestMain stops it.
var moto struct {
	once   sync.Once
	server *motoserver.Server
	err    error
	groups atomic.Int64 // numbers the tests' log groups
}

func TestMain(m *testing.M) {
	code := m.Run()
	if moto.server != nil {
		moto.server.Stop()
	}
	os.Exit(code)
}

// throttledLogs is a CloudWatch Logs client of moto through an
// awstest.Proxy of the test's own, which answers PutLogEvents with the
// faults the test sets, and a new log group for the test.
func throttledLogs(t *testing.T) (*cloudwatchlogs.Client, *awstest.Proxy, string) {
	t.Helper()
	moto.once.Do(func() { moto.server, moto.err = motoserver.Start(context.Background()) })
	require.NoError(t, moto.err)
	proxy, err := awstest.NewProxy(moto.server.URL)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	cfg, err := awstest.Config(t.Context(), proxy.URL)
	require.NoError(t, err)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	group := fmt.Sprintf("/app/%s-%d", t.Name(), moto.groups.Add(1))
	_, err = logs.CreateLogGroup(t.Context(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)
	return logs, proxy, group
}

func TestShipperCreatesMissingStream(t *testing.T) {
	created := false
	logs := &fakeLogs{
		put: func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
			if !created {
				return nil, &types.ResourceNotFoundException{Message: aws.String("The specified log stream does not exist.")}
			}
			return &cloudwatchlogs.PutLogEventsOutput{}, nil
		},
		create: func(in *cloudwatchlogs.CreateLogStreamInput) error {
			assert.Equal(t, "/app", *in.LogGroupName)
			assert.Equal(t, "stream-1", *in.LogStreamName)
			created = true
			return nil
		},
	}
	s, slept := newTestShipper(logs)
	require.NoError(t, s.WriteLines(t.Context(), []string{"one", "two"}))
	assert.True(t, created)
	assert.Equal(t, 2, logs.puts)
	assert.Empty(t, *slept, "creating the stream is no retry")
	assert.Equal(t, ShipStats{Events: 2, Bytes: 6, Batches: 1}, s.Stats())
}

// The SDK's standard retryer, with the added error code, retries what is
// worth retrying: the real client against moto, the faults injected by a
// proxy.
func TestShipperRetries(t *testing.T) {
	logs, proxy, group := throttledLogs(t)
	throttle := awstest.Fault{Status: http.StatusBadRequest, Type: "ThrottlingException"}
	// A 400 ServiceUnavailableException: retried only because of retryCodes.
	unavailable := awstest.Fault{Status: http.StatusBadRequest, Type: "ServiceUnavailableException"}
	invalid := awstest.Fault{Status: http.StatusBadRequest, Type: "InvalidParameterException"}
	tests := []struct {
		name     string
		failures []awstest.Fault // answers before moto's
		wantErr  string
		retries  int
	}{
		{"throttling", []awstest.Fault{throttle, throttle}, "", 2},
		{"service unavailable", []awstest.Fault{unavailable}, "", 1},
		{"gives up after the attempts", slices.Repeat([]awstest.Fault{throttle}, 8), "(attempt 8): operation error CloudWatch Logs: PutLogEvents", 7},
		{"not retried", []awstest.Fault{invalid}, "(attempt 1): operation error CloudWatch Logs: PutLogEvents", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proxy.ResetCounts()
			proxy.SetFaults(func(op string, n int) *awstest.Fault {
				if op != "PutLogEvents" || n > len(tc.failures) {
					return nil
				}
				return &tc.failures[n-1]
			})
			stream := fmt.Sprintf("stream-%d", i)
			s, slept := newShipperFor(logs, group, stream, time.Now)
			err := s.WriteLines(t.Context(), []string{"x"})
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, ShipStats{Events: 1, Bytes: 1, Batches: 1, Retries: tc.retries}, s.Stats())
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "put 1 log events into "+group+"/"+stream+" "+tc.wantErr)
				assert.Contains(t, err.Error(), tc.failures[0].Type)
			}
			assert.Equal(t, tc.retries, s.Stats().Retries)
			require.Len(t, *slept, tc.retries)
			for i, d := range *slept {
				assert.Less(t, d, min(DefaultBackoff.Max, DefaultBackoff.Base<<i), "retry %d: full jitter under the exponential ceiling", i+1)
			}
			assert.Equal(t, len(tc.failures), proxy.Injected(), "every fault answered once")
		})
	}
}

func TestShipperMissingLogGroup(t *testing.T) {
	notFound := &types.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	logs := &fakeLogs{
		put: func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
			return nil, notFound
		},
		create: func(*cloudwatchlogs.CreateLogStreamInput) error { return notFound },
	}
	s, _ := newTestShipper(logs)
	err := s.WriteLines(t.Context(), []string{"x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "log group /app does not exist")
	var nf *types.ResourceNotFoundException
	assert.ErrorAs(t, err, &nf)
}

func TestShipperRejectedEvents(t *testing.T) {
	logs := &fakeLogs{put: func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return &cloudwatchlogs.PutLogEventsOutput{RejectedLogEventsInfo: &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(1)}}, nil
	}}
	s, _ := newTestShipper(logs)
	err := s.WriteLines(t.Context(), []string{"old", "older"})
	assert.ErrorIs(t, err, ErrRejected)
	assert.Contains(t, err.Error(), "too old up to index 1")
}

func TestShipperSplitsBatches(t *testing.T) {
	var sizes []int
	logs := &fakeLogs{put: func(in *cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
		sizes = append(sizes, len(in.LogEvents))
		return &cloudwatchlogs.PutLogEventsOutput{}, nil
	}}
	s, _ := newTestShipper(logs)
	lines := make([]string, 12_345)
	for i := range lines {
		lines[i] = "INFO line"
	}
	require.NoError(t, s.WriteLines(t.Context(), lines))
	assert.Equal(t, []int{10_000, 2_345}, sizes)
}

func TestShipperStopsWithContext(t *testing.T) {
	logs, proxy, group := throttledLogs(t)
	proxy.SetFaults(func(op string, _ int) *awstest.Fault {
		if op != "PutLogEvents" {
			return nil
		}
		return &awstest.Fault{Status: http.StatusBadRequest, Type: "ThrottlingException"}
	})
	s := NewShipper(logs, group, "s", time.Now)
	ctx, cancel := context.WithCancel(t.Context())
	s.delay = func(int) time.Duration { cancel(); return time.Hour } // cancelled while it waits
	err := s.WriteLines(ctx, []string{"x"})
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Equal(t, 1, proxy.Count("PutLogEvents"), "no attempt after the cancel")
}
