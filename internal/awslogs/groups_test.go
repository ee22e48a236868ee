package awslogs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/awslogs"
)

func TestSplitGroups(t *testing.T) {
	assert.Equal(t, []string{"/a", "/b"}, awslogs.SplitGroups(" /a,, /b "))
	assert.Empty(t, awslogs.SplitGroups(""))
}
