package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/incident"
)

// The grouping of these tests: 5 alerts of a log group alone per 5
// minutes, the rest into the window's digest.
const (
	testBurst  = 5
	testWindow = 5 * time.Minute
)

// kinds returns n deltas of n distinct incidents of /app/orders, from
// number first on; the i-th occurs i+1 times.
func kinds(first, n int) []incident.Delta {
	t0 := time.Date(2026, 11, 25, 13, 59, 0, 0, time.UTC)
	out := make([]incident.Delta, n)
	for i := range n {
		out[i] = delta(fmt.Sprintf("ERROR failure of kind k%04d", first+i), incident.SeverityError, int64(first+i+1), t0, t0.Add(time.Second))
	}
	return out
}

// digester records the digests it publishes and fails while fail is set.
type digester struct {
	mu      sync.Mutex
	digests []Digest
	fail    bool
	during  func() // called inside the publish, before it succeeds
}

func (d *digester) publish(_ context.Context, dg Digest) error {
	if d.during != nil {
		d.during()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("digest refused")
	}
	d.digests = append(d.digests, dg)
	return nil
}

// announced counts how often each incident was announced, alone (by pub)
// or in a digest (by dig).
func announced(pub *publisher, dig *digester) map[string]int {
	got := map[string]int{}
	for _, id := range pub.sent {
		got[id]++
	}
	for _, d := range dig.digests {
		for _, a := range d.Alerts {
			got[a.Incident.ID]++
		}
	}
	return got
}

// assertOnce checks that every incident of deltas was announced exactly
// once, and nothing else was.
func assertOnce(t *testing.T, deltas []incident.Delta, pub *publisher, dig *digester) {
	t.Helper()
	want := map[string]int{}
	for _, d := range deltas {
		want[d.ID] = 1
	}
	assert.Equal(t, want, announced(pub, dig), "every incident announced exactly once, alone or in a digest")
}

// grouped returns a test table and a store on it with the tests' grouping,
// on a clock the test moves.
func grouped(t *testing.T) (*testEnv, *clock, *Store) {
	t.Helper()
	e, clk := newTestEnv(t), newClock()
	return e, clk, e.store(WithClock(clk.Now), WithAlertGrouping(testBurst, testWindow))
}

// deliver records deltas as delivery and announces their alerts through
// pub.
func deliver(t *testing.T, st *Store, delivery string, deltas []incident.Delta, pub *publisher) {
	t.Helper()
	res, err := st.Record(t.Context(), delivery, deltas)
	require.NoError(t, err)
	_, err = st.Announce(t.Context(), res.Alerts, pub.publish)
	require.NoError(t, err)
}

// owedMarkers counts the markers of e's table that still carry an alert.
func owedMarkers(t *testing.T, e *testEnv) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(e.direct(t), &dynamodb.ScanInput{
		TableName:                &e.table,
		FilterExpression:         aws.String("attribute_exists(#alert)"),
		ExpressionAttributeNames: map[string]string{"#alert": attrAlert},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		n += len(page.Items)
	}
	return n
}

// A bad deploy starts 200 new kinds of error in one delivery: 5 alerts go
// out alone, the 195 others wait for the window's end and go out in one
// digest, the most frequent first; each incident is announced once and
// every marker is cleared.
func TestStormInOneDeliveryGoesIntoOneDigest(t *testing.T) {
	e, clk, st := grouped(t)
	deltas := kinds(0, 200)
	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	require.Len(t, res.Alerts, 200)

	var (
		pub publisher
		dig digester
	)
	n, err := st.Announce(t.Context(), res.Alerts, pub.publish)
	require.NoError(t, err)
	assert.Equal(t, 200, n, "5 published, 195 deferred")
	assert.Len(t, pub.sent, testBurst)

	again, err := st.Record(t.Context(), "delivery-1", deltas) // a redelivery
	require.NoError(t, err)
	assert.Empty(t, again.Alerts, "a deferred alert is the digest's, not the redelivery's")

	f, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Waiting: 1}, f, "the window has not ended")
	assert.Empty(t, dig.digests)

	clk.Advance(testWindow)
	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Digests: 1, Alerts: 195}, f)
	require.Len(t, dig.digests, 1)
	d := dig.digests[0]
	assert.Equal(t, "/app/orders", d.LogGroup)
	assert.Equal(t, time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC), d.From)
	assert.Equal(t, d.From.Add(testWindow), d.To)
	require.Len(t, d.Alerts, 195)
	for i := 1; i < len(d.Alerts); i++ {
		assert.GreaterOrEqual(t, d.Alerts[i-1].Incident.Occurrences, d.Alerts[i].Incident.Occurrences, "most occurrences first")
	}
	assert.Equal(t, incident.Opened, d.Alerts[0].Change)
	assertOnce(t, deltas, &pub, &dig)
	assert.Zero(t, owedMarkers(t, e), "every alert cleared")

	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{}, f, "flushed digests are off the due list")
	assert.Len(t, dig.digests, 1)
}

