package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/emit"
)

var (
	motoURL string
	runs    atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(awstest.RunWithMoto(context.Background(), m, "emitter", &motoURL))
}

// make emit LOG_GROUP=/shop/api: the lines land in that group through
// PutLogEvents; a group the stack does not watch is refused.
func TestEmitIntoWatchedGroup(t *testing.T) {
	cfg, err := awstest.Config(t.Context(), motoURL)
	require.NoError(t, err)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	group := fmt.Sprintf("/shop/%s-%d", t.Name(), runs.Add(1)) // moto outlives -count runs
	_, err = logs.CreateLogGroup(t.Context(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group})
	require.NoError(t, err)

	var own strings.Builder
	h := &emit.Handler{
		Out: stdoutLines{w: &own}, OwnGroup: "/logalert/s/app", Groups: []string{"/logalert/s/app", group}, Now: time.Now,
		Open: func(g string) emit.LineWriter { return newGroupLines(logs, g, time.Now) },
	}
	sum, err := h.Handle(t.Context(), emit.Request{LogGroup: group})
	require.NoError(t, err)
	assert.Equal(t, group, sum.LogGroup)
	assert.Empty(t, own.String(), "nothing on standard output")

	out, err := logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &group})
	require.NoError(t, err)
	require.Len(t, out.Events, sum.Lines)
	assert.True(t, strings.HasPrefix(aws.ToString(out.Events[0].Message), "ERROR "))
	assert.Contains(t, aws.ToString(out.Events[0].LogStreamName), "/emitter/")

	_, err = h.Handle(t.Context(), emit.Request{LogGroup: "/not/watched"})
	assert.ErrorIs(t, err, emit.ErrBadRequest)
}
