package backoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/backoff"
)

func TestDelayStaysUnderItsCeiling(t *testing.T) {
	p := backoff.Policy{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	tests := []struct {
		retry   int
		ceiling time.Duration
	}{
		{1, 10 * time.Millisecond},
		{2, 20 * time.Millisecond},
		{3, 40 * time.Millisecond},
		{4, 50 * time.Millisecond},
		{64, 50 * time.Millisecond},
	}
	for _, tc := range tests {
		var longest time.Duration
		for range 500 {
			d := p.Delay(tc.retry)
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.Less(t, d, tc.ceiling, "retry %d", tc.retry)
			longest = max(longest, d)
		}
		assert.Greater(t, longest, tc.ceiling/2, "retry %d: full jitter spans the range", tc.retry)
	}
	assert.Zero(t, backoff.Policy{}.Delay(3))
}

func TestSleep(t *testing.T) {
	assert.NoError(t, backoff.Sleep(t.Context(), time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, backoff.Sleep(ctx, time.Hour), context.Canceled, "a done context ends the wait")
	assert.ErrorIs(t, backoff.Sleep(ctx, 0), context.Canceled)
}

func TestTimeLeft(t *testing.T) {
	assert.True(t, backoff.TimeLeft(context.Background(), time.Hour), "no deadline: all the time in the world")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.True(t, backoff.TimeLeft(ctx, time.Second))
	assert.False(t, backoff.TimeLeft(ctx, 10*time.Second))
}