// Grouping off (the default): every alert goes out alone and Flush finds
// nothing.
func TestWithoutGroupingEveryAlertGoesAlone(t *testing.T) {
	st := newTestEnv(t).store()
	deltas := kinds(0, 12)
	var (
		pub publisher
		dig digester
	)
	deliver(t, st, "delivery-1", deltas, &pub)
	f, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{}, f)
	assertOnce(t, deltas, &pub, &dig)
}

// 200 new incidents spread over 40 deliveries of 5, run 8 at a time and
// each delivered twice (the redelivery concurrent with the first or
// after it): 5 singles, one digest with the 195 others. A new window
// gives a fresh burst.
func TestStormOverManyDeliveries(t *testing.T) {
	e, clk, st := grouped(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	deltas := kinds(0, 200)
	var (
		pub publisher
		dig digester
		wg  sync.WaitGroup
		mu  sync.Mutex
		bad []error
	)
	deliverTwice := func(i int) {
		defer wg.Done()
		name := fmt.Sprintf("delivery-%d", i)
		for range 2 {
			res, err := st.Record(t.Context(), name, deltas[5*i:5*i+5])
			if err == nil {
				_, err = st.Announce(t.Context(), res.Alerts, pub.publish)
			}
			if err != nil {
				mu.Lock()
				bad = append(bad, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		}
	}
	for batch := range 5 {
		for i := range 8 {
			wg.Add(1)
			go deliverTwice(8*batch + i)
		}
		wg.Wait()
	}
	require.Empty(t, bad)
	assert.Len(t, pub.sent, testBurst)

	clk.Advance(testWindow)
	f, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Digests: 1, Alerts: 195}, f)
	assertOnce(t, deltas, &pub, &dig)
	assert.Zero(t, owedMarkers(t, e))

	// The next window: a fresh burst of 5, then a digest of the rest.
	more := kinds(200, 8)
	deliver(t, st, "delivery-next", more, &pub)
	assert.Len(t, pub.sent, 2*testBurst, "a fresh burst in the new window")
	clk.Advance(testWindow)
	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Digests: 1, Alerts: 3}, f)
	assertOnce(t, append(deltas, more...), &pub, &dig)
}

// Two deliveries of one payload race: the second finds the alerts pending
// under the first's lease and waits; the first defers the overflow into
// the digest, which the second must see as done, not held, so it neither
// waits until its deadline nor announces them again.
func TestDeferredAlertIsNotHeld(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	first := e.store(WithClock(clk.Now), WithAlertGrouping(testBurst, testWindow))
	second := e.store(WithClock(clk.Now), WithAlertGrouping(testBurst, testWindow))
	deltas := kinds(0, 12)
	mine, err := first.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	theirs, err := second.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	require.Len(t, theirs.Alerts, 12, "pending under the first's lease")

	var (
		pub publisher
		dig digester
	)
	_, err = first.Announce(t.Context(), mine.Alerts, pub.publish)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), publishMargin+2*time.Second)
	defer cancel()
	n, err := second.Announce(ctx, theirs.Alerts, pub.publish)
	require.NoError(t, err, "nothing is held: published or deferred")
	assert.Zero(t, n)

	clk.Advance(testWindow)
	_, err = first.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assertOnce(t, deltas, &pub, &dig)
}

// A digest that fails to publish stays due and owed: the next Flush
// publishes it, with the same alerts.
func TestDigestPublishFailureIsRetried(t *testing.T) {
	e, clk, st := grouped(t)
	deltas := kinds(0, 20)
	var (
		pub publisher
		dig = digester{fail: true}
	)
	deliver(t, st, "delivery-1", deltas, &pub)
	clk.Advance(testWindow)

	f, err := st.Flush(t.Context(), dig.publish)
	assert.ErrorContains(t, err, "1 digests still owed")
	assert.ErrorContains(t, err, "digest refused")
	assert.Equal(t, Flushed{Waiting: 1}, f)
	assert.Equal(t, 15, owedMarkers(t, e), "still owed")

	dig.fail = false
	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err, "released at once: no lease to wait for")
	assert.Equal(t, Flushed{Digests: 1, Alerts: 15}, f)
	assertOnce(t, deltas, &pub, &dig)
	assert.Zero(t, owedMarkers(t, e))
}

// A flusher that dies after claiming a digest holds it until its lease
// runs out; then another flusher takes it over and publishes it.
func TestCrashedFlusherIsTakenOver(t *testing.T) {
	_, clk, st := grouped(t)
	deltas := kinds(0, 9)
	var (
		pub publisher
		dig digester
	)
	deliver(t, st, "delivery-1", deltas, &pub)
	clk.Advance(testWindow)

	due, err := st.dueDigests(t.Context())
	require.NoError(t, err)
	require.Len(t, due, 1)
	_, _, state, err := st.claimDigest(t.Context(), due[0].key) // and dies
	require.NoError(t, err)
	require.Equal(t, digestClaimed, state)

	f, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Waiting: 1}, f, "held by the dead flusher's lease")
	assert.Empty(t, dig.digests)

	clk.Advance(AlertLease + time.Millisecond)
	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Digests: 1, Alerts: 4}, f, "taken over")
	assertOnce(t, deltas, &pub, &dig)
}

