package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
)

func TestTransitions(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	acked := incident.Incident{ID: "inc-1", Status: incident.StatusAcknowledged, AcknowledgedBy: "alice", AcknowledgedAt: t0, Version: 4}
	resolved := incident.Incident{ID: "inc-1", Status: incident.StatusResolved, ResolvedBy: "bob", ResolvedAt: t0, Version: 4}
	open := incident.Incident{ID: "inc-1", Status: incident.StatusOpen, Version: 4}
	tests := []struct {
		name       string
		in         incident.Incident
		act        func(incident.Incident) (incident.Incident, error)
		wantStatus incident.Status
		wantErr    string // empty: allowed
	}{
		{"acknowledge open", open, func(in incident.Incident) (incident.Incident, error) { return in.Acknowledge("carol", now) },
			incident.StatusAcknowledged, ""},
		{"acknowledge acknowledged", acked, func(in incident.Incident) (incident.Incident, error) { return in.Acknowledge("carol", now) },
			incident.StatusAcknowledged, "cannot acknowledge incident inc-1: it is ACKNOWLEDGED (acknowledged by alice at 2026-11-25T14:00:00Z)"},
		{"acknowledge resolved", resolved, func(in incident.Incident) (incident.Incident, error) { return in.Acknowledge("carol", now) },
			incident.StatusResolved, "cannot acknowledge incident inc-1: it is RESOLVED (resolved by bob at 2026-11-25T14:00:00Z)"},
		{"resolve open", open, func(in incident.Incident) (incident.Incident, error) { return in.Resolve("carol", now) },
			incident.StatusResolved, ""},
		{"resolve acknowledged", acked, func(in incident.Incident) (incident.Incident, error) { return in.Resolve("carol", now) },
			incident.StatusResolved, ""},
		{"resolve resolved", resolved, func(in incident.Incident) (incident.Incident, error) { return in.Resolve("carol", now) },
			incident.StatusResolved, "cannot resolve incident inc-1: it is RESOLVED (resolved by bob at 2026-11-25T14:00:00Z)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.act(tc.in)
			assert.Equal(t, tc.wantStatus, got.Status)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, incident.ErrTransition)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Equal(t, tc.in, got, "a refused change leaves the incident as it was")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.in.Version+1, got.Version)
			assert.Equal(t, now, got.UpdatedAt)
			if got.Status == incident.StatusResolved {
				assert.Equal(t, "carol", got.ResolvedBy)
				assert.Equal(t, now, got.ResolvedAt)
				assert.Equal(t, tc.in.AcknowledgedBy, got.AcknowledgedBy, "resolving keeps who acknowledged")
			} else {
				assert.Equal(t, "carol", got.AcknowledgedBy)
				assert.Equal(t, now, got.AcknowledgedAt)
			}
		})
	}
}
