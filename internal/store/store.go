package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/backoff"
	"github.com/logalert/logalert/internal/incident"
)

// ChunkSize is how many incidents one transaction writes: each takes two
// of the 100 items a TransactWriteItems may hold, and the chunk's incidents
// and markers fit the 100 keys of one BatchGetItem.
const ChunkSize = 49

// dynamoAPI is the subset of *dynamodb.Client that Store calls: Record and
// Announce here and in alerts.go, the read and update side through queryAPI
// (query.go).
type dynamoAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	queryAPI
}

// retryPolicy spaces the store's own retries (transaction conflicts,
// unprocessed batch items): up to 25 ms, 50 ms, … 1.6 s.
var retryPolicy = backoff.Policy{Base: 25 * time.Millisecond, Max: 1600 * time.Millisecond}

// ErrContention reports that a chunk's transaction kept being cancelled by
// concurrent writers until Record gave up; the caller should fail so the
// delivery is retried.
var ErrContention = errors.New("store: write contention, retries exhausted")

// Store reads and writes incidents in one DynamoDB table.
type Store struct {
	db       dynamoAPI
	table    string
	now      func() time.Time
	pageSize int32         // Query page size; 0: DynamoDB's (1 MB pages)
	lease    time.Duration // how long a claimed alert stays reserved
	alerts   bool          // opened and reopened incidents owe an alert
	burst    int           // alerts of a log group that go out alone per window; 0: all
	window   time.Duration // the window of burst, whole seconds
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps created_at/updated_at and marker
// expiry (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithAlertLease sets how long a claimed alert stays reserved for its
// claimer (default AlertLease).
func WithAlertLease(d time.Duration) Option { return func(s *Store) { s.lease = d } }

// WithAlerts sets whether incidents that Record opens or reopens owe an
// alert (default true): a deployment without an alerts topic turns them
// off, so that its markers carry none.
func WithAlerts(on bool) Option { return func(s *Store) { s.alerts = on } }

// DefaultMarkerTTL is how long idempotency markers live: longer than the
// dead-letter queue keeps a payload (14 days, SQS's maximum), so that a
// payload redriven on its last day still finds the markers of the parts
// that were recorded before it failed.
const DefaultMarkerTTL = 21 * 24 * time.Hour

// DefaultMaxAttempts bounds how often Record tries one chunk when
// concurrent writers keep cancelling its transaction. Record also stops a
// second before the context's deadline, so that a Lambda invocation fails
// cleanly (and is retried) instead of timing out.
const DefaultMaxAttempts = 25

// New returns a Store on table, using db (usually a *dynamodb.Client) for
// every request.
func New(db dynamoAPI, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table, now: time.Now, lease: AlertLease, alerts: true}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Result counts what Record did.
type Result struct {
	Duplicates int     // incidents this delivery had already been applied to
	Opened     int     // incidents created
	Reopened   int     // RESOLVED incidents reopened
	Alerts     []Alert // for Announce; includes alerts left unpublished by an earlier attempt
}

// Record applies the deltas of one delivery exactly once (see the package
// documentation). Unless WithAlerts turned them off, the markers of opened
// and reopened incidents carry a pending alert, which Result.Alerts hands
// out for Announce. It returns ErrContention when retries run
// out, or the DynamoDB error that stopped it; either way the chunks
// committed before stay committed and a redelivery skips them.
func (s *Store) Record(ctx context.Context, delivery string, deltas []incident.Delta) (Result, error) {
	var res Result
	for start := 0; start < len(deltas); start += ChunkSize {
		chunk := deltas[start:min(start+ChunkSize, len(deltas))]
		if err := s.recordChunk(ctx, delivery, chunk, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Store) recordChunk(ctx context.Context, delivery string, chunk []incident.Delta, res *Result) error {
	var (
		current map[string]incident.Incident
		markers map[string]map[string]types.AttributeValue
	)
	for attempt := 1; ; attempt++ {
		var err error
		if current == nil {
			if current, markers, err = s.load(ctx, delivery, chunk); err != nil {
				return err
			}
		}
		w := s.plan(delivery, chunk, current, markers)
		if len(w.items) > 0 {
			_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: w.items})
		}
		if err == nil {
			res.Duplicates += w.dups
			res.Opened += w.opened
			res.Reopened += w.reopened
			res.Alerts = append(res.Alerts, w.alerts...)
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) || !retryable(canceled) {
			return fmt.Errorf("write %d incidents: %w", len(w.items)/2, err)
		}
		if !learn(canceled, current, markers) {
			current, markers = nil, nil // read again
		}
		if err := backOff(ctx, attempt, err); err != nil {
			return fmt.Errorf("write %d incidents: %w", len(w.items)/2, err)
		}
	}
}

// learn updates what Record read of a chunk with the items that a
// cancelled transaction's failed conditions returned (every write asks
// for them, ReturnValuesOnConditionCheckFailure ALL_OLD): the incident a
// racing delivery created or moved, the marker a concurrent redelivery
// committed. It reports whether that is all the retry needs, so that it
// can skip the read: a failed condition without its item needs a fresh
// read, while an item that was only throttled or in conflict with another
// request needs nothing new. The other items keep what was read, which is
// safe: every write's condition, not the read, keeps the incident right,
// and a stale read only makes a condition fail once more, with its item.
func learn(canceled *types.TransactionCanceledException, current map[string]incident.Incident, markers map[string]map[string]types.AttributeValue) bool {
	for _, r := range canceled.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
		case "", "None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			continue // nothing changed that the retry must know
		default:
			return false
		}
		if len(r.Item) == 0 {
			return false
		}
		if _, isIncident := r.Item[attrIncidentID]; !isIncident {
			pk, ok := r.Item[attrPK].(*types.AttributeValueMemberS)
			if !ok {
				return false
			}
			markers[pk.Value] = r.Item
			continue
		}
		in, err := decodeIncident(r.Item)
		if err != nil {
			return false
		}
		current[in.ID] = in
	}
	return true
}

