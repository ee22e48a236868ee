package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/incident"
)

// Migration counts what MigrateIndex did.
type Migration struct {
	Scanned  int // items the scan read: incidents without status_shard
	Migrated int // incidents given their status_shard
	Skipped  int // incidents that got it meanwhile from another writer
}

// MigrateIndex gives every incident written before the status index was
// sharded its status_shard, so that the index (StatusIndex) lists it. It
// scans the table for incident items without one (markers, which have no
// incident_id, are never touched) and sets it on each with an UpdateItem
// conditioned on the status it computed it from, reading the status again
// when a person or the processor changed it meanwhile. It is idempotent and
// resumable: a second run, or a run after an interruption, finds only what
// is left. progress, when not nil, is called after every scanned page.
func (s *Store) MigrateIndex(ctx context.Context, progress func(Migration)) (Migration, error) {
	var m Migration
	in := &dynamodb.ScanInput{
		TableName:                &s.table,
		FilterExpression:         aws.String("attribute_exists(#id) AND attribute_not_exists(#shard)"),
		ProjectionExpression:     aws.String("#pk, #id, #status"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#id": attrIncidentID, "#shard": attrStatusShard, "#status": attrStatus},
	}
	if s.pageSize > 0 {
		in.Limit = &s.pageSize
	}
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return m, fmt.Errorf("migrate index: scan %s: %w", s.table, err)
		}
		for _, item := range out.Items {
			m.Scanned++
			d := decoder{item: item}
			id, status := d.str(attrIncidentID, true), incident.Status(d.str(attrStatus, true))
			if d.err != nil {
				return m, fmt.Errorf("migrate index: incident item %s: %w", keyOf(item), d.err)
			}
			set, err := s.setShard(ctx, id, status)
			if err != nil {
				return m, fmt.Errorf("migrate index: incident %s: %w", id, err)
			}
			if set {
				m.Migrated++
			} else {
				m.Skipped++
			}
		}
		if progress != nil {
			progress(m)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return m, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// setShard sets the status_shard of incident id, which had status when
// read, unless it has one by now. It reports whether it set it.
func (s *Store) setShard(ctx context.Context, id string, status incident.Status) (bool, error) {
	for {
		var failed *types.ConditionalCheckFailedException
		err := retryConflicts(ctx, func() error {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                           &s.table,
				Key:                                 map[string]types.AttributeValue{attrPK: str(id)},
				UpdateExpression:                    aws.String("SET #shard = :shard"),
				ConditionExpression:                 aws.String("#status = :status AND attribute_not_exists(#shard)"),
				ExpressionAttributeNames:            map[string]string{"#shard": attrStatusShard, "#status": attrStatus},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":shard": str(statusShard(status, id)), ":status": str(string(status))},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			})
			return err
		})
		if !errors.As(err, &failed) {
			return err == nil, err
		}
		// The status changed, or a writer set the shard with it.
		d := decoder{item: failed.Item}
		if _, ok := failed.Item[attrStatusShard]; ok || len(failed.Item) == 0 {
			return false, nil
		}
		if status = incident.Status(d.str(attrStatus, true)); d.err != nil {
			return false, fmt.Errorf("decode incident item %s: %w", keyOf(failed.Item), d.err)
		}
	}
}
