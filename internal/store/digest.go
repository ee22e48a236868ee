package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/backoff"
)

// This file groups alerts in a storm: the first few of a log group in a
// window go out alone, the rest are deferred into the window's digest,
// which Flush publishes once the window has ended (see "Alert storms" in
// the package documentation).

// WithAlertGrouping makes at most burst alerts of a log group go out alone
// per window (whole seconds); Announce defers the rest of the window's
// into one digest per log group and window, which Flush publishes. With
// burst or window zero or less (the default) every alert goes out alone.
func WithAlertGrouping(burst int, window time.Duration) Option {
	return func(s *Store) { s.burst, s.window = burst, window.Truncate(time.Second) }
}

// grouping reports whether alerts are grouped (WithAlertGrouping).
func (s *Store) grouping() bool { return s.burst > 0 && s.window > 0 }

// MaxDigestAlerts is how many alerts one digest holds at most, which
// bounds its item (every alert's marker key, about 100 bytes each, of the
// 400 KB an item may hold) and the work of one flush. Alerts beyond it go
// into the next window's digest.
const MaxDigestAlerts = 1000

// maxDeferChunk is how many alerts one deferral transaction moves: each
// takes an item of the 100 a transaction holds, besides the digest and the
// due item.
const maxDeferChunk = 98

// dueShards is how many due items list the digests to flush; a log group's
// digests are listed in one of them, so that deferrals of different log
// groups rarely write the same item at once. Flush reads them all with one
// BatchGetItem.
const dueShards = 16

// windowCounterTTL is how long a window's counter lives after the window.
const windowCounterTTL = 24 * time.Hour

// windowOf returns the window of the grouping that holds t.
func (s *Store) windowOf(t time.Time) (from, to time.Time) {
	w := int64(s.window / time.Second)
	start := t.Unix() - ((t.Unix()%w)+w)%w
	return time.Unix(start, 0).UTC(), time.Unix(start+w, 0).UTC()
}

// counterKey is the pk of the item counting the alerts of group in the
// window that starts at from.
func counterKey(group string, from time.Time) string {
	return "alertwin#" + strconv.FormatInt(from.Unix(), 10) + "#" + group
}

// digestKey is the pk of the digest of group for the window [from, to).
func digestKey(group string, from, to time.Time) string {
	return "digest#" + strconv.FormatInt(from.Unix(), 10) + "#" + strconv.FormatInt(to.Unix(), 10) + "#" + group
}

// parseDigestKey reads a digestKey back.
func parseDigestKey(key string) (group string, from, to time.Time, ok bool) {
	parts := strings.SplitN(key, "#", 4)
	if len(parts) != 4 || parts[0] != "digest" || parts[3] == "" {
		return "", time.Time{}, time.Time{}, false
	}
	f, err1 := strconv.ParseInt(parts[1], 10, 64)
	t, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return "", time.Time{}, time.Time{}, false
	}
	return parts[3], time.Unix(f, 0).UTC(), time.Unix(t, 0).UTC(), true
}

// dueKey is the pk of the due item that lists the digests of group.
func dueKey(group string) string {
	h := fnv.New32a()
	h.Write([]byte(group))
	return dueShardKey(h.Sum32() % dueShards)
}

func dueShardKey(n uint32) string { return fmt.Sprintf("alertdue#%02d", n) }

// incidentOfMarker is the incident ID at the end of a marker key.
func incidentOfMarker(key string) string { return key[strings.LastIndexByte(key, '#')+1:] }

