package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStdoutLinesOnePerEvent(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, stdoutLines{w: &out}.WriteLines(t.Context(), []string{"ERROR a", "INFO b"}))
	assert.Equal(t, "ERROR a\nINFO b\n", out.String())
	assert.Equal(t, 2, strings.Count(out.String(), "\n"))
}
