package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/awslogs/awslogstest"
)

// Names shared by the processor samples.
const (
	// Owner is the account id the samples come from.
	Owner = "123456789012"
	// LogGroup is the log group of the samples: the emitter's.
	LogGroup = "/aws/lambda/logalert-emitter"
	// LogStream is the log stream of the samples.
	LogStream = "2024/05/01/[$LATEST]5f0c2d4e8a9b4c1d9e7f6a5b4c3d2e1f"
	// SubscriptionFilter is the subscription filter of the samples.
	SubscriptionFilter = "logalert-incidents"
	// StartMillis is the timestamp of the first sample event,
	// 2024-05-01T12:00:00Z.
	StartMillis = 1714564800000
	// BombBytes is what processor-gzip-bomb.json inflates to: twice
	// awslogs.DefaultLimits.MaxDecompressedBytes.
	BombBytes = 32 << 20
)

// Names of the Kinesis samples: a central account's stream, which a logs
// destination fills with member accounts' log events.
const (
	// MemberA and MemberB are the member accounts the Kinesis samples
	// come from.
	MemberA, MemberB = "111111111111", "222222222222"
	// StreamARN is the central account's stream (the account is Owner's).
	StreamARN = "arn:aws:kinesis:us-east-1:" + Owner + ":stream/logalert-central"
	// MemberLogGroup is the member accounts' log group of the samples:
	// one name in both accounts.
	MemberLogGroup = "/aws/lambda/orders-api"
	// ShardID is the shard of the Kinesis samples.
	ShardID = "shardId-000000000000"
	// SequenceBase starts the sequence numbers of the Kinesis sample
	// records: the n-th (from 1) is SequenceBase and n in three digits.
	SequenceBase = "49656894543311236488410282014853106117939102371245637"
)

// Sequence is the sequence number of the n-th record (from 1) of a Kinesis
// sample batch.
func Sequence(n int) string { return fmt.Sprintf("%s%03d", SequenceBase, n) }

// File is one generated sample event.
type File struct {
	// Name is the file name, relative to the events directory.
	Name string
	// Data is the file's contents.
	Data []byte
}

// DataMessage returns the payload of processor-data.json: a delivery of 13
// events, 7 of them error lines in 4 groups (3 "payment declined" lines and
// 2 "database timeout" lines that differ only in ids and numbers, a FATAL
// panic and a CRITICAL disk alert) among 5 INFO lines and 1 WARN line.
func DataMessage() *awslogs.Payload {
	messages := []string{
		"START RequestId: 8f2b6c1e-3d4a-4b5c-9e8f-7a6b5c4d3e2f Version: $LATEST",
		"2024-05-01T12:00:00.120Z\t8f2b6c1e-3d4a-4b5c-9e8f-7a6b5c4d3e2f\tERROR\tpayment declined for order 1001: card issuer returned code 5051",
		`{"level":"INFO","msg":"request completed","path":"/api/orders/1001","status":402,"latency_ms":87}`,
		"2024-05-01T12:00:01.480Z\t0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f\tERROR\tpayment declined for order 1002: card issuer returned code 5051",
		"ERROR database timeout after 3012ms on host 10.0.3.17:5432 (attempt 1/5)",
		"FATAL panic: runtime error: index out of range [7] with length 3\n\ngoroutine 1 [running]:\nmain.handler(...)",
		"2024-05-01T12:00:04.002Z\t5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b\tERROR\tpayment declined for order 1003: card issuer returned code 5062",
		"WARN slow response from inventory service: 1200ms",
		"ERROR database timeout after 2950ms on host 10.0.4.22:5432 (attempt 2/5)",
		`CRITICAL disk usage at 97% on /dev/nvme0n1 ("/var/lib/app" has 2 GiB free)`,
		`{"level":"INFO","msg":"cache refreshed","keys":5120,"took_ms":42}`,
		"END RequestId: 8f2b6c1e-3d4a-4b5c-9e8f-7a6b5c4d3e2f",
		"REPORT RequestId: 8f2b6c1e-3d4a-4b5c-9e8f-7a6b5c4d3e2f\tDuration: 5123.45 ms\tBilled Duration: 5124 ms\tMemory Size: 128 MB\tMax Memory Used: 61 MB\t",
	}
	return payload(messages)
}

