package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/store"
)

func TestInvoke(t *testing.T) {
	control, _ := orders(t, awslogs.MessageTypeControl)
	data, _ := orders(t, awslogs.MessageTypeData)
	controlJSON, err := json.Marshal(control)
	require.NoError(t, err)
	dataJSON, err := json.Marshal(data)
	require.NoError(t, err)

	tests := []struct {
		name      string
		event     string
		recorded  bool
		wantErr   string
		wantInLog string
	}{
		{name: "a subscription delivery goes to Handle", event: string(controlJSON), wantInLog: "control message ignored"},
		{name: "its data is decoded and recorded", event: string(dataJSON), recorded: true, wantInLog: "delivery processed"},
		{name: "a bad awslogs field fails as a malformed payload", event: `{"awslogs":{"data":"%%%"}}`, wantErr: "awslogs: malformed payload"},
		{name: "an unknown shape names its keys", event: `{"detail":{},"source":"x"}`, wantErr: "unknown event shape: top-level keys [detail source]"},
		{name: "not an object", event: `[1,2]`, wantErr: "unknown event shape: not a JSON object"},
		{name: "awslogs of the wrong type", event: `{"awslogs":5}`, wantErr: "unknown event shape: awslogs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			recorded := false
			st := &fakeStore{t: t, record: func(context.Context, string, []incident.Delta) (store.Result, error) {
				recorded = true
				return store.Result{}, nil
			}}
			out, err := newTestProcessor(t, st, nil, &log).Invoke(context.Background(), json.RawMessage(tt.event))
			assert.Nil(t, out)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.recorded, recorded)
			assert.Contains(t, log.String(), tt.wantInLog)
		})
	}
}