// Alerts deferred after a flusher claimed their window's digest (a
// delivery whose clock lags behind the flusher's) go into the next
// window's digest: the claimed digest's list is frozen, so nothing is
// added to a digest after it was read.
func TestDeferralAfterFlushStartedGoesToTheNextWindow(t *testing.T) {
	e, clk, st := grouped(t)
	late := newClock() // a delivery still in the first window
	lagging := e.store(WithClock(late.Now), WithAlertGrouping(testBurst, testWindow))
	deltas := kinds(0, 8)
	var (
		pub  publisher
		dig  digester
		errs []error
	)
	deliver(t, st, "delivery-1", deltas, &pub)
	clk.Advance(testWindow)

	more := kinds(8, 4)
	dig.during = func() {
		dig.during = nil
		res, err := lagging.Record(t.Context(), "delivery-2", more)
		if err == nil {
			_, err = lagging.Announce(t.Context(), res.Alerts, pub.publish)
		}
		errs = append(errs, err)
	}
	f, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	require.NoError(t, errors.Join(errs...))
	assert.Equal(t, Flushed{Digests: 1, Alerts: 3}, f, "only what was there at the claim")
	assert.Len(t, pub.sent, testBurst, "the burst was spent: the 4 late ones are deferred")

	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Waiting: 1}, f, "the next window's digest waits for its end")
	clk.Advance(testWindow)
	f, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assert.Equal(t, Flushed{Digests: 1, Alerts: 4}, f)
	assertOnce(t, append(deltas, more...), &pub, &dig)
	assert.Zero(t, owedMarkers(t, e))
}

// An alert whose lease another delivery took over while this one was
// deferring it is left to that delivery: the transaction skips it and
// defers the rest.
func TestDeferralSkipsAnAlertItLostTheLeaseOf(t *testing.T) {
	e := newTestEnv(t)
	clk := newClock()
	st := e.store(WithClock(clk.Now), WithAlertGrouping(1, testWindow))
	deltas := kinds(0, 4)
	res, err := st.Record(t.Context(), "delivery-1", deltas)
	require.NoError(t, err)
	stolen := res.Alerts[0] // the least frequent: not the one the single slot goes to
	_, err = e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName:                 &e.table,
		Key:                       map[string]types.AttributeValue{attrPK: str(stolen.marker)},
		UpdateExpression:          aws.String("SET #lease = :other"),
		ExpressionAttributeNames:  map[string]string{"#lease": attrAlertLease},
		ExpressionAttributeValues: map[string]types.AttributeValue{":other": num(stolen.lease + 1)},
	})
	require.NoError(t, err)

	var pub publisher
	n, err := st.Announce(t.Context(), res.Alerts, pub.publish)
	require.NoError(t, err)
	assert.Equal(t, []string{deltas[3].ID}, pub.sent, "the burst of 1 goes to the most frequent")
	assert.Equal(t, 3, n, "one published, two deferred, the stolen one skipped")
	var dig digester
	clk.Advance(testWindow)
	_, err = st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	got := announced(&pub, &dig)
	assert.Zero(t, got[stolen.Incident.ID], "left to the delivery that holds it")
	assert.Len(t, got, 3)
}

// Deliveries and the schedule's flushes run at once, across the end of a
// window (the clock moves past it midway): every incident is announced
// exactly once, alone or in one of the digests.
func TestConcurrentAnnounceAndFlush(t *testing.T) {
	e, clk, st := grouped(t)
	e.proxy.Serialize(true) // moto's own conditional writes race; ours must not
	clk.Advance(testWindow - 30*time.Second)
	deltas := kinds(0, 60)
	var (
		pub     publisher
		dig     digester
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		ticks   = make(chan struct{}, 12)
		flusher = make(chan struct{})
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	go func() { // the schedule: a flush after each delivery, while others run
		defer close(flusher)
		for range ticks {
			if _, err := st.Flush(t.Context(), dig.publish); err != nil {
				fail(err)
			}
		}
	}()
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := st.Record(t.Context(), fmt.Sprintf("delivery-%d", i), deltas[5*i:5*i+5])
			if err == nil {
				_, err = st.Announce(t.Context(), res.Alerts, pub.publish)
			}
			if err != nil {
				fail(err)
			}
			if i == 5 {
				clk.Advance(time.Minute) // the window ends
			}
			ticks <- struct{}{}
		}()
	}
	wg.Wait()
	close(ticks)
	<-flusher
	require.NoError(t, errors.Join(errs...))
	clk.Advance(testWindow)
	_, err := st.Flush(t.Context(), dig.publish)
	require.NoError(t, err)
	assertOnce(t, deltas, &pub, &dig)
	assert.Zero(t, owedMarkers(t, e))
	assert.LessOrEqual(t, len(pub.sent), 2*testBurst, "at most a burst per window")
}
