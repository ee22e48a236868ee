package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/pipeline"
)

// The processor never processes its own logs nor the groups under an
// excluded prefix: it drops them, without error (a retry would come back
// to the same answer), counts each drop and logs a drop from its own group
// once, so that even a policy that failed to exclude its group and a
// pattern that matched the drop line could not keep a loop going.
func TestProcessorDropsItsOwnAndExcludedGroups(t *testing.T) {
	e := newEnv(t)
	pattern, err := filterpattern.Parse("") // matches every line, the drop line too
	require.NoError(t, err)
	own := "/logalert/" + e.table + "/processor"
	cfg := pipeline.Config{
		Table: e.table, Pattern: pattern, Namespace: "LogAlert/test/Processor", Limits: awslogs.DefaultLimits,
		OwnLogGroup: own, ExcludedPrefixes: []string{"/noisy/"},
	}
	var log, metrics bytes.Buffer
	c := newConfig(t, e.proxy.URL)
	p := pipeline.New(cfg, dynamodb.NewFromConfig(c), sns.NewFromConfig(c), pipeline.WithMetrics(&metrics),
		pipeline.WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))

	for range 3 {
		require.NoError(t, p.Handle(t.Context(), delivery(t, own, `{"level":"ERROR","msg":"delivery failed"}`)))
	}
	require.NoError(t, p.Handle(t.Context(), delivery(t, "/noisy/build-7", "ERROR flaky test")))
	for _, in := range e.incidents(t) {
		assert.NotEqual(t, own, in.logGroup)
		assert.NotEqual(t, "/noisy/build-7", in.logGroup)
	}
	assert.Zero(t, e.proxy.Count("TransactWriteItems"), "nothing recorded")
	assert.Zero(t, e.proxy.Count("BatchGetItem"), "nothing read either")
	assert.Equal(t, 1, strings.Count(log.String(), `"log_group":"`+own+`"`), "one line for the own group's drops: %s", log.String())
	assert.Contains(t, log.String(), `"reason":"excluded prefix /noisy/"`)
	assert.NotContains(t, log.String(), "delivery processed")

	dropped := 0.0
	for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		dropped += m["DeliveriesDropped"].(float64)
		assert.Zero(t, m["EventsMatched"], "a drop matches nothing: the account alarm does not count it")
	}
	assert.Equal(t, 4.0, dropped)

	// Any other group is processed as before.
	other := fmt.Sprintf("/noisyneighbour-%d", eventSeq.Add(1)) // the table outlives -count runs
	require.NoError(t, p.Handle(t.Context(), delivery(t, other, "ERROR real one")))
	assert.Contains(t, e.incidents(t), other+" ERROR real one")
}
