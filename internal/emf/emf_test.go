package emf_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/emf"
)

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	err := emf.Write(&buf, "LogAlert/demo/Processor", time.UnixMilli(1764079200000),
		map[string]string{"FunctionName": "proc"},
		[]emf.Metric{{Name: "EventsProcessed", Unit: "Count", Value: 10}, {Name: "DecompressedBytes", Unit: "Bytes", Value: 2048}})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"_aws": {"Timestamp": 1764079200000, "CloudWatchMetrics": [{
			"Namespace": "LogAlert/demo/Processor",
			"Dimensions": [["FunctionName"]],
			"Metrics": [{"Name": "EventsProcessed", "Unit": "Count"}, {"Name": "DecompressedBytes", "Unit": "Bytes"}]}]},
		"FunctionName": "proc", "EventsProcessed": 10, "DecompressedBytes": 2048}`, buf.String())
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "one record is one line")
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestWriteReportsWriteError(t *testing.T) {
	err := emf.Write(brokenWriter{}, "ns", time.Now(), nil, []emf.Metric{{Name: "m", Unit: "Count", Value: 1}})
	assert.ErrorContains(t, err, "closed")
}

func TestWriteSets(t *testing.T) {
	var buf bytes.Buffer
	err := emf.WriteSets(&buf, "ns", time.UnixMilli(1764079200000), map[string]string{"AccountId": "111111111111"},
		[][]string{{"AccountId"}, {}}, []emf.Metric{{Name: "MemberEventsMatched", Unit: "Count", Value: 3}})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"_aws": {"Timestamp": 1764079200000, "CloudWatchMetrics": [{
			"Namespace": "ns",
			"Dimensions": [["AccountId"], []],
			"Metrics": [{"Name": "MemberEventsMatched", "Unit": "Count"}]}]},
		"AccountId": "111111111111", "MemberEventsMatched": 3}`, buf.String())
}
