package incident

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/logalert/logalert/internal/awslogs"
)

// Matcher decides whether a log message belongs to an incident;
// *filterpattern.Pattern implements it.
type Matcher interface {
	Match(message string) bool
}

// Delta is what one delivery adds to one incident: the matching events of a
// log group that share a fingerprint.
type Delta struct {
	ID          string // incident id: hash of (account,) log group and fingerprint, see AccountID
	AccountID   string // the account that owns the log group (the payload's owner); may be empty
	LogGroup    string
	LogStream   string // the stream of the latest event
	Fingerprint string // hash of Template
	Template    string // the normalised message, redacted and bounded
	Severity    Severity
	Count       int64 // matching events, exact
	FirstSeen   time.Time
	LastSeen    time.Time
	Sample      string // the latest event's message, redacted and bounded
}

// Grouping is the result of grouping one delivery.
type Grouping struct {
	Deltas  []Delta // one per incident, sorted by ID
	Matched int     // events that matched
}

// Group matches every event of p and groups the matching ones by
// fingerprint, counting p's owner as the home account (see GroupFrom). The work per event is one match and, for matching events, one
// normalisation into a reused buffer and one map lookup; hashing, severity
// and redaction run once per incident. The Grouping shares no memory with p,
// so p may be a transient awslogs.View payload.
func Group(p *awslogs.Payload, m Matcher) Grouping {
	return (*Redactor)(nil).Group(p, m)
}

// Group is Group, redacting with r. r's own patterns apply to the
// templates before they are fingerprinted, so that events differing only
// in a secret that one of them matches are one incident.
func (r *Redactor) Group(p *awslogs.Payload, m Matcher) Grouping {
	return r.GroupFrom(p, m, p.Owner)
}

// GroupFrom is Group for a processor whose own account is home: the
// incidents of p get IDs that name p's owner unless it is home or empty
// (AccountID), so that two accounts' log groups of the same name never
// share an incident.
func (r *Redactor) GroupFrom(p *awslogs.Payload, m Matcher, home string) Grouping {
	type acc struct {
		template    string
		count       int64
		first, last int64 // event timestamps, ms
		latest      int   // index of the latest event
	}
	var (
		byTemplate = make(map[string]int)
		accs       []acc
		buf        = make([]byte, 0, 512)
		matched    int
	)
	for i := range p.LogEvents {
		ev := &p.LogEvents[i]
		if !m.Match(ev.Message) {
			continue
		}
		matched++
		buf = appendTemplate(buf[:0], ev.Message)
		k, ok := byTemplate[string(buf)]
		if !ok {
			k = len(accs)
			t := string(buf)
			byTemplate[t] = k
			accs = append(accs, acc{template: t, first: ev.Timestamp, last: ev.Timestamp, latest: i})
		}
		a := &accs[k]
		a.count++
		a.first = min(a.first, ev.Timestamp)
		if ev.Timestamp >= a.last {
			a.last, a.latest = ev.Timestamp, i
		}
	}
	if r.hasPatterns() { // merge the templates that become one
		merged := make(map[string]int, len(accs))
		out := accs[:0]
		for _, a := range accs {
			a.template = r.redactPatterns(a.template)
			k, ok := merged[a.template]
			if !ok {
				merged[a.template] = len(out)
				out = append(out, a)
				continue
			}
			m := &out[k]
			m.count += a.count
			m.first = min(m.first, a.first)
			if a.last > m.last || a.last == m.last && a.latest > m.latest {
				m.last, m.latest = a.last, a.latest
			}
		}
		accs = out
	}
	logGroup, logStream, account := strings.Clone(p.LogGroup), strings.Clone(p.LogStream), strings.Clone(p.Owner)
	deltas := make([]Delta, 0, len(accs))
	for _, a := range accs {
		fp := Fingerprint(a.template)
		deltas = append(deltas, Delta{
			ID:          AccountID(home, account, logGroup, fp),
			AccountID:   account,
			LogGroup:    logGroup,
			LogStream:   logStream,
			Fingerprint: fp,
			Template:    Truncate(r.Redact(a.template), MaxSampleBytes),
			Severity:    SeverityOf(a.template),
			Count:       a.count,
			FirstSeen:   time.UnixMilli(a.first).UTC(),
			LastSeen:    time.UnixMilli(a.last).UTC(),
			Sample:      strings.Clone(r.Sample(p.LogEvents[a.latest].Message)),
		})
	}
	slices.SortFunc(deltas, func(a, b Delta) int { return strings.Compare(a.ID, b.ID) })
	return Grouping{Deltas: deltas, Matched: matched}
}

// Fingerprint returns the hash that names a template: 16 hex digits.
func Fingerprint(template string) string {
	sum := sha256.Sum256([]byte(template))
	return hex.EncodeToString(sum[:8])
}

// ID returns the incident id for a fingerprint in a log group.
func ID(logGroup, fingerprint string) string {
	h := sha256.New()
	h.Write([]byte(logGroup))
	h.Write([]byte{0})
	h.Write([]byte(fingerprint))
	return "inc-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// AccountID returns the incident id for a fingerprint in a log group of
// account, seen by a processor whose own account is home: ID(logGroup,
// fingerprint) when account is home or empty, so that the incidents of the
// processor's own account keep the IDs they had before accounts were told
// apart, and otherwise a hash of the account too. An empty home makes
// every account foreign, so that two accounts never share an incident.
func AccountID(home, account, logGroup, fingerprint string) string {
	if account == "" || account == home {
		return ID(logGroup, fingerprint)
	}
	h := sha256.New()
	h.Write([]byte("account"))
	h.Write([]byte{0})
	h.Write([]byte(account))
	h.Write([]byte{0})
	h.Write([]byte(logGroup))
	h.Write([]byte{0})
	h.Write([]byte(fingerprint))
	return "inc-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// DeliveryID names one subscription delivery: a hash of its origin (the
// owner account, log group, stream and filters) and of every event id in
// it. It has always hashed the owner, so deliveries of two accounts never
// share one, and the processor's own account keeps the IDs it had. CloudWatch Logs redelivers a payload unchanged, so a
// redelivery has the same DeliveryID and the store can recognise it.
func DeliveryID(p *awslogs.Payload) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(p.Owner)
	field(p.LogGroup)
	field(p.LogStream)
	for _, f := range p.SubscriptionFilters {
		field(f)
	}
	for i := range p.LogEvents {
		field(p.LogEvents[i].ID)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
