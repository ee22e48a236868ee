package incident

import "time"

// Status is where an incident is in its life cycle.
type Status string

// Statuses. A new occurrence of a RESOLVED incident reopens it; OPEN and
// ACKNOWLEDGED incidents keep their status.
const (
	StatusOpen         Status = "OPEN"
	StatusAcknowledged Status = "ACKNOWLEDGED"
	StatusResolved     Status = "RESOLVED"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusAcknowledged || s == StatusResolved
}

// Incident is one stored incident: every matching event of one log group
// with one fingerprint.
type Incident struct {
	ID string
	// AccountID is the AWS account that owns LogGroup (the payload's
	// owner); empty for incidents stored before accounts were recorded.
	AccountID     string
	LogGroup      string
	LogStream     string // stream of the latest occurrence
	Fingerprint   string
	Template      string
	Status        Status
	Severity      Severity
	Occurrences   int64 // exact count of matching events
	FirstSeen     time.Time
	LastSeen      time.Time
	SampleMessage string // latest occurrence, redacted and bounded
	ReopenCount   int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// AcknowledgedBy, AcknowledgedAt, ResolvedBy and ResolvedAt record who
	// moved the incident and when; empty or zero until then.
	AcknowledgedBy string
	AcknowledgedAt time.Time
	ResolvedBy     string
	ResolvedAt     time.Time
	// Version counts the writes to the item; every writer conditions on it,
	// so concurrent updates never overwrite each other.
	Version int64
}

// Change says what applying a Delta did to an incident.
type Change int

// Changes. Opened and Reopened are the ones worth telling a human about.
const (
	Updated Change = iota
	Opened
	Reopened
)

// String returns "updated", "opened" or "reopened".
func (c Change) String() string {
	switch c {
	case Opened:
		return "opened"
	case Reopened:
		return "reopened"
	}
	return "updated"
}

// Open returns the incident that d starts.
func Open(d Delta, now time.Time) Incident {
	return Incident{
		ID:            d.ID,
		AccountID:     d.AccountID,
		LogGroup:      d.LogGroup,
		LogStream:     d.LogStream,
		Fingerprint:   d.Fingerprint,
		Template:      d.Template,
		Status:        StatusOpen,
		Severity:      d.Severity,
		Occurrences:   d.Count,
		FirstSeen:     d.FirstSeen,
		LastSeen:      d.LastSeen,
		SampleMessage: d.Sample,
		CreatedAt:     now,
		UpdatedAt:     now,
		Version:       1,
	}
}

// Apply returns in with the occurrences of d added: an incident stored
// without an account takes d's, the count grows by
// d.Count, the seen range widens, the severity is the higher of the two, the
// sample follows the latest event, and a RESOLVED incident reopens if d has
// an event after it was resolved. Events from before the resolve (a Lambda
// retry, a late redrive from the dead-letter queue) are counted but reopen
// nothing: they are the errors someone already resolved. The comparison is
// of the events' timestamps (the application's clock) with ResolvedAt (the
// resolver's clock), so the two clocks must roughly agree, as NTP keeps
// them.
func (in Incident) Apply(d Delta, now time.Time) (Incident, Change) {
	out := in
	if out.AccountID == "" { // stored before accounts were recorded
		out.AccountID = d.AccountID
	}
	out.Occurrences += d.Count
	if d.FirstSeen.Before(out.FirstSeen) {
		out.FirstSeen = d.FirstSeen
	}
	if !d.LastSeen.Before(out.LastSeen) {
		out.LastSeen = d.LastSeen
		out.SampleMessage = d.Sample
		out.LogStream = d.LogStream
	}
	out.Severity = max(out.Severity, d.Severity)
	out.UpdatedAt = now
	out.Version++
	if in.Status == StatusResolved && d.LastSeen.After(in.ResolvedAt) {
		out.Status = StatusOpen
		out.ReopenCount++
		return out, Reopened
	}
	return out, Updated
}
