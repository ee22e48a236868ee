package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/incident"
)

// Acknowledge marks the OPEN incident id as ACKNOWLEDGED by who and returns
// it as written. Like every write to an incident it is conditioned on the
// version it read: when another writer (a person, or the processor counting
// new occurrences) got there first, it reads again and retries, so neither
// update is lost. It returns an error wrapping ErrNotFound,
// incident.ErrTransition (the incident is not OPEN, e.g. someone else
// acknowledged it a moment ago; nothing is written) or ErrContention.
func (s *Store) Acknowledge(ctx context.Context, id, who string) (incident.Incident, error) {
	return s.transition(ctx, id, "acknowledge", func(in incident.Incident, now time.Time) (incident.Incident, error) {
		return in.Acknowledge(who, now)
	})
}

// Resolve marks the OPEN or ACKNOWLEDGED incident id as RESOLVED by who, as
// Acknowledge does. Resolving a RESOLVED incident is an error wrapping
// incident.ErrTransition that names who resolved it; nothing is written. The
// next occurrence of a resolved incident reopens it (Record).
func (s *Store) Resolve(ctx context.Context, id, who string) (incident.Incident, error) {
	return s.transition(ctx, id, "resolve", func(in incident.Incident, now time.Time) (incident.Incident, error) {
		return in.Resolve(who, now)
	})
}

// transition reads id, applies change and writes the result conditioned on
// the version read, retrying with backoff when the condition fails.
func (s *Store) transition(ctx context.Context, id, verb string, change func(incident.Incident, time.Time) (incident.Incident, error)) (incident.Incident, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return incident.Incident{}, err
		}
		next, err := change(cur, s.now().UTC())
		if err != nil {
			return cur, err
		}
		err = s.writeStatus(ctx, cur.Version, next)
		if err == nil {
			return next, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return cur, fmt.Errorf("%s incident %s: %w", verb, id, err)
		}
		if err := backOff(ctx, attempt, err); err != nil {
			return cur, fmt.Errorf("%s incident %s: %w", verb, id, err)
		}
	}
}

// writeStatus writes next's status, who moved it and when, updated_at and
// version, if the item still has version prev.
func (s *Store) writeStatus(ctx context.Context, prev int64, next incident.Incident) error {
	names := map[string]string{}
	values := map[string]types.AttributeValue{":prev": num(prev)}
	var set []string
	assign := func(attr string, v types.AttributeValue) {
		p := placeholder(attr)
		names[p] = attr
		values[":"+p[1:]] = v
		set = append(set, p+" = :"+p[1:])
	}
	assign(attrStatus, str(string(next.Status)))
	assign(attrStatusShard, str(statusShard(next.Status, next.ID)))
	assign(attrUpdatedAt, str(formatTime(next.UpdatedAt)))
	assign(attrVersion, num(next.Version))
	switch next.Status {
	case incident.StatusAcknowledged:
		assign(attrAcknowledgedBy, str(next.AcknowledgedBy))
		assign(attrAcknowledgedAt, str(formatTime(next.AcknowledgedAt)))
	case incident.StatusResolved:
		assign(attrResolvedBy, str(next.ResolvedBy))
		assign(attrResolvedAt, str(formatTime(next.ResolvedAt)))
	}
	cond := placeholder(attrVersion) + " = :prev"
	update := "SET " + strings.Join(set, ", ")
	return retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(next.ID)},
			UpdateExpression:          &update,
			ConditionExpression:       &cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
		return err
	})
}
