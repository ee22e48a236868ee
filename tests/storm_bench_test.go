package tests

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/pipeline"
)

// storm is an error storm on one incident: writers processor instances,
// each with its own clients, deliver perWriter distinct payloads of 40
// events (a second apart) at once against e's serialized proxy. It returns each delivery's
// error and the wall time.
func storm(tb testing.TB, e *env, writers, perWriter int) ([]error, time.Duration) {
	tb.Helper()
	procs := make([]*pipeline.Processor, writers)
	evs := make([][]events.CloudwatchLogsEvent, writers)
	for w := range writers {
		procs[w] = e.newProcessor(tb, e.proxy.URL, "", nil)
		for d := range perWriter {
			// Deliveries that run at once carry events of the same few
			// seconds, as the log streams of one storm do.
			start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC).Add(time.Duration(d*writers+w) * time.Second)
			evs[w] = append(evs[w], deliveryAt(tb, start, "/app/storm", repeat(40, func(k int) string {
				return fmt.Sprintf("ERROR upstream 10.0.%d.%d refused connection (attempt %d)", w, d, k)
			})...))
		}
	}
	errs := make([]error, writers*perWriter)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for d, ev := range evs[w] {
				errs[w*perWriter+d] = procs[w].Handle(tb.Context(), ev)
			}
		})
	}
	wg.Wait()
	return errs, time.Since(start)
}

// dropTable deletes e's table, so that the data of one storm does not slow
// the next: moto copies every table of its backend for each transaction.
func dropTable(tb testing.TB, e *env) {
	tb.Helper()
	db := dynamodb.NewFromConfig(newConfig(tb, motoURL))
	_, err := db.UpdateTable(tb.Context(), &dynamodb.UpdateTableInput{TableName: &e.table, DeletionProtectionEnabled: aws.Bool(false)})
	require.NoError(tb, err)
	_, err = db.DeleteTable(tb.Context(), &dynamodb.DeleteTableInput{TableName: &e.table})
	require.NoError(tb, err)
}

// dynamoRequests counts the DynamoDB requests the proxy has seen, the ones
// it answered with a fault included.
func dynamoRequests(e *env) int {
	n := 0
	for _, op := range []string{"BatchGetItem", "TransactWriteItems", "BatchWriteItem", "UpdateItem", "PutItem", "GetItem", "DeleteItem", "Query"} {
		n += e.proxy.Count(op)
	}
	return n
}

// BenchmarkStorm runs the error storm of one incident (5 deliveries of 40
// events per writer) at 1, 6 and 24 concurrent writers, with and without a
// quarter of the writes answered with conflicts, against moto served one
// request at a time, and reports the DynamoDB requests per delivery and the
// storm's wall time.
func BenchmarkStorm(b *testing.B) {
	const perWriter = 5
	for _, conflicts := range []float64{0, 0.25} {
		for _, writers := range []int{1, 6, 24} {
			b.Run(fmt.Sprintf("writers=%d/conflicts=%.0f%%", writers, 100*conflicts), func(b *testing.B) {
				var requests, deliveries, failed int
				var wall time.Duration
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b)
					e.proxy.Serialize(true)
					if conflicts > 0 {
						e.proxy.SetFaults(e.proxy.Conflicts(conflicts))
					}
					b.StartTimer()
					errs, took := storm(b, e, writers, perWriter)
					b.StopTimer()
					for _, err := range errs {
						if err != nil {
							failed++
						}
					}
					requests += dynamoRequests(e)
					deliveries += len(errs)
					wall += took
					dropTable(b, e)
					b.StartTimer()
				}
				b.ReportMetric(float64(requests)/float64(deliveries), "ddb-requests/delivery")
				b.ReportMetric(wall.Seconds()/float64(b.N), "s/storm")
				// Deliveries that gave up (write contention): Lambda would
				// retry them and, after its retries, the dead-letter queue.
				b.ReportMetric(float64(failed)/float64(b.N), "failed-deliveries/storm")
			})
		}
	}
}

// BenchmarkDelivery600Incidents reports the DynamoDB requests and the time
// of one delivery that opens 600 distinct incidents.
func BenchmarkDelivery600Incidents(b *testing.B) {
	var requests int
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b)
		p := e.newProcessor(b, e.proxy.URL, "", nil)
		ev, _ := manyIncidents(b, 600)
		b.StartTimer()
		if err := p.Handle(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		requests += dynamoRequests(e)
		dropTable(b, e)
		b.StartTimer()
	}
	b.ReportMetric(float64(requests)/float64(b.N), "ddb-requests/delivery")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/delivery")
}
