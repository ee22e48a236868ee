package motoserver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/motoserver"
)

func TestStartServesAndStops(t *testing.T) {
	s, err := motoserver.Start(t.Context())
	require.NoError(t, err)
	resp, err := http.Get(s.URL + "/moto-api/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	s.Stop()
	s.Stop() // idempotent
	_, err = http.Get(s.URL + "/moto-api/")
	assert.Error(t, err, "server still answers after Stop")
}

func TestStartReportsMissingExecutable(t *testing.T) {
	t.Setenv("MOTO_SERVER", "")
	t.Setenv("PATH", t.TempDir())
	_, err := motoserver.Start(t.Context())
	assert.ErrorIs(t, err, motoserver.ErrNotInstalled)
}
