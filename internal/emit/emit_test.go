package emit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/incident"
)

func intp(n int) *int { return &n }

func TestLines(t *testing.T) {
	tests := []struct {
		name               string
		req                emit.Request
		errs, warns, infos int
		wantErr            error
		wantErrorIncidents int
	}{
		{"empty request takes defaults", emit.Request{}, emit.DefaultErrors, emit.DefaultWarnings, emit.DefaultInfos, nil, 3},
		{"explicit counts", emit.Request{ErrorCount: intp(7), WarnCount: intp(0), InfoCount: intp(1)}, 7, 0, 1, nil, 3},
		{"one error", emit.Request{ErrorCount: intp(1), WarnCount: intp(0), InfoCount: intp(0)}, 1, 0, 0, nil, 1},
		{"negative", emit.Request{ErrorCount: intp(-1)}, 0, 0, 0, emit.ErrBadRequest, 0},
		{"too many", emit.Request{InfoCount: intp(emit.MaxLines)}, 0, 0, 0, emit.ErrBadRequest, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, sum, err := emit.Lines(tc.req, "run-1")
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, emit.Summary{RunID: "run-1", Errors: tc.errs, Warnings: tc.warns, Infos: tc.infos,
				Lines: tc.errs + tc.warns + tc.infos, Bytes: len(strings.Join(lines, ""))}, sum)
			templates := map[string]bool{}
			var errorLines int
			for _, l := range lines {
				assert.Contains(t, l, "run-1")
				isError := strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL") || strings.Contains(l, "CRITICAL")
				if isError {
					errorLines++
					templates[incident.Normalize(l)] = true
				}
			}
			assert.Equal(t, tc.errs, errorLines, "only error lines carry an error level word")
			assert.Len(t, templates, tc.wantErrorIncidents)
		})
	}
}

func TestRunID(t *testing.T) {
	assert.Equal(t, "run-20261125T140000.123", emit.RunID(time.Date(2026, 11, 25, 14, 0, 0, 123e6, time.UTC)))
}
