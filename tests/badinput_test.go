package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
)

func TestBadInputFailsLoudlyAndWritesNothing(t *testing.T) {
	files, err := filepath.Glob("../events/processor-*.json")
	require.NoError(t, err)
	var bad int
	for _, f := range files {
		name := filepath.Base(f)
		if name == "processor-data.json" || name == "processor-control.json" {
			continue
		}
		bad++
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var log bytes.Buffer
			p := e.newProcessor(t, e.proxy.URL, "", &log)
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var ev events.CloudwatchLogsEvent
			require.NoError(t, json.Unmarshal(raw, &ev))

			err = p.Handle(t.Context(), ev)
			require.Error(t, err, "a bad payload must fail so it ends in the DLQ")
			assert.True(t, errorsIsAny(err, awslogs.ErrMalformed, awslogs.ErrTooLarge), "error %v wraps neither sentinel", err)
			assert.Empty(t, e.incidents(t))
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			require.Len(t, lines, 1, "exactly one log line per failure")
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
			assert.Equal(t, "ERROR", rec["level"])
			assert.Equal(t, true, rec["bad_payload"])
			assert.Regexp(t, `^awslogs: (malformed payload|payload over limit): `, rec["err"])
		})
	}
	assert.GreaterOrEqual(t, bad, 5, "events/ must hold the malformed samples")
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
