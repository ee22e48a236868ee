package emit

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// LineWriter ships log lines: to standard output in Lambda, through
// PutLogEvents in the local twin.
type LineWriter interface {
	WriteLines(ctx context.Context, lines []string) error
}

// Handler answers emitter invocations.
type Handler struct {
	Out LineWriter
	Now func() time.Time
	// Log receives the "emitted" record; nil means slog.Default().
	Log *slog.Logger
}

// Handle writes the lines a request asks for and returns what it wrote.
func (h *Handler) Handle(ctx context.Context, req Request) (Summary, error) {
	lines, sum, err := Lines(req, RunID(h.Now()))
	if err != nil {
		return Summary{}, err
	}
	if err := h.Out.WriteLines(ctx, lines); err != nil {
		return Summary{}, fmt.Errorf("write %d lines: %w", len(lines), err)
	}
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "emitted", "run_id", sum.RunID, "errors", sum.Errors, "warnings", sum.Warnings, "infos", sum.Infos)
	return sum, nil
}
