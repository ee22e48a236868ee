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

// Alert is an incident that a write opened or reopened and that has not
// been announced yet.
type Alert struct {
	Change   incident.Change // Opened or Reopened
	Incident incident.Incident
	marker   string
	expires  int64
	lease    int64 // the lease this caller holds, ms since the epoch; 0: none yet
}

// AlertLease is how long a claimed alert stays reserved for the delivery
// that claimed it, by default. Past it, another delivery may claim the alert
// again: the claimer died between claiming and clearing, so the alert is
// still owed.
const AlertLease = 30 * time.Second

// PublishFunc announces one incident; (*notify.Notifier).Publish is one.
type PublishFunc func(ctx context.Context, in incident.Incident, change incident.Change) error

// alertWait spaces the checks on alerts another delivery holds: it clears
// them within a publish or two, or its lease runs out.
var alertWait = backoff.Policy{Base: 50 * time.Millisecond, Max: 2 * time.Second}

// publishMargin is the time an invocation keeps in hand before its deadline
// when it starts to publish an alert: enough for the publish, the clear of
// what was published and the release of the rest, so that an alert never
// goes out without being cleared.
const publishMargin = 3 * time.Second

// Announce publishes the alerts that Record returned, each exactly once
// across racing deliveries (see the package documentation), and returns how
// many this call published or deferred into a digest. In rounds, it claims
// the alerts (a concurrent redelivery of the payload may hold the same
// pending alerts); under alert grouping (WithAlertGrouping) it defers the
// ones it won beyond their log group's burst into the window's digest; it
// publishes the rest and clears them at once, before any wait. Alerts another
// delivery holds are waited for, and taken over if their lease runs out,
// for as long as ctx has time. Alerts that failed to publish are released
// and stay pending in the table; the error says how many are still owed,
// and the redelivery that follows hands them out again.
func (s *Store) Announce(ctx context.Context, alerts []Alert, publish PublishFunc) (int, error) {
	var (
		sent, failed []Alert
		deferred     int
		errs         []error
		pending      = alerts
	)
	for attempt := 1; len(pending) > 0; attempt++ {
		won, held, err := s.claim(ctx, pending)
		if err != nil {
			failed = append(failed, won...) // release what was claimed
			errs = append(errs, err)
			break
		}
		pending = held
		// Under alert grouping, the burst of the log group's window goes
		// out alone and the rest into its digest.
		single, later, err := s.ration(ctx, won)
		if err != nil {
			failed = append(failed, won...)
			errs = append(errs, err)
			break
		}
		if len(later) > 0 {
			n, notDeferred, err := s.deferAlerts(ctx, later)
			deferred += n
			failed = append(failed, notDeferred...)
			if err != nil {
				errs = append(errs, err)
			}
		}
		won = single
		var published []Alert
		for i, a := range won {
			if !backoff.TimeLeft(ctx, publishMargin) {
				failed = append(failed, won[i:]...)
				errs = append(errs, fmt.Errorf("out of time with %d alerts to publish", len(won)-i))
				break
			}
			if err := publish(ctx, a.Incident, a.Change); err != nil {
				errs = append(errs, err)
				failed = append(failed, a)
				continue
			}
			published = append(published, a)
		}
		// Clear at once, before any wait: a delivery waiting on these must
		// see them done, not held.
		if err := s.clear(ctx, published); err != nil {
			errs = append(errs, err)
		}
		sent = append(sent, published...)
		if len(pending) == 0 || len(errs) > 0 {
			break
		}
		wait := alertWait.Delay(attempt)
		if !backoff.TimeLeft(ctx, wait+publishMargin) {
			errs = append(errs, fmt.Errorf("%d alerts are still held by another delivery", len(pending)))
			break
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if err := s.release(ctx, failed); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return len(sent) + deferred, fmt.Errorf("%d alerts still owed: %w", len(failed)+len(pending), err)
	}
	return len(sent) + deferred, nil
}

// claim reserves alerts for this caller before it publishes them. Alerts
// that Record created in this call are claimed already (their marker was
// written with the lease); any other, a pending alert Record found, is
// claimed by a conditional update of the alert's marker that succeeds only
// while the alert is pending and nobody holds an unexpired lease on it, so
// of several deliveries racing on one payload (a concurrent redelivery)
// exactly one publishes each alert. It returns the alerts this caller won,
// and those another caller holds: still pending, under a live lease. Those
// are not done: the caller must wait and claim them again (the holder
// clears them, or its lease runs out), or fail so that its delivery is
// retried. Alerts that are neither were published already, or deferred
// into a digest that owes them now. On error, won holds the claims taken
// so far, to release.
func (s *Store) claim(ctx context.Context, alerts []Alert) (won, held []Alert, err error) {
	now := s.now()
	for _, a := range alerts {
		if a.lease != 0 { // claimed by the Record that created it
			won = append(won, a)
			continue
		}
		until := now.Add(s.lease).UnixMilli()
		err := retryConflicts(ctx, func() error {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                           &s.table,
				Key:                                 map[string]types.AttributeValue{attrPK: str(a.marker)},
				UpdateExpression:                    aws.String("SET #lease = :until"),
				ConditionExpression:                 aws.String("attribute_exists(#alert) AND attribute_not_exists(#digest) AND (attribute_not_exists(#lease) OR #lease < :now)"),
				ExpressionAttributeNames:            map[string]string{"#alert": attrAlert, "#digest": attrDigest, "#lease": attrAlertLease},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":until": num(until), ":now": num(now.UnixMilli())},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			})
			return err
		})
		var failed *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &failed):
			_, pending := failed.Item[attrAlert]
			_, deferred := failed.Item[attrDigest]
			if pending && !deferred {
				held = append(held, a) // another delivery is publishing it
			}
			// Otherwise it was published, or deferred: a digest owes it.
		case err != nil:
			return won, held, fmt.Errorf("claim the alert of %s: %w", a.Incident.ID, err)
		default:
			a.lease = until
			won = append(won, a)
		}
	}
	return won, held, nil
}