// backOff waits before retrying a write that lost a race (lastErr), with
// jittered exponential backoff. It returns an error wrapping ErrContention
// and lastErr when attempt was the last (DefaultMaxAttempts) or the wait
// would end less than a second before ctx's deadline, so that a Lambda
// invocation fails cleanly and is retried instead of timing out; and ctx's
// error if ctx ends while it waits.
func backOff(ctx context.Context, attempt int, lastErr error) error {
	wait := retryPolicy.Delay(attempt)
	if attempt >= DefaultMaxAttempts || !backoff.TimeLeft(ctx, wait+time.Second) {
		return fmt.Errorf("after %d attempts: %w: %w", attempt, ErrContention, lastErr)
	}
	return backoff.Sleep(ctx, wait)
}

// retryConflicts calls write until it does not fail with a
// TransactionConflictException, DynamoDB's answer to a single-item write
// on an item that a transaction is writing at that moment (the SDK does not
// retry it), backing off between tries (backOff).
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		var conflict *types.TransactionConflictException
		if !errors.As(err, &conflict) {
			return err
		}
		if err := backOff(ctx, attempt, err); err != nil {
			return err
		}
	}
}

// chunkWrite is what one attempt at a chunk writes and what it will report.
type chunkWrite struct {
	items                  []types.TransactWriteItem // incident and marker, per incident not yet applied
	alerts                 []Alert
	dups, opened, reopened int
}