// ration splits the alerts this caller won into those that go out alone
// and those deferred to their log group's digest: per log group, one
// UpdateItem adds their number to the window's counter, and the alerts
// the counter had room for under the burst go out alone, the most severe
// (then the most frequent) first. A slot whose alert then fails to publish
// is spent: the alert's retry is deferred instead.
func (s *Store) ration(ctx context.Context, won []Alert) (single, deferred []Alert, err error) {
	if !s.grouping() || len(won) == 0 {
		return won, nil, nil
	}
	from, to := s.windowOf(s.now())
	for _, group := range groupsOf(won) {
		alerts := group.alerts
		var out *dynamodb.UpdateItemOutput
		err := retryConflicts(ctx, func() error {
			var err error
			out, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 &s.table,
				Key:                       map[string]types.AttributeValue{attrPK: str(counterKey(group.name, from))},
				UpdateExpression:          aws.String("ADD #n :k SET #exp = if_not_exists(#exp, :exp)"),
				ExpressionAttributeNames:  map[string]string{"#n": attrAlertCount, "#exp": attrExpiresAt},
				ExpressionAttributeValues: map[string]types.AttributeValue{":k": num(int64(len(alerts))), ":exp": num(to.Add(windowCounterTTL).Unix())},
				ReturnValues:              types.ReturnValueUpdatedNew,
			})
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("count the alerts of %s: %w", group.name, err)
		}
		total := int64(len(alerts)) // without the counter (it cannot be missing), no room
		if v, ok := out.Attributes[attrAlertCount].(*types.AttributeValueMemberN); ok {
			if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
				total = n
			}
		}
		room := int(max(0, min(int64(len(alerts)), int64(s.burst)-(total-int64(len(alerts))))))
		slices.SortStableFunc(alerts, func(a, b Alert) int {
			return cmp.Or(cmp.Compare(b.Incident.Severity, a.Incident.Severity), cmp.Compare(b.Incident.Occurrences, a.Incident.Occurrences))
		})
		single = append(single, alerts[:room]...)
		deferred = append(deferred, alerts[room:]...)
	}
	return single, deferred, nil
}

// alertGroup is the alerts of one log group.
type alertGroup struct {
	name   string
	alerts []Alert
}

// groupsOf splits alerts by log group, in the order the groups first
// appear.
func groupsOf(alerts []Alert) []alertGroup {
	var groups []alertGroup
	at := map[string]int{}
	for _, a := range alerts {
		i, ok := at[a.Incident.LogGroup]
		if !ok {
			i = len(groups)
			at[a.Incident.LogGroup] = i
			groups = append(groups, alertGroup{name: a.Incident.LogGroup})
		}
		groups[i].alerts = append(groups[i].alerts, a)
	}
	return groups
}

// deferAlerts moves alerts this caller holds into their log group's
// digest of the current window, a chunk at a time (deferChunk). It returns
// how many were deferred, and those that could not be, still claimed, to
// release. Alerts whose lease this caller lost are neither: another
// delivery owns them now.
func (s *Store) deferAlerts(ctx context.Context, alerts []Alert) (int, []Alert, error) {
	var (
		done   int
		failed []Alert
		errs   []error
	)
	from, _ := s.windowOf(s.now())
	for _, group := range groupsOf(alerts) {
		for start := 0; start < len(group.alerts); start += maxDeferChunk {
			chunk := group.alerts[start:min(start+maxDeferChunk, len(group.alerts))]
			n, notDone, err := s.deferChunk(ctx, group.name, from, chunk)
			done += n
			failed = append(failed, notDone...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return done, failed, errors.Join(errs...)
}

// deferChunk writes, in one transaction, the chunk's marker keys into the
// digest of group for the window starting at from (conditioned on the
// digest being neither flushed nor claimed by a flusher, and having room),
// every marker's digest attribute with its lease removed (conditioned on
// this caller's lease), and the digest's key into its due item. A digest
// that refuses (closed or full) sends the chunk to the next window's; a
// marker that refuses was taken over by another delivery and is left to
// it. When the cancellation says nothing usable, each alert is tried
// alone, so that one bad item does not hold back the rest.
func (s *Store) deferChunk(ctx context.Context, group string, from time.Time, alerts []Alert) (int, []Alert, error) {
	pending := alerts
	for attempt := 1; ; attempt++ {
		to := from.Add(s.window)
		key := digestKey(group, from, to)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: s.deferItems(key, group, to, pending)})
		if err == nil {
			return len(pending), nil, nil
		}
		var canceled *types.TransactionCanceledException
		isCanceled := errors.As(err, &canceled)
		if !isCanceled || !retryable(canceled) || len(canceled.CancellationReasons) != len(pending)+2 {
			if isCanceled && len(pending) > 1 {
				return s.deferEach(ctx, group, from, pending)
			}
			return 0, pending, fmt.Errorf("defer %d alerts of %s: %w", len(pending), group, err)
		}
		reasons := canceled.CancellationReasons
		if aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			from = to // closed or full: the next window's digest
		}
		var keep []Alert
		for i, a := range pending {
			if aws.ToString(reasons[1+i].Code) != "ConditionalCheckFailed" {
				keep = append(keep, a) // else its lease was taken over: another delivery's now
			}
		}
		if pending = keep; len(pending) == 0 {
			return 0, nil, nil
		}
		if err := backOff(ctx, attempt, err); err != nil {
			return 0, pending, fmt.Errorf("defer %d alerts of %s: %w", len(pending), group, err)
		}
	}
}