// release gives up the claims on alerts that could not be published, so
// that the redelivery that follows can claim them at once instead of after
// the lease. A lease taken over by someone else meanwhile is left alone.
func (s *Store) release(ctx context.Context, alerts []Alert) error {
	var errs []error
	for _, a := range alerts {
		if err := s.dropLease(ctx, a.marker, a.lease); err != nil {
			errs = append(errs, fmt.Errorf("release the alert of %s: %w", a.Incident.ID, err))
		}
	}
	return errors.Join(errs...)
}

// dropLease removes the lease this caller holds on the item key (an
// alert's marker or a digest), unless someone else took it over meanwhile:
// then it is left alone.
func (s *Store) dropLease(ctx context.Context, key string, lease int64) error {
	err := retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(key)},
			UpdateExpression:          aws.String("REMOVE #lease"),
			ConditionExpression:       aws.String("#lease = :mine"),
			ExpressionAttributeNames:  map[string]string{"#lease": attrAlertLease},
			ExpressionAttributeValues: map[string]types.AttributeValue{":mine": num(lease)},
		})
		return err
	})
	var taken *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &taken) {
		return err
	}
	return nil
}

// clear marks alerts as published: it rewrites their markers without the
// alert attribute (and its lease), 25 to a BatchWriteItem.
func (s *Store) clear(ctx context.Context, alerts []Alert) error {
	for start := 0; start < len(alerts); start += 25 {
		var reqs []types.WriteRequest
		for _, a := range alerts[start:min(start+25, len(alerts))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: markerItem(a.marker, a.expires)}})
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

// pendingAlert returns the alert a marker still carries, if any, unless a
// digest owes it (Announce deferred it): then it is not this delivery's to
// announce.
func pendingAlert(marker map[string]types.AttributeValue, in incident.Incident, key string, now time.Time) (Alert, bool) {
	if _, deferred := marker[attrDigest]; deferred {
		return Alert{}, false
	}
	return markerAlert(marker, in, key, now)
}

// markerAlert returns the alert a marker still carries, if any, whether
// pending or deferred.
func markerAlert(marker map[string]types.AttributeValue, in incident.Incident, key string, now time.Time) (Alert, bool) {
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
