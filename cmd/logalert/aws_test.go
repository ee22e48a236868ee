package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSamconfigStack(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"global", "version = 0.1\n[default.global.parameters]\nstack_name = \"logalert\"\n", "logalert"},
		{"deploy beats global", "[default.global.parameters]\nstack_name = \"a\"\n\n[default.deploy.parameters]\n  stack_name = 'b'\n", "b"},
		{"other environments ignored", "[prod.deploy.parameters]\nstack_name = \"prod\"\n", ""},
		{"no stack name", "[default.deploy.parameters]\ncapabilities = \"CAPABILITY_IAM\"\n", ""},
		{"unquoted value ignored", "[default.global.parameters]\nstack_name = logalert\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), samconfigFile)
			require.NoError(t, os.WriteFile(path, []byte(tc.toml), 0o600))
			assert.Equal(t, tc.want, samconfigStack(path))
		})
	}
	assert.Empty(t, samconfigStack(filepath.Join(t.TempDir(), "missing.toml")))
	assert.Equal(t, "logalert", samconfigStack("../../samconfig.toml"), "the repository's own")
}
