package store

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/incident"
)

// Attribute names, defined once.
const (
	attrPK             = "pk"
	attrIncidentID     = "incident_id"
	attrAccountID      = "account_id"
	attrLogGroup       = "log_group"
	attrLogStream      = "log_stream"
	attrFingerprint    = "fingerprint"
	attrTemplate       = "template"
	attrStatus         = "status"
	attrStatusShard    = "status_shard" // "<status>#<NN>", the index's partition key (statusShard)
	attrSeverity       = "severity"
	attrOccurrences    = "occurrences"
	attrFirstSeen      = "first_seen"
	attrLastSeen       = "last_seen"
	attrSampleMessage  = "sample_message"
	attrReopenCount    = "reopen_count"
	attrCreatedAt      = "created_at"
	attrUpdatedAt      = "updated_at"
	attrAcknowledgedBy = "acknowledged_by"
	attrAcknowledgedAt = "acknowledged_at"
	attrResolvedBy     = "resolved_by"
	attrResolvedAt     = "resolved_at"
	attrVersion        = "version"
	attrExpiresAt      = "expires_at"
	attrAlert          = "alert"
	attrAlertLease     = "alert_lease" // ms since the epoch until which a claimed alert is reserved
	attrDigest         = "digest"      // on a marker: the key of the digest that owes its alert
	attrMarkers        = "markers"     // SS on a digest: the markers of its alerts
	attrAlertCount     = "alerts"      // N on a digest: how many alerts it holds; on a window counter: how many it had
	attrDigests        = "digests"     // SS on a due item: the keys of the digests to flush
	attrFlushedAt      = "flushed_at"  // on a digest: when it was published

	// StatusIndex is the global secondary index (status_shard, last_seen).
	// Besides the keys it projects only what List, Changes, Stats and Find
	// read or filter on there (incident_id, status, severity, log_group,
	// occurrences, updated_at); List and Changes read the rest, the sample
	// message above all, from the table by key.
	StatusIndex = "by-status-shard"
)

// StatusShards is how many index partitions each status is spread over.
// With one partition key value per status, every OPEN incident's index
// writes go to one partition, which takes about 1,000 write units a
// second: an error storm across many incidents throttles it, and a
// throttled index throttles the table's writes. Sixteen shards take
// sixteen times that for OPEN incidents, while a listing costs 16 queries
// per status (48 for every status), run a few at a time, which a person
// or a watch poll can afford. It is part of the stored data: changing it
// needs every item's status_shard rewritten (MigrateIndex does that).
const StatusShards = 16

// statusShard is the index partition of incident id in status:
// "<status>#<NN>", NN the FNV-1a hash of id modulo StatusShards, so that an
// incident stays in one shard while its status does not change.
func statusShard(status incident.Status, id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return shardKey(status, h.Sum32()%StatusShards)
}

// shardKey is the status_shard value of shard n of status.
func shardKey(status incident.Status, n uint32) string { return fmt.Sprintf("%s#%02d", status, n) }

// TimeFormat is how times are stored: fixed width, UTC, so that strings
// sort in time order (the status index sorts on last_seen).
const TimeFormat = "2006-01-02T15:04:05.000Z"

func markerKey(delivery, incidentID string) string {
	return "marker#" + delivery + "#" + incidentID
}

// markerItem is an idempotency marker without an alert.
func markerItem(key string, expires int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(key), attrExpiresAt: num(expires)}
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// incidentItem is the full item of an incident.
func incidentItem(in incident.Incident) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK:            str(in.ID),
		attrIncidentID:    str(in.ID),
		attrLogGroup:      str(in.LogGroup),
		attrFingerprint:   str(in.Fingerprint),
		attrStatus:        str(string(in.Status)),
		attrStatusShard:   str(statusShard(in.Status, in.ID)),
		attrSeverity:      str(in.Severity.String()),
		attrOccurrences:   num(in.Occurrences),
		attrFirstSeen:     str(formatTime(in.FirstSeen)),
		attrLastSeen:      str(formatTime(in.LastSeen)),
		attrReopenCount:   num(in.ReopenCount),
		attrCreatedAt:     str(formatTime(in.CreatedAt)),
		attrUpdatedAt:     str(formatTime(in.UpdatedAt)),
		attrVersion:       num(in.Version),
		attrSampleMessage: str(in.SampleMessage),
	}
	// DynamoDB rejects empty strings in key attributes only, but omitting
	// empty optional attributes keeps items small and readable.
	optional := map[string]string{
		attrAccountID:      in.AccountID,
		attrLogStream:      in.LogStream,
		attrTemplate:       in.Template,
		attrAcknowledgedBy: in.AcknowledgedBy,
		attrResolvedBy:     in.ResolvedBy,
	}
	for k, v := range optional {
		if v != "" {
			item[k] = str(v)
		}
	}
	for k, t := range map[string]time.Time{attrAcknowledgedAt: in.AcknowledgedAt, attrResolvedAt: in.ResolvedAt} {
		if !t.IsZero() {
			item[k] = str(formatTime(t))
		}
	}
	return item
}

