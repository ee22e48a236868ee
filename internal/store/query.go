package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/incident"
)

// queryAPI is the subset of *dynamodb.Client that the read and update side
// (Get, Find, List, Changes, Stats, Watch, Acknowledge, Resolve) calls.
type queryAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ErrNotFound reports that no incident has the ID (or ID prefix) asked for.
var ErrNotFound = errors.New("store: incident not found")

// notFound is ErrNotFound for one ID.
type notFound string

func (e notFound) Error() string { return "no incident " + string(e) }
func (e notFound) Unwrap() error { return ErrNotFound }

// ErrAmbiguous reports that an ID prefix matches more than one incident.
var ErrAmbiguous = errors.New("store: incident id prefix matches several incidents")

// WithPageSize sets how many items one Query page holds (default: as many
// as fit in DynamoDB's 1 MB pages). Small pages exercise pagination in tests.
func WithPageSize(n int) Option { return func(s *Store) { s.pageSize = int32(n) } }

// Filter selects incidents; the zero Filter selects every incident.
type Filter struct {
	Status   incident.Status // one status; empty: all three
	LogGroup string          // exact log group name; empty: every group
	Since    time.Time       // last_seen at or after Since; zero: any time
	Limit    int             // at most Limit incidents, most recent first; 0: no limit
}

// statuses returns the by-status partitions that f reads.
func (f Filter) statuses() ([]incident.Status, error) {
	if f.Status == "" {
		return []incident.Status{incident.StatusOpen, incident.StatusAcknowledged, incident.StatusResolved}, nil
	}
	if !f.Status.Valid() {
		return nil, fmt.Errorf("unknown status %q: want OPEN, ACKNOWLEDGED or RESOLVED", f.Status)
	}
	return []incident.Status{f.Status}, nil
}

