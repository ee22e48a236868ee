package local

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClock(t *testing.T) {
	real := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	c := NewClock(start, 12, func() time.Time { return real })
	assert.Equal(t, start, c.Now())
	real = real.Add(5 * time.Second)
	assert.Equal(t, start.Add(time.Minute), c.Now(), "5 s of real time are a minute")
	assert.Equal(t, 10*time.Second, c.Real(2*time.Minute))
	assert.Equal(t, 12.0, c.Scale())
	assert.Equal(t, 1.0, NewClock(start, 0.5, nil).Scale(), "never slower than real time")
}

func TestClockSleep(t *testing.T) {
	c := NewClock(time.Now(), 600, nil)
	begin := time.Now()
	assert.NoError(t, c.Sleep(t.Context(), time.Minute))
	assert.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
}
