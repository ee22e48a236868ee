package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/incident"
)

// queryAPI is the subset of *dynamodb.Client that the read and update side
// (Get, Find, List, Changes, Stats, Watch, Acknowledge, Resolve,
// MigrateIndex) calls.
type queryAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
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
	// Account is an AWS account id; empty: every account. The status
	// index does not hold account_id, so a read with Account reads the
	// incidents it selects otherwise from the table, and keeps the
	// account's; incidents stored before accounts were recorded have none
	// and match no Account.
	Account string
	Since   time.Time // last_seen at or after Since; zero: any time
	Limit   int       // at most Limit incidents, most recent first; 0: no limit
}

// keep reports whether in is of f's account, if f names one.
func (f Filter) keep(in incident.Incident) bool { return f.Account == "" || in.AccountID == f.Account }

// statuses returns the statuses whose index shards f reads.
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
// status index (incident ids only).
func (s *Store) Find(ctx context.Context, ref string) (incident.Incident, error) {
	return s.FindIn(ctx, ref, "")
}

// FindIn is Find among the incidents of account (every account when it is
// empty), for a prefix that several accounts share: an incident of another
// account is not found. A prefix with account costs, besides Find's read
// of the index, a read by key of the incidents it matches.
func (s *Store) FindIn(ctx context.Context, ref, account string) (incident.Incident, error) {
	f := Filter{Account: account}
	in, err := s.Get(ctx, ref)
	if err == nil && !f.keep(in) {
		err = notFound(ref + " in account " + account)
	}
	if !errors.Is(err, ErrNotFound) || ref == "" {
		return in, err
	}
	all := []incident.Status{incident.StatusOpen, incident.StatusAcknowledged, incident.StatusResolved}
	items, err := s.queryIndex(ctx, indexQuery{statuses: all, projection: []string{attrIncidentID}})
	if err != nil {
		return incident.Incident{}, fmt.Errorf("find incident %s: %w", ref, err)
	}
	var matches []string
	for _, item := range items {
		d := decoder{item: item}
		id := d.str(attrIncidentID, true)
		if d.err != nil {
			return incident.Incident{}, fmt.Errorf("find incident %s: decode index item %s: %w", ref, keyOf(item), d.err)
		}
		if strings.HasPrefix(id, ref) || strings.HasPrefix(strings.TrimPrefix(id, "inc-"), ref) {
			matches = append(matches, id)
		}
	}
	if account != "" && len(matches) > 0 {
		ins, err := s.getMany(ctx, matches)
		if err != nil {
			return incident.Incident{}, fmt.Errorf("find incident %s: %w", ref, err)
		}
		matches = matches[:0]
		for _, in := range ins {
			if f.keep(in) {
				matches = append(matches, in.ID)
			}
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
// by ID). It queries the StatusShards partitions of the status index of
// each status f selects (all three when it has none), following every page
// but reading no more than f.Limit items of each, merges them and keeps the
// f.Limit most recent; then it reads those incidents from the table by key
// (BatchGetItem), since the index does not hold every attribute. With an
// Account it reads every shard to the end and the incidents by key, most
// recent first, until it has f.Limit of the account's. It never scans the
// table. The index is eventually consistent: a write may take a moment to
// show.
func (s *Store) List(ctx context.Context, f Filter) ([]incident.Incident, error) {
	statuses, err := f.statuses()
	if err != nil {
		return nil, err
	}
	perShard := max(f.Limit, 0)
	if f.Account != "" {
		perShard = 0
	}
	items, err := s.queryIndex(ctx, indexQuery{statuses: statuses, filter: f, limit: perShard, projection: []string{attrIncidentID, attrLastSeen}})
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	type ref struct {
		id       string
		lastSeen time.Time
	}
	refs := make([]ref, 0, len(items))
	for _, item := range items {
		d := decoder{item: item}
		r := ref{d.str(attrIncidentID, true), d.time(attrLastSeen, true)}
		if d.err != nil {
			return nil, fmt.Errorf("list incidents: decode index item %s: %w", keyOf(item), d.err)
		}
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Or(b.lastSeen.Compare(a.lastSeen), strings.Compare(a.id, b.id)) })
	if f.Limit > 0 && f.Account == "" && len(refs) > f.Limit {
		refs = refs[:f.Limit]
	}
	ids := make([]string, 0, len(refs))
	seen := make(map[string]bool, len(refs))
	for _, r := range refs {
		if !seen[r.id] { // in two shards if its status changed meanwhile
			seen[r.id] = true
			ids = append(ids, r.id)
		}
	}
	var all []incident.Incident
	for start := 0; start < len(ids) && (f.Limit <= 0 || len(all) < f.Limit); start += maxBatchGet {
		got, err := s.getMany(ctx, ids[start:min(start+maxBatchGet, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		all = append(all, slices.DeleteFunc(got, func(in incident.Incident) bool { return !f.keep(in) })...)
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

// getMany reads the incidents ids from the table by key, in BatchGetItem
// requests of up to 100 keys, eventually consistent like the index that
// named them. An id without an incident is left out, and one named twice
// (an incident whose status changed while the index's shards were read
// shows in two of them; BatchGetItem refuses duplicate keys) is read once.
func (s *Store) getMany(ctx context.Context, ids []string) ([]incident.Incident, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, map[string]types.AttributeValue{attrPK: str(id)})
		}
	}
	var out []incident.Incident
	err := s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
		if _, ok := item[attrIncidentID]; !ok {
			return nil
		}
		in, err := decodeIncident(item)
		out = append(out, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %d incidents: %w", len(ids), err)
	}
	return out, nil
}

// Changes returns the incidents that f selects (f.Limit aside) written
// after the given time, by updated_at, oldest change first. It reads the
// status index within f.Since, filtering on updated_at on the server, and
// the changed incidents from the table by key.
func (s *Store) Changes(ctx context.Context, f Filter, after time.Time) ([]incident.Incident, error) {
	statuses, err := f.statuses()
	if err != nil {
		return nil, err
	}
	items, err := s.queryIndex(ctx, indexQuery{statuses: statuses, filter: f, updatedAfter: after, projection: []string{attrIncidentID}})
	if err != nil {
		return nil, fmt.Errorf("list changed incidents: %w", err)
	}
	ids := make([]string, 0, len(items))
	for _, item := range items {
		d := decoder{item: item}
		ids = append(ids, d.str(attrIncidentID, true))
		if d.err != nil {
			return nil, fmt.Errorf("list changed incidents: decode index item %s: %w", keyOf(item), d.err)
		}
	}
	changed, err := s.getMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list changed incidents: %w", err)
	}
	changed = slices.DeleteFunc(changed, func(in incident.Incident) bool { return !f.keep(in) })
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
		ByAccount:  map[string]Tally{},
	}
}

// Add counts one incident in the total and in its status, severity and log
// group, and in its account (the empty one for an incident stored before
// accounts were recorded) if st counts accounts (a non-nil ByAccount).
func (st *Stats) Add(in incident.Incident) {
	st.Total.add(in.Occurrences)
	bump(st.ByStatus, in.Status, in.Occurrences)
	bump(st.BySeverity, in.Severity, in.Occurrences)
	bump(st.ByLogGroup, in.LogGroup, in.Occurrences)
	if st.ByAccount != nil {
		bump(st.ByAccount, in.AccountID, in.Occurrences)
	}
}

// Stats counts the incidents that a Filter selects.
type Stats struct {
	Total      Tally
	ByStatus   map[incident.Status]Tally
	BySeverity map[incident.Severity]Tally
	ByLogGroup map[string]Tally
	ByAccount  map[string]Tally // nil when not counted (Stats without accounts)
}

// Stats counts the incidents that f selects (f.Limit aside) by status,
// severity and log group. Like List it queries the status index, but reads
// only the attributes it counts, all of them in the index: without an
// Account it reads no item of the table, and counts no accounts (ByAccount
// is nil). With one (or with accounts) it reads the selected incidents
// from the table by key, one request per 100, and counts them by account
// too.
func (s *Store) Stats(ctx context.Context, f Filter) (Stats, error) {
	return s.stats(ctx, f, f.Account != "")
}

// StatsByAccount is Stats counting accounts too, whatever f's Account.
func (s *Store) StatsByAccount(ctx context.Context, f Filter) (Stats, error) {
	return s.stats(ctx, f, true)
}

func (s *Store) stats(ctx context.Context, f Filter, accounts bool) (Stats, error) {
	statuses, err := f.statuses()
	if err != nil {
		return Stats{}, err
	}
	items, err := s.queryIndex(ctx, indexQuery{statuses: statuses, filter: f, projection: []string{attrPK, attrStatus, attrSeverity, attrLogGroup, attrOccurrences}})
	if err != nil {
		return Stats{}, fmt.Errorf("count incidents: %w", err)
	}
	st := NewStats()
	if accounts {
		return st, s.statsByKey(ctx, f, items, &st)
	}
	st.ByAccount = nil
	for _, item := range items {
		d := decoder{item: item}
		status := incident.Status(d.str(attrStatus, true))
		sev := incident.ParseSeverity(d.str(attrSeverity, true))
		group := d.str(attrLogGroup, true)
		n := d.num(attrOccurrences, true)
		if d.err != nil {
			return Stats{}, fmt.Errorf("count incidents: decode incident item %s: %w", keyOf(item), d.err)
		}
		st.Add(incident.Incident{Status: status, Severity: sev, LogGroup: group, Occurrences: n})
	}
	return st, nil
}

// statsByKey counts into st the incidents of f's account among the index
// items, read from the table by key.
func (s *Store) statsByKey(ctx context.Context, f Filter, items []map[string]types.AttributeValue, st *Stats) error {
	ids := make([]string, 0, len(items))
	for _, item := range items {
		d := decoder{item: item}
		ids = append(ids, d.str(attrPK, true))
		if d.err != nil {
			return fmt.Errorf("count incidents: decode index item %s: %w", keyOf(item), d.err)
		}
	}
	ins, err := s.getMany(ctx, ids)
	if err != nil {
		return fmt.Errorf("count incidents: %w", err)
	}
	for _, in := range ins {
		if f.keep(in) {
			st.Add(in)
		}
	}
	return nil
}

// indexParallelism bounds how many shard queries one read runs at once.
const indexParallelism = 4

// indexQuery is a read of the status index: of every shard of each of its
// statuses.
type indexQuery struct {
	statuses     []incident.Status
	filter       Filter    // LogGroup and Since; Status and Limit are the caller's
	updatedAfter time.Time // updated_at after this; zero: any
	projection   []string  // attributes to read; empty: all the index holds
	limit        int       // read at most this many items of each shard; 0: every page
}

// placeholder names an attribute in an expression.
func placeholder(attr string) string { return "#" + strings.ReplaceAll(attr, "_", "") }

// queryIndex runs q on every shard of its statuses, indexParallelism
// queries at a time, and returns the items of all, shard after shard,
// each shard's most recent last_seen first. The first error stops it.
func (s *Store) queryIndex(ctx context.Context, q indexQuery) ([]map[string]types.AttributeValue, error) {
	var shards []string
	for _, st := range q.statuses {
		for n := range uint32(StatusShards) {
			shards = append(shards, shardKey(st, n))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]map[string]types.AttributeValue, len(shards))
	errs := make([]error, len(shards))
	sem := make(chan struct{}, indexParallelism)
	var wg sync.WaitGroup
	for i, shard := range shards {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if results[i], errs[i] = s.queryShard(ctx, q, shard); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// A failure cancelled the others: report it, not their cancellation.
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
		first = cmp.Or(first, err)
	}
	if first != nil {
		return nil, first
	}
	return slices.Concat(results...), nil
}

// queryShard runs q on one shard of the index, most recent last_seen
// first, until the pages or q.limit run out.
func (s *Store) queryShard(ctx context.Context, q indexQuery, shard string) ([]map[string]types.AttributeValue, error) {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	ref := func(attr string) string { p := placeholder(attr); names[p] = attr; return p }

	key := ref(attrStatusShard) + " = :shard"
	values[":shard"] = str(shard)
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

	var items []map[string]types.AttributeValue
	for {
		switch {
		case s.pageSize > 0:
			in.Limit = &s.pageSize
		case q.limit > 0 && in.FilterExpression == nil:
			// Without a filter every item read is a result: read no more than needed.
			in.Limit = aws.Int32(int32(min(q.limit-len(items), 1000)))
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query %s incidents: %w", shard, err)
		}
		for _, item := range out.Items {
			items = append(items, item)
			if q.limit > 0 && len(items) >= q.limit {
				return items, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
