package store

import (
	"context"
	"errors"
	"time"

	"github.com/logalert/logalert/internal/incident"
)

// WatchOverlap is how far back each Watch poll looks before the previous
// one started. It absorbs the status index's propagation delay and the
// clock differences between the writers that stamp updated_at (the
// processor, people) and the watcher; a change seen twice is reported once.
const WatchOverlap = time.Minute

// Watch follows the incidents that f selects. It first calls fn with what
// List(f) returns, then every interval with the incidents written since
// (new ones, new occurrences, acknowledgements, resolutions), oldest change
// first, each change once. It returns ctx's error when ctx ends, the first
// error of a poll, or fn's error.
//
// Each poll reads the status index within f.Since, every shard of the
// statuses f selects, and filters on updated_at on the server (Changes), so
// its cost grows with the incidents of those partitions: set f.Since to
// bound it. Only the changed incidents are then read from the table. An incident that leaves
// f.Status (say an OPEN one resolved while watching OPEN) drops out silently.
func (s *Store) Watch(ctx context.Context, f Filter, interval time.Duration, fn func([]incident.Incident) error) error {
	if interval <= 0 {
		return errors.New("watch: the interval must be positive")
	}
	cursor := s.now().UTC()
	initial, err := s.List(ctx, f)
	if err != nil {
		return err
	}
	seen := map[string]watched{}
	for _, in := range initial {
		seen[in.ID] = watched{in.Version, in.UpdatedAt}
	}
	if err := fn(initial); err != nil {
		return err
	}
	f.Limit = 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		start := s.now().UTC()
		changed, err := s.Changes(ctx, f, cursor.Add(-WatchOverlap))
		if err != nil {
			return err
		}
		cursor = start
		var fresh []incident.Incident
		for _, in := range changed {
			if w, ok := seen[in.ID]; ok && w.version >= in.Version {
				continue
			}
			seen[in.ID] = watched{in.Version, in.UpdatedAt}
			fresh = append(fresh, in)
		}
		// What the next poll cannot return any more need not be remembered.
		for id, w := range seen {
			if w.updatedAt.Before(cursor.Add(-WatchOverlap)) {
				delete(seen, id)
			}
		}
		if len(fresh) > 0 {
			if err := fn(fresh); err != nil {
				return err
			}
		}
	}
}

// watched is the last version of an incident that Watch reported.
type watched struct {
	version   int64
	updatedAt time.Time
}