// deferEach defers alerts one by one, after a transaction of several that
// was cancelled for a reason the store does not retry.
func (s *Store) deferEach(ctx context.Context, group string, from time.Time, alerts []Alert) (int, []Alert, error) {
	var (
		done   int
		failed []Alert
		errs   []error
	)
	for _, a := range alerts {
		n, notDone, err := s.deferChunk(ctx, group, from, []Alert{a})
		done += n
		failed = append(failed, notDone...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, failed, errors.Join(errs...)
}

// deferItems is the transaction that moves alerts into the digest key,
// whose window ends at end: the digest (first), each alert's marker, and
// the due item (last).
func (s *Store) deferItems(key, group string, end time.Time, alerts []Alert) []types.TransactWriteItem {
	markers := make([]string, len(alerts))
	for i, a := range alerts {
		markers[i] = a.marker
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:        &s.table,
		Key:              map[string]types.AttributeValue{attrPK: str(key)},
		UpdateExpression: aws.String("ADD #markers :markers, #n :n SET #exp = if_not_exists(#exp, :exp)"),
		ConditionExpression: aws.String("attribute_not_exists(#flushed) AND attribute_not_exists(#lease) AND " +
			"(attribute_not_exists(#n) OR #n <= :room)"),
		ExpressionAttributeNames: map[string]string{"#markers": attrMarkers, "#n": attrAlertCount, "#exp": attrExpiresAt,
			"#flushed": attrFlushedAt, "#lease": attrAlertLease},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":markers": &types.AttributeValueMemberSS{Value: markers}, ":n": num(int64(len(alerts))),
			":exp": num(end.Add(DefaultMarkerTTL).Unix()), ":room": num(int64(MaxDigestAlerts - len(alerts))),
		},
	}}}
	for _, a := range alerts {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(a.marker)},
			UpdateExpression:          aws.String("SET #digest = :key REMOVE #lease"),
			ConditionExpression:       aws.String("#lease = :mine"),
			ExpressionAttributeNames:  map[string]string{"#digest": attrDigest, "#lease": attrAlertLease},
			ExpressionAttributeValues: map[string]types.AttributeValue{":key": str(key), ":mine": num(a.lease)},
		}})
	}
	return append(items, types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       map[string]types.AttributeValue{attrPK: str(dueKey(group))},
		UpdateExpression:          aws.String("ADD #digests :key"),
		ExpressionAttributeNames:  map[string]string{"#digests": attrDigests},
		ExpressionAttributeValues: map[string]types.AttributeValue{":key": &types.AttributeValueMemberSS{Value: []string{key}}},
	}})
}

// Digest is the alerts of one log group that Announce deferred in one
// window, for Flush to publish as one message.
type Digest struct {
	LogGroup string
	From, To time.Time // the window
	Alerts   []Alert   // most occurrences first
}

// DigestFunc announces one digest.
type DigestFunc func(ctx context.Context, d Digest) error

// Flushed counts what Flush did.
type Flushed struct {
	Digests int // digests published
	Alerts  int // alerts they held
	Waiting int // digests still due: their window has not ended, another flusher holds them, or they failed
}

