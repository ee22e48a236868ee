package local

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func newTestShipper(logs logsWriter) (*Shipper, *[]time.Duration) {
	s := NewShipper(logs, "/app", "stream-1", func() time.Time { return time.UnixMilli(1_000) })
	var slept []time.Duration
	s.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	return s, &slept
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

func TestShipperRetries(t *testing.T) {
	throttle := &types.ThrottlingException{Message: aws.String("Rate exceeded")}
	unavailable := &types.ServiceUnavailableException{Message: aws.String("try later")}
	tests := []struct {
		name     string
		failures []error // answers before success; nil entries never reached
		wantErr  string
		retries  int
	}{
		{"throttling", []error{throttle, throttle}, "", 2},
		{"service unavailable", []error{unavailable}, "", 1},
		{"gives up after the attempts", []error{throttle, throttle, throttle, throttle, throttle, throttle, throttle, throttle}, "put 1 log events into /app/stream-1 (attempt 8)", 7},
		{"not retried", []error{&types.InvalidParameterException{Message: aws.String("bad")}}, "put 1 log events into /app/stream-1 (attempt 1): InvalidParameterException: bad", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := &fakeLogs{put: func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
				return &cloudwatchlogs.PutLogEventsOutput{}, nil
			}}
			calls := 0
			logs.put = func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
				calls++
				if calls <= len(tc.failures) {
					return nil, tc.failures[calls-1]
				}
				return &cloudwatchlogs.PutLogEventsOutput{}, nil
			}
			s, slept := newTestShipper(logs)
			err := s.WriteLines(t.Context(), []string{"x"})
			if tc.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			}
			assert.Equal(t, tc.retries, s.Stats().Retries)
			require.Len(t, *slept, tc.retries)
			for i, d := range *slept {
				assert.Less(t, d, min(DefaultBackoff.Max, DefaultBackoff.Base<<i), "retry %d: full jitter under the exponential ceiling", i+1)
			}
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
	logs := &fakeLogs{put: func(*cloudwatchlogs.PutLogEventsInput) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return nil, &types.ThrottlingException{Message: aws.String("Rate exceeded")}
	}}
	s := NewShipper(logs, "/app", "s", time.Now)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.WriteLines(ctx, []string{"x"})
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
}
