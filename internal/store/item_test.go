package store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
)

func fullIncident() incident.Incident {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 123_000_000, time.UTC)
	return incident.Incident{
		ID: "inc-1", AccountID: "111111111111", LogGroup: "/app/orders", LogStream: "stream-1", Fingerprint: "0123456789abcdef",
		Template: "ERROR order <num> failed", Status: incident.StatusResolved, Severity: incident.SeverityFatal,
		Occurrences: 42, FirstSeen: t0, LastSeen: t0.Add(time.Minute), SampleMessage: "ERROR order 7 failed",
		ReopenCount: 2, CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Minute),
		AcknowledgedBy: "ana", AcknowledgedAt: t0.Add(90 * time.Second),
		ResolvedBy: "bo", ResolvedAt: t0.Add(2 * time.Minute), Version: 7,
	}
}

func TestIncidentItemStoresAccount(t *testing.T) {
	assert.Equal(t, &types.AttributeValueMemberS{Value: "111111111111"}, incidentItem(fullIncident())["account_id"])
}

func TestIncidentItemRoundTrip(t *testing.T) {
	for name, in := range map[string]incident.Incident{
		"every attribute": fullIncident(),
		"optional attributes empty": func() incident.Incident {
			in := fullIncident()
			in.LogStream, in.Template, in.AcknowledgedBy, in.ResolvedBy = "", "", "", ""
			in.AcknowledgedAt, in.ResolvedAt = time.Time{}, time.Time{}
			in.AccountID = "" // written before accounts were recorded
			return in
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			item := incidentItem(in)
			assert.Equal(t, &types.AttributeValueMemberS{Value: in.ID}, item[attrPK], "the hash key is the incident id")
			got, err := decodeIncident(item)
			require.NoError(t, err)
			assert.Equal(t, in, got)
		})
	}
}

func TestIncidentItemOmitsEmptyOptionalAttributes(t *testing.T) {
	in := fullIncident()
	in.LogStream, in.Template, in.AcknowledgedBy, in.ResolvedBy = "", "", "", ""
	in.AcknowledgedAt, in.ResolvedAt = time.Time{}, time.Time{}
	in.AccountID = ""
	item := incidentItem(in)
	for _, attr := range []string{attrAccountID, attrLogStream, attrTemplate, attrAcknowledgedBy, attrAcknowledgedAt, attrResolvedBy, attrResolvedAt} {
		assert.NotContains(t, item, attr)
	}
	assert.Equal(t, &types.AttributeValueMemberS{Value: "2026-11-25T14:00:00.123Z"}, item[attrFirstSeen], "fixed-width UTC milliseconds")
}

func TestDecodeIncidentErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]types.AttributeValue)
		want   string
	}{
		{"missing required", func(m map[string]types.AttributeValue) { delete(m, attrLogGroup) },
			`decode incident item "inc-1": attribute log_group: missing`},
		{"string of the wrong type", func(m map[string]types.AttributeValue) { m[attrStatus] = num(3) },
			`decode incident item "inc-1": attribute status: not a string but N`},
		{"number of the wrong type", func(m map[string]types.AttributeValue) { m[attrOccurrences] = str("many") },
			`decode incident item "inc-1": attribute occurrences: not a number but S`},
		{"not an integer", func(m map[string]types.AttributeValue) {
			m[attrVersion] = &types.AttributeValueMemberN{Value: "1.5"}
		}, `attribute version: "1.5" is not an integer`},
		{"not a time", func(m map[string]types.AttributeValue) { m[attrLastSeen] = str("yesterday") },
			`attribute last_seen: "yesterday" is not an RFC 3339 time`},
		{"the first problem is reported", func(m map[string]types.AttributeValue) {
			delete(m, attrIncidentID)
			delete(m, attrSeverity)
		}, `attribute incident_id: missing`},
		{"a key of another type is named by its type", func(m map[string]types.AttributeValue) {
			m[attrPK] = num(9)
			delete(m, attrFingerprint)
		}, `decode incident item (pk N 9): attribute fingerprint: missing`},
		{"no key at all", func(m map[string]types.AttributeValue) {
			delete(m, attrPK)
			delete(m, attrFingerprint)
		}, `decode incident item (no pk): attribute fingerprint: missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			item := incidentItem(fullIncident())
			tc.change(item)
			_, err := decodeIncident(item)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestKeyOfNamesAnyKey(t *testing.T) {
	assert.Equal(t, `"inc-1"`, keyOf(map[string]types.AttributeValue{attrPK: str("inc-1")}))
	assert.Equal(t, "(pk BOOL)", keyOf(map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberBOOL{Value: true}}))
	assert.Equal(t, "(pk SS)", keyOf(map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberSS{Value: []string{"a"}}}))
}

func TestRetryable(t *testing.T) {
	reasons := func(codes ...string) *types.TransactionCanceledException {
		e := &types.TransactionCanceledException{}
		for _, c := range codes {
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return e
	}
	for _, codes := range [][]string{
		{"None", "ConditionalCheckFailed"}, {"TransactionConflict", "None"}, {"ThrottlingError"},
		{"ProvisionedThroughputExceeded", ""}, {},
	} {
		assert.True(t, retryable(reasons(codes...)), "%v", codes)
	}
	for _, codes := range [][]string{{"ValidationError"}, {"None", "ItemCollectionSizeLimitExceeded"}, {"ConditionalCheckFailed", "ValidationError"}} {
		assert.False(t, retryable(reasons(codes...)), "%v", codes)
	}
}

func TestPendingAlert(t *testing.T) {
	in := fullIncident()
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		marker map[string]types.AttributeValue
		in     incident.Incident
		want   Alert
		ok     bool
	}{
		{"no alert: published already", markerItem("m", 99), in, Alert{}, false},
		{"an opened alert", map[string]types.AttributeValue{attrPK: str("m"), attrExpiresAt: num(99), attrAlert: str("opened")}, in,
			Alert{Change: incident.Opened, Incident: in, marker: "m", expires: 99}, true},
		{"a reopened alert", map[string]types.AttributeValue{attrPK: str("m"), attrExpiresAt: num(99), attrAlert: str("reopened")}, in,
			Alert{Change: incident.Reopened, Incident: in, marker: "m", expires: 99}, true},
		{"a marker without expiry gets the default", map[string]types.AttributeValue{attrPK: str("m"), attrAlert: str("opened")}, in,
			Alert{Change: incident.Opened, Incident: in, marker: "m", expires: now.Add(DefaultMarkerTTL).Unix()}, true},
		{"no incident to announce", map[string]types.AttributeValue{attrPK: str("m"), attrAlert: str("opened")}, incident.Incident{}, Alert{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pendingAlert(tc.marker, tc.in, "m", now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMarkerKeyNamesDeliveryAndIncident(t *testing.T) {
	assert.Equal(t, "marker#d1#inc-1", markerKey("d1", "inc-1"))
	assert.NotEqual(t, markerKey("d1", "inc-1"), markerKey("d2", "inc-1"))
}

func TestLearnFromACancelledTransaction(t *testing.T) {
	in := fullIncident()
	marker := map[string]types.AttributeValue{attrPK: str("marker#d#inc-1"), attrExpiresAt: num(9), attrAlert: str("opened")}
	reason := func(code string, item map[string]types.AttributeValue) types.CancellationReason {
		return types.CancellationReason{Code: aws.String(code), Item: item}
	}
	tests := []struct {
		name    string
		reasons []types.CancellationReason
		learnt  bool
		current map[string]incident.Incident
		markers map[string]map[string]types.AttributeValue
	}{
		{"a racing write's incident", []types.CancellationReason{reason("ConditionalCheckFailed", incidentItem(in)), reason("None", nil)}, true,
			map[string]incident.Incident{in.ID: in}, map[string]map[string]types.AttributeValue{}},
		{"a concurrent redelivery's marker", []types.CancellationReason{reason("None", nil), reason("ConditionalCheckFailed", marker)}, true,
			map[string]incident.Incident{}, map[string]map[string]types.AttributeValue{"marker#d#inc-1": marker}},
		{"conflicts and throttling change nothing", []types.CancellationReason{reason("TransactionConflict", nil), reason("ThrottlingError", nil)}, true,
			map[string]incident.Incident{}, map[string]map[string]types.AttributeValue{}},
		{"a failed condition without its item needs a read", []types.CancellationReason{reason("ConditionalCheckFailed", nil)}, false,
			map[string]incident.Incident{}, map[string]map[string]types.AttributeValue{}},
		{"another reason needs a read", []types.CancellationReason{reason("ValidationError", nil)}, false,
			map[string]incident.Incident{}, map[string]map[string]types.AttributeValue{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			current, markers := map[string]incident.Incident{}, map[string]map[string]types.AttributeValue{}
			learnt := learn(&types.TransactionCanceledException{CancellationReasons: tc.reasons}, current, markers)
			assert.Equal(t, tc.learnt, learnt)
			if tc.learnt {
				assert.Equal(t, tc.current, current)
				assert.Equal(t, tc.markers, markers)
			}
		})
	}
}
