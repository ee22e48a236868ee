package incident

import (
	"errors"
	"fmt"
	"time"
)

// ErrTransition reports a status change that the incident's current status
// does not allow, such as acknowledging a RESOLVED incident or resolving it
// twice. The incident is left as it was.
var ErrTransition = errors.New("incident: status change not allowed")

// Acknowledge returns in acknowledged by who at now. Only an OPEN incident
// can be acknowledged; any other status gives an error wrapping
// ErrTransition that says who moved it, so that of two people acting at
// once the second learns what the first did.
func (in Incident) Acknowledge(who string, now time.Time) (Incident, error) {
	if in.Status != StatusOpen {
		return in, in.refuse("acknowledge")
	}
	out := in
	out.Status = StatusAcknowledged
	out.AcknowledgedBy, out.AcknowledgedAt = who, now
	out.UpdatedAt = now
	out.Version++
	return out, nil
}

// Resolve returns in resolved by who at now. OPEN and ACKNOWLEDGED
// incidents can be resolved; resolving a RESOLVED incident gives an error
// wrapping ErrTransition. A later occurrence reopens a resolved incident
// (see Apply).
func (in Incident) Resolve(who string, now time.Time) (Incident, error) {
	if in.Status != StatusOpen && in.Status != StatusAcknowledged {
		return in, in.refuse("resolve")
	}
	out := in
	out.Status = StatusResolved
	out.ResolvedBy, out.ResolvedAt = who, now
	out.UpdatedAt = now
	out.Version++
	return out, nil
}

func (in Incident) refuse(verb string) error {
	why := fmt.Sprintf("it is %s", in.Status)
	switch {
	case in.Status == StatusResolved && in.ResolvedBy != "":
		why += fmt.Sprintf(" (resolved by %s at %s)", in.ResolvedBy, in.ResolvedAt.UTC().Format(time.RFC3339))
	case in.Status == StatusAcknowledged && in.AcknowledgedBy != "":
		why += fmt.Sprintf(" (acknowledged by %s at %s)", in.AcknowledgedBy, in.AcknowledgedAt.UTC().Format(time.RFC3339))
	}
	return transitionError(fmt.Sprintf("cannot %s incident %s: %s", verb, in.ID, why))
}

// transitionError says why a status change was refused; it wraps
// ErrTransition without repeating its text.
type transitionError string

func (e transitionError) Error() string { return string(e) }
func (e transitionError) Unwrap() error { return ErrTransition }
