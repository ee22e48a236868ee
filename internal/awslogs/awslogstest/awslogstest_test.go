package awslogstest_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
)

// variable matches the parts of a line that change between occurrences of
// one fingerprint: UUIDs, long hex ids, and numbers. It is a crude stand-in
// for the real fingerprinting, enough to count the templates.
var variable = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{8,}|[0-9]+`)

// isError reports whether a line is an error line.
func isError(msg string) bool {
	return strings.Contains(msg, "ERROR") || strings.Contains(msg, "FATAL") || strings.Contains(msg, "CRITICAL")
}

func TestRealisticBatch(t *testing.T) {
	tests := []struct {
		name          string
		events        int
		errorFraction float64
		fingerprints  int
		wantErrors    int
	}{
		{"benchmark batch", 10_000, 0.5, 20, 5_000},
		{"few errors", 1_000, 0.013, 3, 13},
		{"more fingerprints than templates", 2_000, 1, 45, 2_000},
		{"no errors", 100, 0, 20, 0},
		{"one event", 1, 1, 1, 1},
		{"empty", 0, 0.5, 20, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := awslogstest.RealisticBatch(tc.events, tc.errorFraction, tc.fingerprints, 1)
			assert.Equal(t, p, awslogstest.RealisticBatch(tc.events, tc.errorFraction, tc.fingerprints, 1), "not deterministic")
			require.Len(t, p.LogEvents, tc.events)

			shapes := map[string]int{}
			errors := 0
			last := int64(0)
			for _, e := range p.LogEvents {
				assert.Len(t, e.ID, 56)
				assert.GreaterOrEqual(t, e.Timestamp, last)
				last = e.Timestamp
				if isError(e.Message) {
					errors++
					shapes[variable.ReplaceAllString(e.Message, "#")]++
				}
			}
			assert.Equal(t, tc.wantErrors, errors)
			if errors > 0 {
				assert.Len(t, shapes, min(tc.fingerprints, errors), "error lines should form exactly one shape per fingerprint")
			}

			data, err := awslogs.Encode(p)
			require.NoError(t, err)
			got, err := awslogs.Decode(data, awslogs.Limits{MaxEncodedBytes: 1 << 30, MaxDecompressedBytes: 1 << 30})
			if tc.events == 0 {
				assert.ErrorIs(t, err, awslogs.ErrMalformed, "a DATA_MESSAGE needs events")
				return
			}
			require.NoError(t, err)
			got.DecompressedBytes = 0
			assert.Equal(t, p, got)
		})
	}
}

func TestRealisticBatchShape(t *testing.T) {
	p := awslogstest.RealisticBatch(10_000, 0.5, 20, 1)
	assert.NotEqual(t, p, awslogstest.RealisticBatch(10_000, 0.5, 20, 2), "seed is ignored")
	var tabs, quotes, newlines, nonASCII bool
	for _, e := range p.LogEvents {
		tabs = tabs || strings.Contains(e.Message, "\t")
		quotes = quotes || strings.Contains(e.Message, `"`)
		newlines = newlines || strings.Contains(e.Message, "\n")
		nonASCII = nonASCII || strings.ContainsFunc(e.Message, func(r rune) bool { return r > 127 })
	}
	assert.True(t, tabs && quotes && newlines && nonASCII, "messages should exercise JSON escaping")

	data, err := awslogs.Encode(p)
	require.NoError(t, err)
	assert.Less(t, len(data), awslogs.DefaultLimits.MaxEncodedBytes)
	zip, err := base64.StdEncoding.DecodeString(data)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(zip))
	require.NoError(t, err)
	doc, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.InDelta(t, 2_000_000, len(doc), 400_000, "about 2 MB of JSON")
}

func TestBomb(t *testing.T) {
	const inflated = 64 << 20
	bomb := awslogstest.Bomb(inflated)
	assert.Less(t, len(bomb), 100<<10, "a 64 MiB bomb should stay under 100 KiB of base64")
	_, err := awslogs.Decode(bomb, awslogs.DefaultLimits)
	assert.ErrorIs(t, err, awslogs.ErrTooLarge)

	_, err = awslogs.Decode(awslogstest.Bomb(1<<10), awslogs.DefaultLimits)
	assert.ErrorIs(t, err, awslogs.ErrMalformed, "a bomb under the limit is unterminated JSON")
}

func TestCompress(t *testing.T) {
	doc := []byte(`{"messageType":"CONTROL_MESSAGE"}`)
	assert.Equal(t, awslogstest.Compress(doc), awslogstest.Compress(doc))
	p, err := awslogs.Decode(awslogstest.Compress(doc), awslogs.DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, awslogs.MessageTypeControl, p.MessageType)
}
