package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/pipeline"
)

func TestLoadConfigExclusions(t *testing.T) {
	env := map[string]string{
		"INCIDENTS_TABLE": "t", "AWS_LAMBDA_LOG_GROUP_NAME": "/logalert/s/processor",
		"EXCLUDED_LOG_GROUP_PREFIXES": " /aws/codebuild/ ,, /noisy/",
	}
	c, err := pipeline.LoadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "/logalert/s/processor", c.OwnLogGroup)
	assert.Equal(t, []string{"/aws/codebuild/", "/noisy/"}, c.ExcludedPrefixes)

	// The template's empty list: EXCLUDED_LOG_GROUP_PREFIXES="" excludes nothing.
	c, err = pipeline.LoadConfig(func(k string) string { return map[string]string{"INCIDENTS_TABLE": "t"}[k] })
	require.NoError(t, err)
	assert.Empty(t, c.ExcludedPrefixes)
	assert.Empty(t, c.OwnLogGroup)
}
