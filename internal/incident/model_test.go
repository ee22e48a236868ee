package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/incident"
)

func TestApply(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	base := incident.Incident{
		ID: "inc-1", Status: incident.StatusOpen, Severity: incident.SeverityError, Occurrences: 4,
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), SampleMessage: "old", LogStream: "s-old", Version: 3,
	}
	tests := []struct {
		name       string
		status     incident.Status
		delta      incident.Delta
		wantChange incident.Change
		check      func(t *testing.T, got incident.Incident)
	}{
		{"later events extend last_seen and take the sample", incident.StatusOpen,
			incident.Delta{Count: 2, FirstSeen: t0.Add(2 * time.Minute), LastSeen: t0.Add(3 * time.Minute), Sample: "new", LogStream: "s-new", Severity: incident.SeverityError},
			incident.Updated, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, int64(6), got.Occurrences)
				assert.Equal(t, t0, got.FirstSeen)
				assert.Equal(t, t0.Add(3*time.Minute), got.LastSeen)
				assert.Equal(t, "new", got.SampleMessage)
				assert.Equal(t, "s-new", got.LogStream)
			}},
		{"earlier events widen first_seen but keep the sample", incident.StatusOpen,
			incident.Delta{Count: 1, FirstSeen: t0.Add(-time.Minute), LastSeen: t0.Add(-time.Minute), Sample: "older", Severity: incident.SeverityError},
			incident.Updated, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, t0.Add(-time.Minute), got.FirstSeen)
				assert.Equal(t, t0.Add(time.Minute), got.LastSeen)
				assert.Equal(t, "old", got.SampleMessage)
			}},
		{"severity only rises", incident.StatusOpen,
			incident.Delta{Count: 1, FirstSeen: t0, LastSeen: t0, Severity: incident.SeverityWarn},
			incident.Updated, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, incident.SeverityError, got.Severity)
			}},
		{"acknowledged stays acknowledged", incident.StatusAcknowledged,
			incident.Delta{Count: 1, FirstSeen: t0, LastSeen: t0, Severity: incident.SeverityCritical},
			incident.Updated, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, incident.StatusAcknowledged, got.Status)
				assert.Equal(t, incident.SeverityCritical, got.Severity)
			}},
		{"resolved reopens on an event after the resolve", incident.StatusResolved,
			incident.Delta{Count: 1, FirstSeen: t0.Add(20 * time.Minute), LastSeen: t0.Add(31 * time.Minute), Severity: incident.SeverityError},
			incident.Reopened, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, incident.StatusOpen, got.Status)
				assert.Equal(t, int64(1), got.ReopenCount)
			}},
		{"events from before the resolve are counted but reopen nothing", incident.StatusResolved,
			incident.Delta{Count: 2, FirstSeen: t0.Add(10 * time.Minute), LastSeen: t0.Add(30 * time.Minute), Severity: incident.SeverityError},
			incident.Updated, func(t *testing.T, got incident.Incident) {
				assert.Equal(t, incident.StatusResolved, got.Status)
				assert.Equal(t, int64(0), got.ReopenCount)
				assert.Equal(t, int64(6), got.Occurrences)
				assert.Equal(t, t0.Add(30*time.Minute), got.LastSeen)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			in.Status = tc.status
			if tc.status == incident.StatusResolved {
				in.ResolvedBy, in.ResolvedAt = "ops", t0.Add(30*time.Minute)
			}
			got, change := in.Apply(tc.delta, now)
			assert.Equal(t, tc.wantChange, change)
			assert.Equal(t, base.Version+1, got.Version, "every write bumps the version")
			assert.Equal(t, now, got.UpdatedAt)
			tc.check(t, got)
		})
	}
}

func TestOpen(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	d := incident.Delta{ID: "inc-1", LogGroup: "/g", Fingerprint: "fp", Template: "ERROR x", Severity: incident.SeverityFatal,
		Count: 3, FirstSeen: t0, LastSeen: t0.Add(time.Second), Sample: "ERROR x", LogStream: "s"}
	got := incident.Open(d, t0.Add(time.Hour))
	assert.Equal(t, incident.Incident{ID: "inc-1", LogGroup: "/g", LogStream: "s", Fingerprint: "fp", Template: "ERROR x",
		Status: incident.StatusOpen, Severity: incident.SeverityFatal, Occurrences: 3, FirstSeen: t0, LastSeen: t0.Add(time.Second),
		SampleMessage: "ERROR x", CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour), Version: 1}, got)
	assert.Equal(t, "opened", incident.Opened.String())
	assert.True(t, incident.StatusResolved.Valid())
	assert.False(t, incident.Status("open").Valid())
}
