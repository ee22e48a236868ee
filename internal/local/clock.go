package local

import (
	"context"
	"time"

	"github.com/logalert/logalert/internal/backoff"
)

// Clock is the twin's virtual clock. It runs Scale times faster than real
// time from the moment it is made, so that a one-minute alarm period passes
// in a few seconds. Every time the twin produces (log event timestamps,
// datapoints, alarm evaluations, Lambda's retry delays, incident times) is
// read from it. It is safe for concurrent use.
type Clock struct {
	start  time.Time // virtual time at origin
	origin time.Time // real time at origin
	scale  float64
	real   func() time.Time
}

// NewClock returns a clock that reads start now and then advances scale
// virtual seconds per real second of real (time.Now when nil). A scale
// below 1 is taken as 1.
func NewClock(start time.Time, scale float64, real func() time.Time) *Clock {
	if real == nil {
		real = time.Now
	}
	return &Clock{start: start, origin: real(), scale: max(scale, 1), real: real}
}

// Now returns the virtual time.
func (c *Clock) Now() time.Time { return c.At(c.real()) }

// At returns the virtual time of the real instant t: what the clock read,
// or will read, then. Times that other systems stamp in real time (a
// Kinesis record's arrival) read on the twin's clock this way.
func (c *Clock) At(t time.Time) time.Time {
	return c.start.Add(time.Duration(float64(t.Sub(c.origin)) * c.scale))
}

// Scale returns how many virtual seconds pass per real second.
func (c *Clock) Scale() float64 { return c.scale }

// Real returns how long the virtual duration d lasts in real time.
func (c *Clock) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.scale)
}

// Sleep waits for the virtual duration d, or until ctx is done, and then
// returns ctx's error.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	return backoff.Sleep(ctx, c.Real(d))
}
