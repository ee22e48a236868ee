package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/samtemplate"
)

func TestStatusShardIsStableAndSpreads(t *testing.T) {
	// Stored data depends on these values: they must never change. (FNV-1a
	// 32 of the id, modulo 16, as any implementation computes it.)
	assert.Equal(t, "OPEN#14", statusShard(incident.StatusOpen, "inc-0123456789abcdef01234567"))
	assert.Equal(t, "RESOLVED#14", statusShard(incident.StatusResolved, "inc-0123456789abcdef01234567"), "the status changes, the shard number does not")
	assert.Equal(t, "ACKNOWLEDGED#13", statusShard(incident.StatusAcknowledged, "inc-1"))

	const n = 1600
	perShard := map[string]int{}
	for i := range n {
		fp := incident.Fingerprint(fmt.Sprintf("ERROR template %d", i))
		perShard[statusShard(incident.StatusOpen, incident.ID("/app/orders", fp))]++
	}
	require.Len(t, perShard, StatusShards, "every shard is used")
	for shard, count := range perShard {
		assert.Regexp(t, `^OPEN#[0-9]{2}$`, shard)
		assert.InDelta(t, n/StatusShards, count, n/StatusShards/3, "shard %s holds about 1/%d of the incidents", shard, StatusShards)
	}
}

// TestIndexMatchesTheTemplate checks that the status index the store
// queries is the one the template defines, and that it projects every
// attribute the queries read there, but not the sample message.
func TestIndexMatchesTheTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(t, err)
	r, err := tmpl.Resource("IncidentsTable")
	require.NoError(t, err)
	name, _ := r.Property("GlobalSecondaryIndexes.0.IndexName")
	assert.Equal(t, StatusIndex, name)
	hash, _ := r.Property("GlobalSecondaryIndexes.0.KeySchema.0.AttributeName")
	assert.Equal(t, attrStatusShard, hash)

	e := newTestEnv(t)
	st := e.store(WithClock(newClock().Now))
	_, err = st.Record(t.Context(), "d1", threeDeltas())
	require.NoError(t, err)
	id := threeDeltas()[0].ID
	out, err := e.db.Query(t.Context(), &dynamodb.QueryInput{
		TableName: &e.table, IndexName: aws.String(StatusIndex),
		KeyConditionExpression:    aws.String("status_shard = :s"),
		FilterExpression:          aws.String("incident_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(statusShard(incident.StatusOpen, id)), ":id": str(id)},
	})
	require.NoError(t, err)
	require.Len(t, out.Items, 1)
	got := slices.Sorted(maps.Keys(out.Items[0]))
	assert.Equal(t, []string{"incident_id", "last_seen", "log_group", "occurrences", "pk", "severity", "status", "status_shard", "updated_at"}, got,
		"the keys and what List, Changes, Stats and Find read: no sample message")
}

// shardedIncidents records n incidents of /app/orders, one a second from
// t0 (the last the most recent), in one delivery per ChunkSize.
func shardedIncidents(t *testing.T, st *Store, n int, t0 time.Time) []incident.Delta {
	t.Helper()
	var deltas []incident.Delta
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		deltas = append(deltas, delta(fmt.Sprintf("ERROR kind %d failed", i), incident.SeverityError, int64(i+1), at, at))
	}
	_, err := st.Record(t.Context(), "seed", deltas)
	require.NoError(t, err)
	return deltas
}

func idsOf(ins []incident.Incident) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.ID
	}
	return out
}