// Flush publishes every digest whose window has ended, each exactly once
// across racing flushers (see the package documentation): it claims the
// digest with a lease, reads the alerts it still owes, publishes them in one
// message, clears their markers, marks the digest flushed and takes it off
// the due list. A digest that fails stays due, and the next Flush retries
// it; the error says how many failed.
func (s *Store) Flush(ctx context.Context, publish DigestFunc) (Flushed, error) {
	var res Flushed
	due, err := s.dueDigests(ctx)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, d := range due {
		_, _, to, ok := parseDigestKey(d.key)
		if ok && to.After(s.now()) {
			res.Waiting++
			continue
		}
		n, done, err := s.flushDigest(ctx, d, publish)
		switch {
		case err != nil:
			errs = append(errs, err)
			res.Waiting++
		case !done:
			res.Waiting++
		case n > 0:
			res.Digests++
			res.Alerts += n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("%d digests still owed: %w", len(errs), err)
	}
	return res, nil
}

// dueDigest is a digest key and the due item that lists it.
type dueDigest struct{ key, shard string }

// dueDigests reads the keys every due item lists, in key order (oldest
// window first).
func (s *Store) dueDigests(ctx context.Context) ([]dueDigest, error) {
	keys := make([]map[string]types.AttributeValue, dueShards)
	for n := range uint32(dueShards) {
		keys[n] = map[string]types.AttributeValue{attrPK: str(dueShardKey(n))}
	}
	var due []dueDigest
	err := s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
		shard := item[attrPK].(*types.AttributeValueMemberS).Value
		if v, ok := item[attrDigests].(*types.AttributeValueMemberSS); ok {
			for _, key := range v.Value {
				due = append(due, dueDigest{key: key, shard: shard})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the due digests: %w", err)
	}
	slices.SortFunc(due, func(a, b dueDigest) int { return strings.Compare(a.key, b.key) })
	return due, nil
}

// flushDigest publishes the digest key (see Flush) and returns how many
// alerts it published, and whether the digest is done: false when another
// flusher holds it.
func (s *Store) flushDigest(ctx context.Context, due dueDigest, publish DigestFunc) (int, bool, error) {
	key := due.key
	group, from, to, ok := parseDigestKey(key)
	if !ok {
		return 0, true, s.undue(ctx, due) // not a digest key: drop it from the list
	}
	markers, lease, state, err := s.claimDigest(ctx, key)
	switch {
	case err != nil:
		return 0, false, err
	case state == digestHeld:
		return 0, false, nil
	case state == digestDone:
		return 0, true, s.undue(ctx, due)
	}
	d := Digest{LogGroup: group, From: from, To: to}
	if d.Alerts, err = s.owed(ctx, key, markers); err != nil {
		return 0, false, errors.Join(err, s.releaseDigest(ctx, key, lease))
	}
	if len(d.Alerts) > 0 {
		if !backoff.TimeLeft(ctx, publishMargin) {
			return 0, false, errors.Join(fmt.Errorf("digest %s: out of time to publish", key), s.releaseDigest(ctx, key, lease))
		}
		if err := publish(ctx, d); err != nil {
			return 0, false, errors.Join(fmt.Errorf("digest %s: %w", key, err), s.releaseDigest(ctx, key, lease))
		}
		if err := s.clear(ctx, d.Alerts); err != nil {
			return len(d.Alerts), false, fmt.Errorf("digest %s: %w", key, err)
		}
	}
	if err := s.closeDigest(ctx, key, lease, len(d.Alerts)); err != nil {
		return len(d.Alerts), false, err
	}
	return len(d.Alerts), true, s.undue(ctx, due)
}

// digestState is what claimDigest found.
type digestState int

const (
	digestClaimed digestState = iota // this caller holds it
	digestHeld                       // another flusher holds a live lease on it
	digestDone                       // flushed already, or gone
)

// claimDigest takes a lease on the digest key, unless it is flushed or
// another flusher holds a live lease; a lease that ran out (its flusher
// died) is taken over. It returns the markers the digest lists and the
// lease taken.
func (s *Store) claimDigest(ctx context.Context, key string) ([]string, int64, digestState, error) {
	now := s.now()
	until := now.Add(s.lease).UnixMilli()
	var out *dynamodb.UpdateItemOutput
	err := retryConflicts(ctx, func() error {
		var err error
		out, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           &s.table,
			Key:                                 map[string]types.AttributeValue{attrPK: str(key)},
			UpdateExpression:                    aws.String("SET #lease = :until"),
			ConditionExpression:                 aws.String("attribute_exists(#pk) AND attribute_not_exists(#flushed) AND (attribute_not_exists(#lease) OR #lease < :now)"),
			ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#flushed": attrFlushedAt, "#lease": attrAlertLease},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":until": num(until), ":now": num(now.UnixMilli())},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		if _, flushed := failed.Item[attrFlushedAt]; flushed || len(failed.Item) == 0 {
			return nil, 0, digestDone, nil
		}
		return nil, 0, digestHeld, nil
	case err != nil:
		return nil, 0, 0, fmt.Errorf("claim digest %s: %w", key, err)
	}
	var markers []string
	if v, ok := out.Attributes[attrMarkers].(*types.AttributeValueMemberSS); ok {
		markers = v.Value
	}
	return markers, until, digestClaimed, nil
}

// owed reads the markers of the digest key and their incidents, and
// returns the alerts the digest still owes, most occurrences first: those
// whose marker still carries its alert and names this digest (a flusher
// that died after clearing some leaves them cleared).
func (s *Store) owed(ctx context.Context, key string, markers []string) ([]Alert, error) {
	now := s.now()
	keys := make([]map[string]types.AttributeValue, 0, len(markers))
	for _, m := range markers {
		keys = append(keys, map[string]types.AttributeValue{attrPK: str(m)})
	}
	pending := map[string]map[string]types.AttributeValue{} // by incident ID
	err := s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
		if d, ok := item[attrDigest].(*types.AttributeValueMemberS); ok && d.Value == key {
			if _, owed := item[attrAlert]; owed {
				pending[incidentOfMarker(item[attrPK].(*types.AttributeValueMemberS).Value)] = item
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the markers of digest %s: %w", key, err)
	}
	ids := make([]map[string]types.AttributeValue, 0, len(pending))
	for id := range pending {
		ids = append(ids, map[string]types.AttributeValue{attrPK: str(id)})
	}
	var alerts []Alert
	err = s.batchGet(ctx, ids, true, func(item map[string]types.AttributeValue) error {
		in, err := decodeIncident(item)
		if err != nil {
			return err
		}
		m := pending[in.ID]
		if a, ok := markerAlert(m, in, m[attrPK].(*types.AttributeValueMemberS).Value, now); ok {
			alerts = append(alerts, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the incidents of digest %s: %w", key, err)
	}
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(b.Incident.Occurrences, a.Incident.Occurrences), cmp.Compare(a.Incident.ID, b.Incident.ID))
	})
	return alerts, nil
}

// releaseDigest gives up this caller's lease on the digest key, so that
// the next Flush retries it at once; a lease taken over meanwhile is left
// alone.
func (s *Store) releaseDigest(ctx context.Context, key string, lease int64) error {
	if err := s.dropLease(ctx, key, lease); err != nil {
		return fmt.Errorf("release digest %s: %w", key, err)
	}
	return nil
}

// closeDigest marks the digest key flushed, with the number of alerts it
// published, and drops its marker list; conditioned on this caller's
// lease. A lease taken over meanwhile (this flusher outlived it) leaves
// the digest to the new holder, which finds its markers cleared.
func (s *Store) closeDigest(ctx context.Context, key string, lease int64, published int) error {
	err := retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(key)},
			UpdateExpression:          aws.String("SET #flushed = :now, #n = :n REMOVE #lease, #markers"),
			ConditionExpression:       aws.String("#lease = :mine"),
			ExpressionAttributeNames:  map[string]string{"#flushed": attrFlushedAt, "#n": attrAlertCount, "#lease": attrAlertLease, "#markers": attrMarkers},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(formatTime(s.now())), ":n": num(int64(published)), ":mine": num(lease)},
		})
		return err
	})
	var taken *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &taken) {
		return fmt.Errorf("close digest %s: %w", key, err)
	}
	return nil
}

// undue takes a digest off the due item that lists it.
func (s *Store) undue(ctx context.Context, due dueDigest) error {
	err := retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(due.shard)},
			UpdateExpression:          aws.String("DELETE #digests :key"),
			ExpressionAttributeNames:  map[string]string{"#digests": attrDigests},
			ExpressionAttributeValues: map[string]types.AttributeValue{":key": &types.AttributeValueMemberSS{Value: []string{due.key}}},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("take digest %s off the due list: %w", due.key, err)
	}
	return nil
}