// decodeIncident reads an incident item; it fails on a missing or
// malformed required attribute.
func decodeIncident(item map[string]types.AttributeValue) (incident.Incident, error) {
	d := decoder{item: item}
	in := incident.Incident{
		ID:             d.str(attrIncidentID, true),
		AccountID:      d.str(attrAccountID, false),
		LogGroup:       d.str(attrLogGroup, true),
		LogStream:      d.str(attrLogStream, false),
		Fingerprint:    d.str(attrFingerprint, true),
		Template:       d.str(attrTemplate, false),
		Status:         incident.Status(d.str(attrStatus, true)),
		Severity:       incident.ParseSeverity(d.str(attrSeverity, true)),
		Occurrences:    d.num(attrOccurrences, true),
		FirstSeen:      d.time(attrFirstSeen, true),
		LastSeen:       d.time(attrLastSeen, true),
		SampleMessage:  d.str(attrSampleMessage, false),
		ReopenCount:    d.num(attrReopenCount, false),
		CreatedAt:      d.time(attrCreatedAt, false),
		UpdatedAt:      d.time(attrUpdatedAt, false),
		AcknowledgedBy: d.str(attrAcknowledgedBy, false),
		AcknowledgedAt: d.time(attrAcknowledgedAt, false),
		ResolvedBy:     d.str(attrResolvedBy, false),
		ResolvedAt:     d.time(attrResolvedAt, false),
		Version:        d.num(attrVersion, false),
	}
	if d.err != nil {
		return incident.Incident{}, fmt.Errorf("decode incident item %s: %w", keyOf(item), d.err)
	}
	return in, nil
}

// keyOf names an item in an error message by its key: the quoted string,
// or, for a key that is not a string, its type and value.
func keyOf(item map[string]types.AttributeValue) string {
	switch v := item[attrPK].(type) {
	case *types.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return "(" + attrPK + " N " + v.Value + ")"
	case nil:
		return "(no " + attrPK + ")"
	default:
		return "(" + attrPK + " " + typeOf(v) + ")"
	}
}

// typeOf is the DynamoDB type of an attribute value: S, N, B, BOOL, NULL,
// L, M, SS, NS or BS.
func typeOf(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	}
	return fmt.Sprintf("%T", v)
}

// decoder reads typed attributes and keeps the first error.
type decoder struct {
	item map[string]types.AttributeValue
	err  error
}

func (d *decoder) fail(name, why string) {
	if d.err == nil {
		d.err = fmt.Errorf("attribute %s: %s", name, why)
	}
}

func (d *decoder) str(name string, required bool) string {
	switch v := d.item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case nil:
		if required {
			d.fail(name, "missing")
		}
	default:
		d.fail(name, "not a string but "+typeOf(v))
	}
	return ""
}

func (d *decoder) num(name string, required bool) int64 {
	switch v := d.item[name].(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.fail(name, strconv.Quote(v.Value)+" is not an integer")
		}
		return n
	case nil:
		if required {
			d.fail(name, "missing")
		}
	default:
		d.fail(name, "not a number but "+typeOf(v))
	}
	return 0
}

func (d *decoder) time(name string, required bool) time.Time {
	s := d.str(name, required)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(name, strconv.Quote(s)+" is not an RFC 3339 time")
	}
	return t.UTC()
}