func TestListAcrossShards(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now), WithPageSize(2))
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	deltas := shardedIncidents(t, st, 40, t0)
	shards := map[string]bool{}
	var newestFirst []string
	for i := len(deltas) - 1; i >= 0; i-- {
		shards[statusShard(incident.StatusOpen, deltas[i].ID)] = true
		newestFirst = append(newestFirst, deltas[i].ID)
	}
	require.Greater(t, len(shards), StatusShards/2, "the incidents spread over the shards")

	all, err := st.List(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Equal(t, newestFirst, idsOf(all), "last_seen order across shards and pages")
	for _, in := range all {
		full, err := st.Get(t.Context(), in.ID)
		require.NoError(t, err)
		assert.Equal(t, full, in, "List returns every attribute, read from the table")
		assert.NotEmpty(t, in.SampleMessage)
	}

	for _, limit := range []int{1, 5, 39, 40, 41} {
		got, err := st.List(t.Context(), Filter{Status: incident.StatusOpen, Limit: limit})
		require.NoError(t, err)
		assert.Equal(t, newestFirst[:min(limit, 40)], idsOf(got), "limit %d: the most recent of every shard", limit)
	}
	got, err := st.List(t.Context(), Filter{Since: t0.Add(30 * time.Second)})
	require.NoError(t, err)
	assert.Equal(t, newestFirst[:10], idsOf(got), "since")

	stats, err := st.Stats(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Equal(t, Tally{Incidents: 40, Occurrences: 40 * 41 / 2}, stats.Total)

	// Status changes move incidents between shards of another status.
	clk.Advance(time.Minute)
	_, err = st.Resolve(t.Context(), deltas[3].ID, "bob")
	require.NoError(t, err)
	_, err = st.Acknowledge(t.Context(), deltas[7].ID, "ana")
	require.NoError(t, err)
	resolved, err := st.List(t.Context(), Filter{Status: incident.StatusResolved})
	require.NoError(t, err)
	assert.Equal(t, []string{deltas[3].ID}, idsOf(resolved))
	acked, err := st.List(t.Context(), Filter{Status: incident.StatusAcknowledged})
	require.NoError(t, err)
	assert.Equal(t, []string{deltas[7].ID}, idsOf(acked))
	open, err := st.List(t.Context(), Filter{Status: incident.StatusOpen})
	require.NoError(t, err)
	assert.Len(t, open, 38)
	assert.NotContains(t, idsOf(open), deltas[3].ID)

	// A newer event reopens the resolved one: back in an OPEN shard.
	d := deltas[3]
	d.FirstSeen, d.LastSeen = t0.Add(2*time.Hour), t0.Add(2*time.Hour) // after the resolution
	res, err := st.Record(t.Context(), "reopen", []incident.Delta{d})
	require.NoError(t, err)
	require.Equal(t, 1, res.Reopened)
	open, err = st.List(t.Context(), Filter{Status: incident.StatusOpen, Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{d.ID}, idsOf(open), "the reopened incident is the most recent OPEN one")
	resolved, err = st.List(t.Context(), Filter{Status: incident.StatusResolved})
	require.NoError(t, err)
	assert.Empty(t, resolved)

	stats, err = st.Stats(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Equal(t, Tally{Incidents: 40, Occurrences: 40*41/2 + 4}, stats.Total)
	assert.Equal(t, Tally{Incidents: 39, Occurrences: 40*41/2 + 4 - 8}, stats.ByStatus[incident.StatusOpen])
}

func TestChangesAcrossShards(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	deltas := shardedIncidents(t, st, 30, t0)

	after := clk.Now()
	clk.Advance(time.Second)
	// Three incidents of three different shards, changed in this order.
	var picked []int
	shards := map[string]bool{}
	for i := len(deltas) - 1; i >= 0 && len(picked) < 3; i-- {
		if shard := statusShard(incident.StatusOpen, deltas[i].ID); !shards[shard] {
			shards[shard] = true
			picked = append(picked, i)
		}
	}
	require.Len(t, picked, 3)
	picked[0], picked[2] = picked[2], picked[0] // not in last_seen order
	var want []string
	for n, i := range picked {
		clk.Advance(time.Second)
		d := deltas[i]
		d.Count = 1
		_, err := st.Record(t.Context(), fmt.Sprintf("change-%d", n), []incident.Delta{d})
		require.NoError(t, err)
		want = append(want, d.ID)
	}

	changed, err := st.Changes(t.Context(), Filter{}, after)
	require.NoError(t, err)
	assert.Equal(t, want, idsOf(changed), "oldest change first, across shards")
	require.Len(t, changed, 3)
	assert.Equal(t, int64(picked[0]+2), changed[0].Occurrences, "read from the table")
	assert.NotEmpty(t, changed[0].SampleMessage)
}

// legacyIncident writes in as a version before the sharded index did:
// without status_shard.
func legacyIncident(t *testing.T, e *testEnv, in incident.Incident) {
	t.Helper()
	item := incidentItem(in)
	delete(item, attrStatusShard)
	_, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: item})
	require.NoError(t, err)
}

func TestMigrateIndex(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now), WithPageSize(3))
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	current := shardedIncidents(t, st, 4, t0) // written with status_shard, and 4 markers

	var legacy []string
	versions := map[string]int64{}
	for i := range 7 {
		at := t0.Add(time.Duration(i) * time.Minute)
		in := incident.Open(delta(fmt.Sprintf("FATAL legacy %d", i), incident.SeverityFatal, 2, at, at), clk.Now())
		if i%3 == 1 {
			in, _ = in.Resolve("bob", clk.Now())
		}
		legacyIncident(t, e, in)
		legacy = append(legacy, in.ID)
		versions[in.ID] = in.Version
	}
	all, err := st.List(t.Context(), Filter{})
	require.NoError(t, err)
	require.Len(t, all, len(current), "the index misses the legacy incidents")

	var pages []Migration
	m, err := st.MigrateIndex(t.Context(), func(m Migration) { pages = append(pages, m) })
	require.NoError(t, err)
	assert.Equal(t, Migration{Scanned: 7, Migrated: 7}, m)
	assert.Greater(t, len(pages), 1, "progress after every page")
	assert.Equal(t, m, pages[len(pages)-1])

	all, err = st.List(t.Context(), Filter{})
	require.NoError(t, err)
	assert.Len(t, all, len(current)+len(legacy))
	resolved, err := st.List(t.Context(), Filter{Status: incident.StatusResolved})
	require.NoError(t, err)
	assert.Equal(t, []string{legacy[4], legacy[1]}, idsOf(resolved), "in the shards of their status")
	for _, id := range legacy {
		out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{attrPK: str(id)}})
		require.NoError(t, err)
		in, err := decodeIncident(out.Item)
		require.NoError(t, err)
		assert.Equal(t, str(statusShard(in.Status, id)), out.Item[attrStatusShard])
		assert.Equal(t, versions[id], in.Version, "nothing else changed")
	}

	again, err := st.MigrateIndex(t.Context(), nil)
	require.NoError(t, err)
	assert.Equal(t, Migration{}, again, "idempotent: nothing left to migrate")
}

