package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
)

// realisticDelivery is the reference batch (10,000 events, ~2 MB, half
// errors in 20 fingerprints) as a Lambda event, with fresh event ids.
func realisticDelivery(tb testing.TB, seed int64) events.CloudwatchLogsEvent {
	tb.Helper()
	data, err := awslogs.Encode(awslogstest.RealisticBatch(10_000, 0.5, 20, seed))
	require.NoError(tb, err)
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
}

// BenchmarkRealisticBatchAgainstMoto processes the reference batch against
// moto with 5 ms added to every request (DynamoDB and SNS alike, which is
// stricter than the DynamoDB-only target), and reports the DynamoDB write
// requests of the first batch, which opens the 20 incidents and publishes
// their 20 alerts, and of the last, which only updates them (target: at
// most 25), and the mean end-to-end time per batch (target: under 1 s).
func BenchmarkRealisticBatchAgainstMoto(b *testing.B) {
	e := newEnv(b)
	inbox := newTopicInbox(b)
	e.proxy.SetLatency(5 * time.Millisecond)
	p := e.newProcessor(b, e.proxy.URL, inbox.topicARN, nil)
	writes := func() int {
		return e.proxy.Count("TransactWriteItems") + e.proxy.Count("BatchWriteItem") +
			e.proxy.Count("PutItem") + e.proxy.Count("UpdateItem")
	}
	var seed int64
	first := -1
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		seed++
		ev := realisticDelivery(b, seed) // new ids: a new delivery, not a redelivery
		e.proxy.ResetCounts()
		b.StartTimer()
		if err := p.Handle(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
		if first < 0 {
			first = writes()
		}
	}
	b.ReportMetric(float64(first), "ddb-writes/first-batch")
	b.ReportMetric(float64(writes()), "ddb-writes/batch")
	b.ReportMetric(float64(e.proxy.Count("BatchGetItem")), "ddb-reads/batch")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
}

// BenchmarkProcessorBinarySize builds the Lambda binary as `make build`
// does and reports its size (target: at most 15 MB).
func BenchmarkProcessorBinarySize(b *testing.B) {
	out := filepath.Join(b.TempDir(), "bootstrap")
	for b.Loop() {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", out, "../processor")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, msg)
		}
	}
	fi, err := os.Stat(out)
	require.NoError(b, err)
	b.ReportMetric(float64(fi.Size())/1e6, "MB")
}
