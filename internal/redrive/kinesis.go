package redrive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisBatchInfo is the part of a Kinesis event source mapping's
// on-failure record that names the failed batch: a range of one shard,
// and no data (the records stay in the stream until its retention ends).
type KinesisBatchInfo struct {
	ShardID                         string    `json:"shardId"`
	StartSequenceNumber             string    `json:"startSequenceNumber"`
	EndSequenceNumber               string    `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord time.Time `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  time.Time `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int       `json:"batchSize"`
	StreamARN                       string    `json:"streamArn"`
}

// ErrExpired reports that records of a failed Kinesis batch are no longer
// in the stream: its retention period trimmed them, so they cannot be
// redriven.
var ErrExpired = errors.New("redrive: records expired from the stream")

// KinesisTarget processes a Kinesis batch read back from the stream.
type KinesisTarget interface {
	// RedriveKinesis processes ev and returns the sequence numbers of the
	// records that failed (batchItemFailures); an error means none is
	// known to have been processed.
	RedriveKinesis(ctx context.Context, ev events.KinesisEvent) (failed []string, err error)
}

// KinesisHandler is a KinesisTarget that calls an in-process handler, such
// as (*pipeline.Processor).HandleKinesis.
type KinesisHandler func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error)

// RedriveKinesis handles ev.
func (h KinesisHandler) RedriveKinesis(ctx context.Context, ev events.KinesisEvent) ([]string, error) {
	resp, err := h(ctx, ev)
	if err != nil {
		return nil, err
	}
	return failedItems(resp), nil
}

// failedItems lists the sequence numbers of a batch response.
func failedItems(resp events.KinesisEventResponse) []string {
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// kinesisAPI is the subset of *kinesis.Client that KinesisReader calls.
type kinesisAPI interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// KinesisReader reads the records of a failed batch back from its stream.
type KinesisReader struct {
	client kinesisAPI
	// maxEmptyReads bounds the GetRecords calls in a row that return no
	// record while the shard still has some ahead (MillisBehindLatest > 0).
	maxEmptyReads int
}

// NewKinesisReader returns a KinesisReader using client (usually a
// *kinesis.Client).
func NewKinesisReader(client kinesisAPI) *KinesisReader {
	return &KinesisReader{client: client, maxEmptyReads: 100}
}

// Read returns the records of the batch b names, from its start sequence
// number to its end, as the event source mapping delivered them. When the
// start has been trimmed from the stream (the iterator is refused, or the
// first record read is a later one) or the shard ends before b's end, it
// returns an error wrapping ErrExpired.
func (k *KinesisReader) Read(ctx context.Context, b KinesisBatchInfo) ([]events.KinesisEventRecord, error) {
	where := fmt.Sprintf("%s %s from %s", b.StreamARN, b.ShardID, b.StartSequenceNumber)
	it, err := k.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamARN: aws.String(b.StreamARN), ShardId: aws.String(b.ShardID),
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(b.StartSequenceNumber),
	})
	if err != nil {
		var missing *types.ResourceNotFoundException
		var invalid *types.InvalidArgumentException
		if errors.As(err, &missing) || errors.As(err, &invalid) {
			return nil, fmt.Errorf("%w: read %s: %w", ErrExpired, where, err)
		}
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	region := ""
	if a, err := arn.Parse(b.StreamARN); err == nil {
		region = a.Region
	}
	var out []events.KinesisEventRecord
	iter, empty := it.ShardIterator, 0
	for iter != nil {
		page, err := k.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(b.StreamARN)})
		if err != nil {
			var expired *types.ExpiredIteratorException
			if errors.As(err, &expired) {
				return nil, fmt.Errorf("%w: read %s: %w", ErrExpired, where, err)
			}
			return nil, fmt.Errorf("read %s: %w", where, err)
		}
		for _, r := range page.Records {
			seq := aws.ToString(r.SequenceNumber)
			if len(out) == 0 && seq != b.StartSequenceNumber {
				return nil, fmt.Errorf("%w: %s: the shard now starts at %s", ErrExpired, where, seq)
			}
			if compareSequence(seq, b.EndSequenceNumber) > 0 {
				return out, nil
			}
			out = append(out, kinesisEventRecord(b, region, r))
			if seq == b.EndSequenceNumber {
				return out, nil
			}
		}
		if len(page.Records) > 0 {
			empty = 0
		} else if empty++; aws.ToInt64(page.MillisBehindLatest) == 0 || empty > k.maxEmptyReads {
			break
		}
		iter = page.NextShardIterator
	}
	last := "none"
	if len(out) > 0 {
		last = out[len(out)-1].Kinesis.SequenceNumber
	}
	return nil, fmt.Errorf("%w: %s: the shard ends before %s (last record read: %s)", ErrExpired, where, b.EndSequenceNumber, last)
}

// kinesisEventRecord is r as a Kinesis event source mapping hands it to
// the function.
func kinesisEventRecord(b KinesisBatchInfo, region string, r types.Record) events.KinesisEventRecord {
	seq := aws.ToString(r.SequenceNumber)
	return events.KinesisEventRecord{
		AwsRegion: region, EventID: b.ShardID + ":" + seq, EventName: "aws:kinesis:record",
		EventSource: "aws:kinesis", EventSourceArn: b.StreamARN, EventVersion: "1.0",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
			Data:                        r.Data, KinesisSchemaVersion: "1.0",
			PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: seq,
		},
	}
}

// compareSequence compares two Kinesis sequence numbers: decimal strings
// of up to 128 bits, without leading zeros.
func compareSequence(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