// Get returns the incident with id, read consistently. It returns an error
// wrapping ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, id string) (incident.Incident, error) {
	if id == "" {
		return incident.Incident{}, notFound(`""`)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            map[string]types.AttributeValue{attrPK: str(id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return incident.Incident{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	if _, ok := out.Item[attrIncidentID]; !ok { // no item, or a marker
		return incident.Incident{}, notFound(id)
	}
	return decodeIncident(out.Item)
}

// Find returns the incident whose ID is ref or, as with git commits, the
// only one whose ID starts with ref (with or without the "inc-" prefix),
// so that people can type the short IDs of a listing. It returns an error
// wrapping ErrNotFound or ErrAmbiguous. A prefix costs a read of the
// by-status index (incident ids only).
func (s *Store) Find(ctx context.Context, ref string) (incident.Incident, error) {
	in, err := s.Get(ctx, ref)
	if !errors.Is(err, ErrNotFound) || ref == "" {
		return in, err
	}
	var matches []string
	for _, st := range []incident.Status{incident.StatusOpen, incident.StatusAcknowledged, incident.StatusResolved} {
		err := s.queryIndex(ctx, indexQuery{status: st, projection: []string{attrIncidentID}}, func(item map[string]types.AttributeValue) error {
			d := decoder{item: item}
			id := d.str(attrIncidentID, true)
			if strings.HasPrefix(id, ref) || strings.HasPrefix(strings.TrimPrefix(id, "inc-"), ref) {
				matches = append(matches, id)
			}
			return d.err
		})
		if err != nil {
			return incident.Incident{}, fmt.Errorf("find incident %s: %w", ref, err)
		}
	}
	switch len(matches) {
	case 0:
		return incident.Incident{}, notFound(ref)
	case 1:
		return s.Get(ctx, matches[0])
	}
	slices.Sort(matches)
	if len(matches) > 5 {
		matches = append(matches[:5], "...")
	}
	return incident.Incident{}, fmt.Errorf("%w: %q matches %s", ErrAmbiguous, ref, strings.Join(matches, ", "))
}

// List returns the incidents that f selects, most recently seen first (ties
// by ID). It queries the by-status index, once per status when f has none,
// following every page, and never scans the table. The index is eventually
// consistent: a write may take a moment to show.
func (s *Store) List(ctx context.Context, f Filter) ([]incident.Incident, error) {
	statuses, err := f.statuses()
	if err != nil {
		return nil, err
	}
	var all []incident.Incident
	for _, st := range statuses {
		err := s.queryIndex(ctx, indexQuery{status: st, filter: f, limit: max(f.Limit, 0)}, func(item map[string]types.AttributeValue) error {
			in, err := decodeIncident(item)
			all = append(all, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
	}
	slices.SortFunc(all, newestFirst)
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}

func newestFirst(a, b incident.Incident) int {
	if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Changes returns the incidents that f selects (f.Limit aside) written
// after the given time, by updated_at, oldest change first. It reads the
// by-status index within f.Since and filters on updated_at on the server.
func (s *Store) Changes(ctx context.Context, f Filter, after time.Time) ([]incident.Incident, error) {
	statuses, err := f.statuses()
	if err != nil {
		return nil, err
	}
	var changed []incident.Incident
	for _, st := range statuses {
		err := s.queryIndex(ctx, indexQuery{status: st, filter: f, updatedAfter: after}, func(item map[string]types.AttributeValue) error {
			in, err := decodeIncident(item)
			changed = append(changed, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list changed incidents: %w", err)
		}
	}
	slices.SortFunc(changed, func(a, b incident.Incident) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	return changed, nil
}

// Tally counts incidents and their occurrences.
type Tally struct {
	Incidents   int
	Occurrences int64
}

func (t *Tally) add(occurrences int64) {
	t.Incidents++
	t.Occurrences += occurrences
}

func bump[K comparable](m map[K]Tally, k K, occurrences int64) {
	t := m[k]
	t.add(occurrences)
	m[k] = t
}

// NewStats returns empty Stats, ready for Add.
func NewStats() Stats {
	return Stats{
		ByStatus:   map[incident.Status]Tally{},
		BySeverity: map[incident.Severity]Tally{},
		ByLogGroup: map[string]Tally{},
	}
}

// Add counts one incident in the total and in its status, severity and log
// group.
func (st *Stats) Add(in incident.Incident) {
	st.Total.add(in.Occurrences)
	bump(st.ByStatus, in.Status, in.Occurrences)
	bump(st.BySeverity, in.Severity, in.Occurrences)
	bump(st.ByLogGroup, in.LogGroup, in.Occurrences)
}

// Stats counts the incidents that a Filter selects.
type Stats struct {
	Total      Tally
	ByStatus   map[incident.Status]Tally
	BySeverity map[incident.Severity]Tally
	ByLogGroup map[string]Tally
}

// Stats counts the incidents that f selects (f.Limit aside) by status,
// severity and log group. Like List it queries the by-status index, reading
// only the attributes it counts.
func (s *Store) Stats(ctx context.Context, f Filter) (Stats, error) {
	statuses, err := f.statuses()
	if err != nil {
		return Stats{}, err
	}
	st := NewStats()
	for _, status := range statuses {
		q := indexQuery{status: status, filter: f, projection: []string{attrPK, attrStatus, attrSeverity, attrLogGroup, attrOccurrences}}
		err := s.queryIndex(ctx, q, func(item map[string]types.AttributeValue) error {
			d := decoder{item: item}
			status := incident.Status(d.str(attrStatus, true))
			sev := incident.ParseSeverity(d.str(attrSeverity, true))
			group := d.str(attrLogGroup, true)
			n := d.num(attrOccurrences, true)
			if d.err != nil {
				return fmt.Errorf("decode incident item %s: %w", keyOf(item), d.err)
			}
			st.Add(incident.Incident{Status: status, Severity: sev, LogGroup: group, Occurrences: n})
			return nil
		})
		if err != nil {
			return Stats{}, fmt.Errorf("count incidents: %w", err)
		}
	}
	return st, nil
}

// indexQuery is one query of the by-status index.
type indexQuery struct {
	status       incident.Status
	filter       Filter    // LogGroup and Since; Status and Limit are the caller's
	updatedAfter time.Time // updated_at after this; zero: any
	projection   []string  // attributes to read; empty: all
	limit        int       // stop after this many items; 0: read every page
}

// placeholder names an attribute in an expression.
func placeholder(attr string) string { return "#" + strings.ReplaceAll(attr, "_", "") }

// queryIndex runs q, most recent last_seen first, calling fn for every item
// until the pages or q.limit run out.
func (s *Store) queryIndex(ctx context.Context, q indexQuery, fn func(map[string]types.AttributeValue) error) error {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	ref := func(attr string) string { p := placeholder(attr); names[p] = attr; return p }

	key := ref(attrStatus) + " = :status"
	values[":status"] = str(string(q.status))
	if !q.filter.Since.IsZero() {
		key += " AND " + ref(attrLastSeen) + " >= :since"
		values[":since"] = str(formatTime(q.filter.Since))
	}
	var conds []string
	if q.filter.LogGroup != "" {
		conds = append(conds, ref(attrLogGroup)+" = :loggroup")
		values[":loggroup"] = str(q.filter.LogGroup)
	}
	if !q.updatedAfter.IsZero() {
		conds = append(conds, ref(attrUpdatedAt)+" > :after")
		values[":after"] = str(formatTime(q.updatedAfter))
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(StatusIndex),
		KeyConditionExpression:    &key,
		ScanIndexForward:          aws.Bool(false),
		ExpressionAttributeValues: values,
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	if len(q.projection) > 0 {
		refs := make([]string, len(q.projection))
		for i, a := range q.projection {
			refs[i] = ref(a)
		}
		in.ProjectionExpression = aws.String(strings.Join(refs, ", "))
	}
	in.ExpressionAttributeNames = names

	n := 0
	for {
		switch {
		case s.pageSize > 0:
			in.Limit = &s.pageSize
		case q.limit > 0 && in.FilterExpression == nil:
			// Without a filter every item read is a result: read no more than needed.
			in.Limit = aws.Int32(int32(min(q.limit-n, 1000)))
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s incidents: %w", q.status, err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
			if n++; q.limit > 0 && n >= q.limit {
				return nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