// plan computes the transaction for a chunk from what load read: deltas
// whose marker exists are skipped (handing out an alert they still carry);
// every other one becomes a version-conditioned incident Put and a marker
// Put conditioned on the marker not existing.
func (s *Store) plan(delivery string, chunk []incident.Delta, current map[string]incident.Incident, markers map[string]map[string]types.AttributeValue) chunkWrite {
	now := s.now().UTC()
	expires := now.Add(DefaultMarkerTTL).Unix()
	var w chunkWrite
	for _, d := range chunk {
		key := markerKey(delivery, d.ID)
		if m, ok := markers[key]; ok {
			w.dups++
			if a, ok := pendingAlert(m, current[d.ID], key, now); ok {
				w.alerts = append(w.alerts, a)
			}
			continue
		}
		var (
			next   incident.Incident
			change incident.Change
			write  types.TransactWriteItem
		)
		if prev, ok := current[d.ID]; ok {
			next, change = prev.Apply(d, now)
			write.Update = s.occurrenceUpdate(prev, d, change, now)
		} else {
			next, change = incident.Open(d, now), incident.Opened
			write.Put = &types.Put{
				TableName: &s.table, Item: incidentItem(next),
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}
		}
		marker := markerItem(key, expires)
		switch change {
		case incident.Opened:
			w.opened++
		case incident.Reopened:
			w.reopened++
		}
		if s.alerts && change != incident.Updated {
			// The alert is born claimed by this delivery: only the
			// transaction that commits the marker takes its lease, so
			// announcing it costs no extra write.
			lease := now.Add(s.lease).UnixMilli()
			marker[attrAlert], marker[attrAlertLease] = str(change.String()), num(lease)
			w.alerts = append(w.alerts, Alert{Change: change, Incident: next, marker: key, expires: expires, lease: lease})
		}
		w.items = append(w.items, write,
			types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: marker,
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
		)
	}
	return w
}

// occurrenceUpdate adds d to the incident that the read found as prev,
// without conditioning on prev's version, so that concurrent deliveries of
// one incident do not cancel one another: the counters are added (ADD
// occurrences and version, which need no condition), and every other
// attribute is set only when d moves it, under the condition that no
// racing write has moved it as far meanwhile: last_seen (with the sample
// and its stream) only if it is not later than d's, first_seen only if it
// is later than d's, the severity only if it is below d's. A reopen is
// conditioned on the incident still being the RESOLVED one the read found,
// and any other update on the incident not having been resolved since the
// read, so that events newer than a resolve always reopen. When a condition
// fails the transaction is cancelled, and Record reads again and retries.
func (s *Store) occurrenceUpdate(prev incident.Incident, d incident.Delta, change incident.Change, now time.Time) *types.Update {
	var (
		names            = map[string]string{}
		values           = map[string]types.AttributeValue{}
		set, add, remove []string
		conds            = []string{"attribute_exists(#pk)"}
	)
	names["#pk"] = attrPK
	ref := func(attr string, v types.AttributeValue) (string, string) {
		p := placeholder(attr)
		names[p] = attr
		if v == nil {
			return p, ""
		}
		values[":"+p[1:]] = v
		return p, ":" + p[1:]
	}
	assign := func(attr string, v types.AttributeValue) {
		p, val := ref(attr, v)
		set = append(set, p+" = "+val)
	}
	p, v := ref(attrOccurrences, num(d.Count))
	add = append(add, p+" "+v)
	p, v = ref(attrVersion, num(1))
	add = append(add, p+" "+v)
	assign(attrUpdatedAt, str(formatTime(now)))
	if !d.LastSeen.Before(prev.LastSeen) {
		assign(attrLastSeen, str(formatTime(d.LastSeen)))
		assign(attrSampleMessage, str(d.Sample))
		if d.LogStream != "" {
			assign(attrLogStream, str(d.LogStream))
		} else {
			p, _ := ref(attrLogStream, nil)
			remove = append(remove, p)
		}
		p, _ := ref(attrLastSeen, nil)
		conds = append(conds, p+" <= :"+p[1:])
	}
	if prev.AccountID == "" && d.AccountID != "" { // an item from before accounts were recorded
		assign(attrAccountID, str(d.AccountID))
	}
	if d.FirstSeen.Before(prev.FirstSeen) {
		assign(attrFirstSeen, str(formatTime(d.FirstSeen)))
		p, _ := ref(attrFirstSeen, nil)
		conds = append(conds, p+" > :"+p[1:])
	}
	if d.Severity > prev.Severity {
		assign(attrSeverity, str(d.Severity.String()))
		p, _ := ref(attrSeverity, nil)
		var atLeast []string
		for sev := d.Severity; sev <= incident.SeverityCritical; sev++ {
			k := fmt.Sprintf(":sev%d", sev)
			values[k] = str(sev.String())
			atLeast = append(atLeast, k)
		}
		conds = append(conds, "NOT ("+p+" IN ("+strings.Join(atLeast, ", ")+"))")
	}
	switch {
	case change == incident.Reopened:
		status, _ := ref(attrStatus, nil)
		values[":resolved"] = str(string(incident.StatusResolved))
		assign(attrStatus, str(string(incident.StatusOpen)))
		assign(attrStatusShard, str(statusShard(incident.StatusOpen, d.ID)))
		p, v := ref(attrReopenCount, num(1))
		add = append(add, p+" "+v)
		resolvedAt, _ := ref(attrResolvedAt, nil)
		if prev.ResolvedAt.IsZero() {
			conds = append(conds, status+" = :resolved AND attribute_not_exists("+resolvedAt+")")
		} else {
			values[":prevresolvedat"] = str(formatTime(prev.ResolvedAt))
			conds = append(conds, status+" = :resolved AND "+resolvedAt+" = :prevresolvedat")
		}
	case prev.Status != incident.StatusResolved:
		status, _ := ref(attrStatus, nil)
		values[":resolved"] = str(string(incident.StatusResolved))
		conds = append(conds, status+" <> :resolved")
	}
	update := "SET " + strings.Join(set, ", ") + " ADD " + strings.Join(add, ", ")
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	return &types.Update{
		TableName:                           &s.table,
		Key:                                 map[string]types.AttributeValue{attrPK: str(d.ID)},
		UpdateExpression:                    &update,
		ConditionExpression:                 aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// retryable reports whether a cancelled transaction may succeed on a fresh
// read after a backoff: it lost a race (a condition on a version or marker
// failed, or another transaction held an item), or one of its items was
// throttled (DynamoDB reports throttling inside a transaction as a
// cancellation reason, which the SDK's retryer does not retry). Any other
// reason (validation, size) is returned to the caller as it is.
func retryable(e *types.TransactionCanceledException) bool {
	for _, r := range e.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None", "ConditionalCheckFailed", "TransactionConflict",
			"ThrottlingError", "ProvisionedThroughputExceeded":
		default:
			return false
		}
	}
	return true
}

