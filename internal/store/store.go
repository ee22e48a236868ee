package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
// ClearAlerts here, the read and update side through queryAPI (query.go).
type dynamoAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
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
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps created_at/updated_at and marker
// expiry (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithAlertLease sets how long a claimed alert stays reserved for its
// claimer (default AlertLease).
func WithAlertLease(d time.Duration) Option { return func(s *Store) { s.lease = d } }

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
	s := &Store{db: db, table: table, now: time.Now, lease: AlertLease}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Alert is an incident that a write opened or reopened and that has not
// been announced yet.
type Alert struct {
	Change   incident.Change // Opened or Reopened
	Incident incident.Incident
	marker   string
	expires  int64
	lease    int64 // the lease ClaimAlerts took, ms since the epoch
}

// Result counts what Record did.
type Result struct {
	Applied    int     // incidents updated by this call
	Duplicates int     // incidents this delivery had already been applied to
	Opened     int     // incidents created
	Reopened   int     // RESOLVED incidents reopened
	Alerts     []Alert // to publish, then ClearAlerts; includes alerts left unpublished by an earlier attempt
}

// Record applies the deltas of one delivery exactly once (see the package
// documentation). With alerts set, the markers of opened and reopened
// incidents carry a pending alert. It returns ErrContention when retries run
// out, or the DynamoDB error that stopped it; either way the chunks
// committed before stay committed and a redelivery skips them.
func (s *Store) Record(ctx context.Context, delivery string, deltas []incident.Delta, alerts bool) (Result, error) {
	var res Result
	for start := 0; start < len(deltas); start += ChunkSize {
		chunk := deltas[start:min(start+ChunkSize, len(deltas))]
		if err := s.recordChunk(ctx, delivery, chunk, alerts, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Store) recordChunk(ctx context.Context, delivery string, chunk []incident.Delta, alerts bool, res *Result) error {
	for attempt := 1; ; attempt++ {
		current, markers, err := s.load(ctx, delivery, chunk)
		if err != nil {
			return err
		}
		w := s.plan(delivery, chunk, current, markers, alerts)
		if len(w.items) > 0 {
			_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: w.items})
		}
		if err == nil {
			res.Applied += len(w.items) / 2
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
		wait := retryPolicy.Delay(attempt)
		if attempt >= DefaultMaxAttempts || !backoff.TimeLeft(ctx, wait+time.Second) {
			return fmt.Errorf("write %d incidents after %d attempts: %w: %w", len(w.items)/2, attempt, ErrContention, err)
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
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
func (s *Store) plan(delivery string, chunk []incident.Delta, current map[string]incident.Incident, markers map[string]map[string]types.AttributeValue, alerts bool) chunkWrite {
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
			cond   string
			names  map[string]string
			values map[string]types.AttributeValue
		)
		if prev, ok := current[d.ID]; ok {
			next, change = prev.Apply(d, now)
			cond, names = "#v = :v", map[string]string{"#v": attrVersion}
			values = map[string]types.AttributeValue{":v": num(prev.Version)}
		} else {
			next, change = incident.Open(d, now), incident.Opened
			cond, names = "attribute_not_exists(#pk)", map[string]string{"#pk": attrPK}
		}
		marker := map[string]types.AttributeValue{attrPK: str(key), attrExpiresAt: num(expires)}
		switch change {
		case incident.Opened:
			w.opened++
		case incident.Reopened:
			w.reopened++
		}
		if alerts && change != incident.Updated {
			// The alert is born claimed by this delivery: only the
			// transaction that commits the marker takes its lease, so
			// announcing it costs no extra write.
			lease := now.Add(s.lease).UnixMilli()
			marker[attrAlert], marker[attrAlertLease] = str(change.String()), num(lease)
			w.alerts = append(w.alerts, Alert{Change: change, Incident: next, marker: key, expires: expires, lease: lease})
		}
		w.items = append(w.items,
			types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: incidentItem(next),
				ConditionExpression: &cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			}},
			types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: marker,
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attrPK},
			}},
		)
	}
	return w
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
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 1; len(req) > 0; attempt++ {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, nil, fmt.Errorf("read %d incidents: %w", len(chunk), err)
		}
		for _, item := range out.Responses[s.table] {
			if _, ok := item[attrIncidentID]; !ok {
				markers[item[attrPK].(*types.AttributeValueMemberS).Value] = item
				continue
			}
			in, err := decodeIncident(item)
			if err != nil {
				return nil, nil, err
			}
			current[in.ID] = in
		}
		req = out.UnprocessedKeys
		if len(req) > 0 {
			if err := backoff.Sleep(ctx, retryPolicy.Delay(attempt)); err != nil {
				return nil, nil, err
			}
		}
	}
	return current, markers, nil
}