func TestMigrateIndexFollowsAStatusChange(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now))
	at := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	in := incident.Open(delta("ERROR legacy", incident.SeverityError, 1, at, at), clk.Now())
	in, err := in.Resolve("bob", clk.Now())
	require.NoError(t, err)
	legacyIncident(t, e, in)

	// The scan saw it OPEN; it has been resolved since.
	set, err := st.setShard(t.Context(), in.ID, incident.StatusOpen)
	require.NoError(t, err)
	assert.True(t, set)
	got, err := st.List(t.Context(), Filter{Status: incident.StatusResolved})
	require.NoError(t, err)
	assert.Equal(t, []string{in.ID}, idsOf(got), "the shard of the status it has")

	set, err = st.setShard(t.Context(), in.ID, incident.StatusResolved)
	require.NoError(t, err)
	assert.False(t, set, "it has a shard already")
	out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{attrPK: str(in.ID)}})
	require.NoError(t, err)
	shard := out.Item[attrStatusShard].(*types.AttributeValueMemberS).Value
	assert.True(t, strings.HasPrefix(shard, "RESOLVED#"), shard)
}

func TestWatchAcrossShards(t *testing.T) {
	e := newTestEnv(t)
	st := e.store()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	deltas := shardedIncidents(t, st, 20, t0)

	ctx, cancel := context.WithCancel(t.Context())
	batches := make(chan []string, 10)
	done := make(chan error, 1)
	go func() {
		done <- st.Watch(ctx, Filter{Status: incident.StatusOpen}, 20*time.Millisecond, func(ins []incident.Incident) error {
			batches <- idsOf(ins)
			return nil
		})
	}()
	next := func() []string {
		t.Helper()
		select {
		case b := <-batches:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no batch")
			return nil
		}
	}
	var newestFirst []string
	for i := len(deltas) - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, deltas[i].ID)
	}
	assert.Equal(t, newestFirst, next(), "first the list, across shards")

	// Changes in different shards, in one delivery: one batch, each once.
	var changed []incident.Delta
	shards := map[string]bool{}
	for _, d := range deltas {
		if shard := statusShard(incident.StatusOpen, d.ID); !shards[shard] && len(changed) < 3 {
			shards[shard] = true
			d.Count = 1
			changed = append(changed, d)
		}
	}
	_, err := st.Record(t.Context(), "more", changed)
	require.NoError(t, err)
	got := next()
	assert.ElementsMatch(t, []string{changed[0].ID, changed[1].ID, changed[2].ID}, got)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// BenchmarkList measures what listing costs now that every status is read
// in StatusShards queries: 100 OPEN incidents, every status, the CLI's
// default limit (50, plus the one that tells whether there are more).
func BenchmarkList(b *testing.B) {
	e := newTestEnv(b)
	st := e.store()
	var deltas []incident.Delta
	t0 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	for i := range 100 {
		at := t0.Add(time.Duration(i) * time.Second)
		deltas = append(deltas, delta(fmt.Sprintf("ERROR kind %d failed", i), incident.SeverityError, 1, at, at))
	}
	for start := 0; start < len(deltas); start += ChunkSize {
		_, err := st.Record(b.Context(), fmt.Sprintf("seed-%d", start), deltas[start:min(start+ChunkSize, len(deltas))])
		require.NoError(b, err)
	}
	e.proxy.ResetCounts()
	b.ResetTimer()
	for range b.N {
		got, err := st.List(b.Context(), Filter{Limit: 51})
		require.NoError(b, err)
		require.Len(b, got, 51)
	}
	b.ReportMetric(float64(e.proxy.Count("Query"))/float64(b.N), "queries/list")
	b.ReportMetric(float64(e.proxy.Count("BatchGetItem"))/float64(b.N), "batchgets/list")
}