// payload returns a DATA_MESSAGE of the sample log group with the given
// messages, one second apart, with deterministic ids.
func payload(messages []string) *awslogs.Payload {
	rng := rand.New(rand.NewPCG(1, 2))
	p := &awslogs.Payload{
		MessageType:         awslogs.MessageTypeData,
		Owner:               Owner,
		LogGroup:            LogGroup,
		LogStream:           LogStream,
		SubscriptionFilters: []string{SubscriptionFilter},
	}
	for i, m := range messages {
		p.LogEvents = append(p.LogEvents, awslogs.LogEvent{
			ID:        awslogstest.EventID(rng),
			Timestamp: StartMillis + int64(i)*1000,
			Message:   m,
		})
	}
	return p
}

// Files returns every sample event, in the order README.md lists them. The
// result depends on nothing but the code, so the files can be checked
// against it.
func Files() ([]File, error) {
	data, err := awslogs.Encode(DataMessage())
	if err != nil {
		return nil, fmt.Errorf("encode data sample: %w", err)
	}
	control, err := awslogs.Encode(&awslogs.Payload{
		MessageType: awslogs.MessageTypeControl,
		Owner:       "CloudwatchLogs",
		LogEvents: []awslogs.LogEvent{{
			Timestamp: StartMillis,
			Message:   "CWL CONTROL MESSAGE: Checking health of destination Lambda function.",
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encode control sample: %w", err)
	}
	zip, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("decode data sample: %w", err)
	}
	withoutLogGroup, err := json.Marshal(struct {
		MessageType         string            `json:"messageType"`
		Owner               string            `json:"owner"`
		LogStream           string            `json:"logStream"`
		SubscriptionFilters []string          `json:"subscriptionFilters"`
		LogEvents           []json.RawMessage `json:"logEvents"`
	}{
		awslogs.MessageTypeData, Owner, LogStream, []string{SubscriptionFilter},
		[]json.RawMessage{json.RawMessage(`{"id":"1","timestamp":1714564800000,"message":"ERROR no log group"}`)},
	})
	if err != nil {
		return nil, fmt.Errorf("encode missing-loggroup sample: %w", err)
	}
	oversize := DataMessage()
	oversize.LogEvents = oversize.LogEvents[:1]
	oversize.LogEvents[0].Message = "ERROR " + strings.Repeat("stack frame ", (1100<<10)/12)
	oversizeData, err := awslogs.Encode(oversize)
	if err != nil {
		return nil, fmt.Errorf("encode oversize sample: %w", err)
	}

	doc := func(messageType, events string) string {
		return awslogstest.Compress([]byte(`{"messageType":"` + messageType + `","owner":"` + Owner + `","logGroup":"` + LogGroup +
			`","logStream":"` + LogStream + `","subscriptionFilters":["` + SubscriptionFilter + `"],"logEvents":[` + events + `]}`))
	}
	tooMany := make([]string, awslogs.DefaultLimits.MaxEvents+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf(`{"id":"%d","timestamp":%d,"message":"ERROR line %d"}`, i+1, StartMillis+int64(i), i)
	}

	processor := []struct {
		name, data string
	}{
		{"processor-data.json", data},
		{"processor-control.json", control},
		{"processor-bad-base64.json", "H4sIAAAAAAAA/%%%this is not base64%%%"},
		{"processor-bad-gzip.json", base64.StdEncoding.EncodeToString([]byte(`{"messageType":"DATA_MESSAGE","note":"JSON that was never gzipped"}`))},
		{"processor-truncated-gzip.json", base64.StdEncoding.EncodeToString(zip[:len(zip)/2])},
		{"processor-bad-json.json", awslogstest.Compress([]byte(`{"messageType":"DATA_MESSAGE","owner":"` + Owner + `","logGroup":"` + LogGroup + `","logEvents":[{"id":"1","timestamp":1714564800000,"message":"ERROR the document ends here`))},
		{"processor-missing-loggroup.json", awslogstest.Compress(withoutLogGroup)},
		{"processor-missing-timestamp.json", doc(awslogs.MessageTypeData, `{"id":"1","timestamp":1714564800000,"message":"ERROR a"},{"id":"2","message":"ERROR no timestamp"}`)},
		{"processor-unknown-messagetype.json", doc("DATA_MESSAGE_V2", `{"id":"1","timestamp":1714564800000,"message":"ERROR a"}`)},
		{"processor-too-many-events.json", doc(awslogs.MessageTypeData, strings.Join(tooMany, ","))},
		{"processor-oversize-message.json", oversizeData},
		{"processor-gzip-bomb.json", awslogstest.Bomb(BombBytes)},
	}
	var files []File
	for _, p := range processor {
		b, err := lambdaEvent(p.data)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", p.name, err)
		}
		files = append(files, File{Name: p.name, Data: b})
	}
	kinesisFiles, err := kinesisSamples(control)
	if err != nil {
		return nil, err
	}
	files = append(files, kinesisFiles...)
	files = append(files,
		File{Name: "emitter-default.json", Data: []byte("{}\n")},
		File{Name: "emitter-errors.json", Data: []byte(`{"error_count": 5, "warn_count": 2, "info_count": 10}` + "\n")},
	)
	return files, nil
}

// MemberMessage returns the payload the logs destination writes for
// owner's MemberLogGroup in the Kinesis samples: 3 events, 2 of them error
// lines of one incident.
func MemberMessage(owner string) *awslogs.Payload {
	p := payload([]string{
		"ERROR order 5001 rejected: inventory service returned 503",
		`{"level":"INFO","msg":"request completed","path":"/api/orders","status":200}`,
		"ERROR order 5002 rejected: inventory service returned 503",
	})
	p.Owner, p.LogGroup, p.SubscriptionFilters = owner, MemberLogGroup, []string{"logalert-member"}
	return p
}

// kinesisSamples returns the Kinesis samples: batches of the processor's
// event source mapping (kinesis-*.json) and the on-failure record it sends
// to the dead-letter queue (redrive-kinesis-failure.json). control is the
// awslogs.data of processor-control.json.
func kinesisSamples(control string) ([]File, error) {
	a, err := awslogs.EncodeGzip(MemberMessage(MemberA))
	if err != nil {
		return nil, fmt.Errorf("encode kinesis sample: %w", err)
	}
	b, err := awslogs.EncodeGzip(MemberMessage(MemberB))
	if err != nil {
		return nil, fmt.Errorf("encode kinesis sample: %w", err)
	}
	controlZip, err := base64.StdEncoding.DecodeString(control)
	if err != nil {
		return nil, fmt.Errorf("decode control sample: %w", err)
	}
	batches := []struct {
		name string
		data [][]byte
	}{
		{"kinesis-batch.json", [][]byte{a, b}},
		{"kinesis-corrupt-record.json", [][]byte{a, []byte(`{"messageType":"DATA_MESSAGE","note":"JSON that was never gzipped"}`), b}},
		{"kinesis-control.json", [][]byte{controlZip, a}},
	}
	var files []File
	for _, batch := range batches {
		var ev lambdaevents.KinesisEvent
		for i, d := range batch.data {
			seq := Sequence(i + 1)
			ev.Records = append(ev.Records, lambdaevents.KinesisEventRecord{
				AwsRegion: "us-east-1", EventID: ShardID + ":" + seq, EventName: "aws:kinesis:record",
				EventSource: "aws:kinesis", EventSourceArn: StreamARN, EventVersion: "1.0",
				InvokeIdentityArn: "arn:aws:iam::" + Owner + ":role/logalert-ProcessorFunctionRole",
				Kinesis: lambdaevents.KinesisRecord{
					ApproximateArrivalTimestamp: lambdaevents.SecondsEpochTime{Time: time.UnixMilli(StartMillis + int64(i)*1000).UTC()},
					Data:                        d, KinesisSchemaVersion: "1.0",
					PartitionKey: fmt.Sprintf("%032x", i+1), SequenceNumber: seq,
				},
			})
		}
		data, err := indented(ev)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", batch.name, err)
		}
		files = append(files, File{Name: batch.name, Data: data})
	}
	first := time.UnixMilli(StartMillis).UTC().Format("2006-01-02T15:04:05.000Z")
	failure, err := indented(map[string]any{
		"requestContext": map[string]any{
			"requestId": "3b1c5f2e-7d4a-4e8b-9c6f-0a1b2c3d4e5f", "functionArn": "arn:aws:lambda:us-east-1:" + Owner + ":function:logalert-ProcessorFunction",
			"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       time.UnixMilli(StartMillis + 60_000).UTC().Format("2006-01-02T15:04:05.000Z"),
		"KinesisBatchInfo": map[string]any{
			"shardId": ShardID, "startSequenceNumber": Sequence(1), "endSequenceNumber": Sequence(2),
			"approximateArrivalOfFirstRecord": first, "approximateArrivalOfLastRecord": first,
			"batchSize": 2, "streamArn": StreamARN,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build redrive-kinesis-failure.json: %w", err)
	}
	return append(files, File{Name: "redrive-kinesis-failure.json", Data: failure}), nil
}

// lambdaEvent returns the CloudWatch Logs Lambda event carrying data,
// indented, with a final newline.
func lambdaEvent(data string) ([]byte, error) {
	return indented(lambdaevents.CloudwatchLogsEvent{AWSLogs: lambdaevents.CloudwatchLogsRawData{Data: data}})
}

// indented returns v as indented JSON with a final newline.
func indented(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode lambda event: %w", err)
	}
	return b.Bytes(), nil
}