// pendingAlert returns the alert a marker still carries, if any.
func pendingAlert(marker map[string]types.AttributeValue, in incident.Incident, key string, now time.Time) (Alert, bool) {
	v, ok := marker[attrAlert].(*types.AttributeValueMemberS)
	if !ok || in.ID == "" {
		return Alert{}, false
	}
	change := incident.Opened
	if v.Value == incident.Reopened.String() {
		change = incident.Reopened
	}
	expires := now.Add(DefaultMarkerTTL).Unix() // for a marker that lost its expiry
	if e, ok := marker[attrExpiresAt].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(e.Value, 10, 64); err == nil && n > 0 {
			expires = n
		}
	}
	return Alert{Change: change, Incident: in, marker: key, expires: expires}, true
}

// AlertLease is how long a claimed alert stays reserved for the delivery
// that claimed it, by default. Past it, another delivery may claim the alert
// again: the claimer died between claiming and clearing, so the alert is
// still owed.
const AlertLease = 30 * time.Second

// ClaimAlerts reserves alerts for this caller before it publishes them.
// Alerts that Record created in this call are claimed already (their marker
// was written with the lease); any other, a pending alert Record found, is
// claimed by a conditional update of the alert's marker that succeeds only
// while the alert is pending and nobody holds an unexpired lease on it, so of
// several deliveries racing on one payload (a concurrent redelivery) exactly
// one publishes each alert. It returns the alerts this caller won, and those
// another caller holds: still pending, under a live lease. Those are not
// done: the caller must wait and claim them again (the holder clears them,
// or its lease runs out), or fail so that its delivery is retried. Alerts
// that are neither were published already. On error, won holds the claims
// taken so far, to release.
func (s *Store) ClaimAlerts(ctx context.Context, alerts []Alert) (won, held []Alert, err error) {
	now := s.now()
	for _, a := range alerts {
		if a.lease != 0 { // claimed by the Record that created it
			won = append(won, a)
			continue
		}
		until := now.Add(s.lease).UnixMilli()
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           &s.table,
			Key:                                 map[string]types.AttributeValue{attrPK: str(a.marker)},
			UpdateExpression:                    aws.String("SET #lease = :until"),
			ConditionExpression:                 aws.String("attribute_exists(#alert) AND (attribute_not_exists(#lease) OR #lease < :now)"),
			ExpressionAttributeNames:            map[string]string{"#alert": attrAlert, "#lease": attrAlertLease},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":until": num(until), ":now": num(now.UnixMilli())},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var failed *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &failed):
			if _, pending := failed.Item[attrAlert]; pending {
				held = append(held, a) // another delivery is publishing it
			}
		case err != nil:
			return won, held, fmt.Errorf("claim the alert of %s: %w", a.Incident.ID, err)
		default:
			a.lease = until
			won = append(won, a)
		}
	}
	return won, held, nil
}

// ReleaseAlerts gives up the claims on alerts that could not be published,
// so that the redelivery that follows can claim them at once instead of
// after AlertLease. A lease taken over by someone else meanwhile is left
// alone.
func (s *Store) ReleaseAlerts(ctx context.Context, alerts []Alert) error {
	var errs []error
	for _, a := range alerts {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(a.marker)},
			UpdateExpression:          aws.String("REMOVE #lease"),
			ConditionExpression:       aws.String("#lease = :mine"),
			ExpressionAttributeNames:  map[string]string{"#lease": attrAlertLease},
			ExpressionAttributeValues: map[string]types.AttributeValue{":mine": num(a.lease)},
		})
		var taken *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &taken) {
			errs = append(errs, fmt.Errorf("release the alert of %s: %w", a.Incident.ID, err))
		}
	}
	return errors.Join(errs...)
}

// ClearAlerts marks alerts as published: it rewrites their markers without
// the alert attribute (and its lease), 25 to a BatchWriteItem.
func (s *Store) ClearAlerts(ctx context.Context, alerts []Alert) error {
	for start := 0; start < len(alerts); start += 25 {
		var reqs []types.WriteRequest
		for _, a := range alerts[start:min(start+25, len(alerts))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				attrPK: str(a.marker), attrExpiresAt: num(a.expires),
			}}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 1; len(pending) > 0; attempt++ {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("clear %d alerts: %w", len(reqs), err)
			}
			pending = out.UnprocessedItems
			if len(pending) > 0 {
				if err := backoff.Sleep(ctx, retryPolicy.Delay(attempt)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