// load reads the chunk's incidents and markers in one consistent
// BatchGetItem, following UnprocessedKeys.
func (s *Store) load(ctx context.Context, delivery string, chunk []incident.Delta) (map[string]incident.Incident, map[string]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(chunk))
	for _, d := range chunk {
		keys = append(keys,
			map[string]types.AttributeValue{attrPK: str(d.ID)},
			map[string]types.AttributeValue{attrPK: str(markerKey(delivery, d.ID))})
	}
	current := make(map[string]incident.Incident, len(chunk))
	markers := make(map[string]map[string]types.AttributeValue)
	err := s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
		if _, ok := item[attrIncidentID]; !ok {
			markers[item[attrPK].(*types.AttributeValueMemberS).Value] = item
			return nil
		}
		in, err := decodeIncident(item)
		current[in.ID] = in
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %d incidents: %w", len(chunk), err)
	}
	return current, markers, nil
}

// maxBatchGet is how many keys one BatchGetItem may hold.
const maxBatchGet = 100

// batchGet reads keys in BatchGetItem requests of up to maxBatchGet keys,
// following UnprocessedKeys with backoff, and calls fn with every item
// found, stopping at its first error.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, fn func(map[string]types.AttributeValue) error) error {
	for start := 0; start < len(keys); start += maxBatchGet {
		part := keys[start:min(start+maxBatchGet, len(keys))]
		req := map[string]types.KeysAndAttributes{s.table: {Keys: part, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 1; len(req) > 0; attempt++ {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			for _, item := range out.Responses[s.table] {
				if err := fn(item); err != nil {
					return err
				}
			}
			req = out.UnprocessedKeys
			if len(req) > 0 {
				if err := backoff.Sleep(ctx, retryPolicy.Delay(attempt)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
