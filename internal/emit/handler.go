package emit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// LineWriter ships log lines: to standard output in Lambda, through
// PutLogEvents in the local twin.
type LineWriter interface {
	WriteLines(ctx context.Context, lines []string) error
}

// Handler answers emitter invocations.
type Handler struct {
	// Out writes into the function's own log group, OwnGroup.
	Out      LineWriter
	OwnGroup string
	// Groups are the watched log groups a request may name; the first is
	// the default. Empty: every request goes to Out.
	Groups []string
	// Open returns a writer into one of Groups other than OwnGroup.
	Open func(group string) LineWriter
	Now  func() time.Time
	// Log receives the "emitted" record; nil means slog.Default().
	Log *slog.Logger
}

// Handle writes the lines a request asks for and returns what it wrote.
func (h *Handler) Handle(ctx context.Context, req Request) (Summary, error) {
	out, group, err := h.target(req.LogGroup)
	if err != nil {
		return Summary{}, err
	}
	lines, sum, err := Lines(req, RunID(h.Now()))
	if err != nil {
		return Summary{}, err
	}
	sum.LogGroup = group
	if err := out.WriteLines(ctx, lines); err != nil {
		return Summary{}, fmt.Errorf("write %d lines: %w", len(lines), err)
	}
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "emitted", "run_id", sum.RunID, "log_group", group, "errors", sum.Errors, "warnings", sum.Warnings, "infos", sum.Infos)
	return sum, nil
}

// target returns the writer for the requested group (empty: the first
// watched one) and the group's name; a group that is not watched is a bad
// request.
func (h *Handler) target(group string) (LineWriter, string, error) {
	if group == "" && len(h.Groups) > 0 {
		group = h.Groups[0]
	}
	if group == "" || group == h.OwnGroup {
		return h.Out, cmp.Or(group, h.OwnGroup), nil
	}
	if !slices.Contains(h.Groups, group) || h.Open == nil {
		return nil, "", fmt.Errorf("%w: log group %q is not watched by this stack (watched: %s)", ErrBadRequest, group, strings.Join(h.Groups, ", "))
	}
	return h.Open(group), group, nil
}
