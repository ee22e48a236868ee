package pipeline

import (
	"context"
	"strings"
)

// excluded reports whether a delivery from group must be dropped: the
// processor's own log group (its error lines would invoke it again, one
// error looping forever) and the groups under an excluded prefix, which an
// account-level subscription filter policy cannot leave out (it excludes
// exact names only).
func (c Config) excluded(group string) (reason string, drop bool) {
	if c.OwnLogGroup != "" && group == c.OwnLogGroup {
		return "the processor's own log group", true
	}
	for _, p := range c.ExcludedPrefixes {
		if strings.HasPrefix(group, p) {
			return "excluded prefix " + p, true
		}
	}
	return "", false
}

// dropLog logs a dropped delivery. A drop from the processor's own group is
// logged once per process only: that line lands in the own group, and were
// the group ever delivered again (a subscription or account policy that
// fails to exclude it, a pattern that matches the line), one line per drop
// would keep the loop going; the DeliveriesDropped metric counts them all.
func (h *Processor) dropLog(ctx context.Context, group string, events int) {
	reason, _ := h.cfg.excluded(group)
	if group == h.cfg.OwnLogGroup && h.ownDrop.Swap(true) {
		return
	}
	h.log.WarnContext(ctx, "delivery dropped", "log_group", group, "reason", reason, "events", events)
}
