// Package backoff is the retry timing every logalert retry loop uses:
// exponential backoff with full jitter, and a sleep that ends early when its
// context is done.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff with full jitter: before retry n (from
// 1) it waits a random duration in [0, min(Max, Base·2^(n-1))). Attempts
// counts every try, the first included.
type Policy struct {
	Base, Max time.Duration
	Attempts  int
}

// Delay returns the wait before retry n.
func (p Policy) Delay(n int) time.Duration {
	ceil := p.Max
	if n-1 < 32 {
		ceil = min(p.Max, p.Base<<max(n-1, 0))
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}

// Sleep waits for d or until ctx is done, and returns ctx's error in the
// second case; with d <= 0 it returns ctx's error at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// TimeLeft reports whether ctx leaves at least d before its deadline (any
// d, without one): a retry loop stops early enough to fail cleanly rather
// than time out.
func TimeLeft(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}
