package emit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/emit"
)

// recordLines is a LineWriter that keeps the lines, or fails with err.
type recordLines struct {
	lines []string
	err   error
}

func (r *recordLines) WriteLines(_ context.Context, lines []string) error {
	r.lines = append(r.lines, lines...)
	return r.err
}

func TestHandle(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC) }
	out := &recordLines{}
	h := &emit.Handler{Out: out, Now: now}
	sum, err := h.Handle(t.Context(), emit.Request{ErrorCount: intp(3)})
	require.NoError(t, err)
	assert.Len(t, out.lines, 3+emit.DefaultWarnings+emit.DefaultInfos)
	assert.Equal(t, len(out.lines), sum.Lines)
	assert.Equal(t, 3, sum.Errors)
	assert.Equal(t, "run-20261125T140000.000", sum.RunID)
	assert.True(t, strings.HasPrefix(out.lines[0], "ERROR "))

	_, err = h.Handle(t.Context(), emit.Request{InfoCount: intp(-1)})
	assert.ErrorIs(t, err, emit.ErrBadRequest)

	failing := &emit.Handler{Out: &recordLines{err: errors.New("disk full")}, Now: now}
	_, err = failing.Handle(t.Context(), emit.Request{})
	assert.ErrorContains(t, err, "disk full")
}

func TestHandleLogGroup(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC) }
	own, api, worker := &recordLines{}, &recordLines{}, &recordLines{}
	opened := map[string]*recordLines{"/shop/api": api, "/shop/worker": worker}
	h := &emit.Handler{
		Out: own, OwnGroup: "/logalert/s/app", Groups: []string{"/shop/api", "/shop/worker"}, Now: now,
		Open: func(group string) emit.LineWriter { return opened[group] },
	}
	sum, err := h.Handle(t.Context(), emit.Request{ErrorCount: intp(2), WarnCount: intp(0), InfoCount: intp(0)})
	require.NoError(t, err)
	assert.Equal(t, "/shop/api", sum.LogGroup, "the first watched group by default")
	assert.Len(t, api.lines, 2)

	sum, err = h.Handle(t.Context(), emit.Request{ErrorCount: intp(1), WarnCount: intp(0), InfoCount: intp(0), LogGroup: "/shop/worker"})
	require.NoError(t, err)
	assert.Equal(t, "/shop/worker", sum.LogGroup)
	assert.Len(t, worker.lines, 1)

	_, err = h.Handle(t.Context(), emit.Request{LogGroup: "/somebody/else"})
	assert.ErrorIs(t, err, emit.ErrBadRequest)
	assert.ErrorContains(t, err, `log group "/somebody/else" is not watched by this stack (watched: /shop/api, /shop/worker)`)
	assert.Empty(t, own.lines)

	// The stack's own app group, watched by default, is the function's
	// own: its lines go to standard output, as before log_group existed.
	h = &emit.Handler{Out: own, OwnGroup: "/logalert/s/app", Groups: []string{"/logalert/s/app"}, Now: now}
	sum, err = h.Handle(t.Context(), emit.Request{ErrorCount: intp(1), WarnCount: intp(0), InfoCount: intp(0)})
	require.NoError(t, err)
	assert.Equal(t, "/logalert/s/app", sum.LogGroup)
	assert.Len(t, own.lines, 1)
}
