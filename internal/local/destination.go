package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logalert/logalert/internal/backoff"
)

// Kinesis Data Streams limits, from the PutRecords API reference: a
// record's data blob and partition key together hold at most
// MaxRecordBytes (the stream's default maximum record size); one
// PutRecords call holds at most MaxPutRecords records and MaxPutBytes
// bytes, partition keys included.
const (
	MaxRecordBytes = 1 << 20
	MaxPutRecords  = 500
	MaxPutBytes    = 5 << 20
)

// Distributions of a subscription filter to a Kinesis data stream
// (PutSubscriptionFilter's Distribution): grouped by log stream, the
// default, or spread at random over the shards.
const (
	DistributionByLogStream = "ByLogStream"
	DistributionRandom      = "Random"
)

// ErrRecordTooLarge reports a delivery over MaxRecordBytes: no Kinesis
// record can hold it.
var ErrRecordTooLarge = errors.New("local: delivery over the Kinesis record size limit")

// DestinationBackoff rides out a few seconds of throttling: the attempts
// at the records of a PutRecords call that the stream refused
// (ProvisionedThroughputExceededException, InternalFailure) and the
// full-jitter delays between them.
var DestinationBackoff = backoff.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second, Attempts: 8}

// streamWriter is the subset of *kinesis.Client that Destination calls.
type streamWriter interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// DestinationConfig is a CloudWatch Logs destination
// (AWS::Logs::Destination) whose target is a Kinesis data stream.
type DestinationConfig struct {
	// ARN is the destination's ARN, arn:aws:logs:REGION:ACCOUNT:destination:NAME,
	// which member accounts' subscription filters name.
	ARN string
	// TargetARN is the destination's TargetArn: the stream,
	// arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.
	TargetARN string
	// Distribution is DistributionByLogStream (the default when empty) or
	// DistributionRandom.
	Distribution string
}

// DestinationStats counts what a Destination did.
type DestinationStats struct {
	Deliveries int `json:"deliveries"` // records the stream accepted
	Bytes      int `json:"bytes"`      // their data bytes (gzipped)
	Calls      int `json:"calls"`      // PutRecords calls
	Retries    int `json:"retries"`    // records put again after the stream refused them
}

// Destination is a CloudWatch Logs destination delivering to a Kinesis
// data stream, as CloudWatch Logs does for a subscription filter in
// another account: each delivery (the awslogs document of one log
// stream's events) becomes one record whose data is the gzipped JSON
// (Kinesis carries bytes: no base64), put with PutRecords in calls within
// MaxPutRecords and MaxPutBytes; records the stream refuses are put again
// after DestinationBackoff's delays. The kinesis client it is given must
// act in the destination's account (the central one): the destination's
// role, not the member account, writes to the stream. It is safe for
// concurrent use: the subscriptions of every member account share it.
type Destination struct {
	cfg    DestinationConfig
	stream string
	kin    streamWriter
	// delay is the wait before retry n of refused records
	// (DestinationBackoff.Delay); tests replace it.
	delay func(n int) time.Duration

	mu    sync.Mutex
	stats DestinationStats
}

// NewDestination returns the destination cfg, writing with kin. It
// checks the ARNs and the distribution.
func NewDestination(kin streamWriter, cfg DestinationConfig) (*Destination, error) {
	var errs []error
	if _, _, err := parseARN(cfg.ARN, "logs", "destination:"); err != nil {
		errs = append(errs, fmt.Errorf("destination ARN: %w", err))
	}
	_, stream, err := parseARN(cfg.TargetARN, "kinesis", "stream/")
	if err != nil {
		errs = append(errs, fmt.Errorf("destination %s target: %w", cfg.ARN, err))
	}
	switch cfg.Distribution {
	case "":
		cfg.Distribution = DistributionByLogStream
	case DistributionByLogStream, DistributionRandom:
	default:
		errs = append(errs, fmt.Errorf("destination %s: distribution %q is neither %s nor %s", cfg.ARN, cfg.Distribution, DistributionByLogStream, DistributionRandom))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Destination{cfg: cfg, stream: stream, kin: kin, delay: DestinationBackoff.Delay}, nil
}

// Stats returns the counts so far.
func (d *Destination) Stats() DestinationStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Destination) count(f func(*DestinationStats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// fits reports whether the delivery data (awslogs.Encode's base64) makes a
// record within MaxRecordBytes, with its partition key.
func (d *Destination) fits(data string) bool {
	padding := len(data) - len(strings.TrimRight(data, "="))
	return base64.StdEncoding.DecodedLen(len(data))-padding+partitionKeyLen <= MaxRecordBytes
}

// partitionKeyLen is the length of every partition key a Destination
// uses: 32 hex digits.
const partitionKeyLen = 32

// send puts one record per delivery, in order, and returns how many the
// stream accepted.
func (d *Destination) send(ctx context.Context, ds []delivery) (int, error) {
	entries := make([]types.PutRecordsRequestEntry, len(ds))
	for i, dl := range ds {
		data, err := base64.StdEncoding.DecodeString(dl.data)
		if err != nil {
			return 0, fmt.Errorf("destination %s: decode delivery of %s: %w", d.cfg.ARN, dl.stream, err)
		}
		key := d.partitionKey(dl.group, dl.stream)
		if n := len(data) + len(key); n > MaxRecordBytes {
			return 0, fmt.Errorf("%w: %d events of %s make %d bytes, over %d", ErrRecordTooLarge, dl.events, dl.stream, n, MaxRecordBytes)
		}
		entries[i] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(key)}
	}
	sent := 0
	for _, call := range putCalls(entries) {
		n, err := d.put(ctx, call)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// partitionKey is the record's partition key: one per log stream (a hash
// of its group and name) by default, a random one with
// DistributionRandom.
func (d *Destination) partitionKey(group, stream string) string {
	if d.cfg.Distribution == DistributionRandom {
		var b [partitionKeyLen / 2]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		return hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(group + "\x00" + stream))
	return hex.EncodeToString(sum[:partitionKeyLen/2])
}

// putCalls splits entries into PutRecords calls within MaxPutRecords and
// MaxPutBytes, in order.
func putCalls(entries []types.PutRecordsRequestEntry) [][]types.PutRecordsRequestEntry {
	var calls [][]types.PutRecordsRequestEntry
	start, bytes := 0, 0
	for i, e := range entries {
		n := len(e.Data) + len(aws.ToString(e.PartitionKey))
		if i > start && (i-start == MaxPutRecords || bytes+n > MaxPutBytes) {
			calls = append(calls, entries[start:i])
			start, bytes = i, 0
		}
		bytes += n
	}
	if start < len(entries) {
		calls = append(calls, entries[start:])
	}
	return calls
}

// put sends one PutRecords call and puts again the records the stream
// refused, until it accepts them all or DestinationBackoff's attempts run
// out; it returns how many the stream accepted. The SDK's retryer retries
// a call refused as a whole (throttling, server errors).
func (d *Destination) put(ctx context.Context, entries []types.PutRecordsRequestEntry) (int, error) {
	accepted := 0
	for attempt := 1; ; attempt++ {
		out, err := d.kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(d.cfg.TargetARN), Records: entries})
		d.count(func(s *DestinationStats) { s.Calls++ })
		if err != nil {
			return accepted, fmt.Errorf("destination %s: put %d records into %s: %w", d.cfg.ARN, len(entries), d.stream, err)
		}
		var refused []types.PutRecordsRequestEntry
		var code, msg string
		bytes := 0
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				bytes += len(entries[i].Data)
				continue
			}
			refused = append(refused, entries[i])
			code, msg = aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage)
		}
		n := len(entries) - len(refused)
		accepted += n
		d.count(func(s *DestinationStats) { s.Deliveries += n; s.Bytes += bytes })
		if len(refused) == 0 {
			return accepted, nil
		}
		if attempt == DestinationBackoff.Attempts {
			return accepted, fmt.Errorf("destination %s: %s refused %d records after %d attempts: %s: %s", d.cfg.ARN, d.stream, len(refused), attempt, code, msg)
		}
		if err := backoff.Sleep(ctx, d.delay(attempt)); err != nil {
			return accepted, fmt.Errorf("destination %s: %d records refused by %s not put again: %w", d.cfg.ARN, len(refused), d.stream, err)
		}
		d.count(func(s *DestinationStats) { s.Retries += len(refused) })
		entries = refused
	}
}

// parseARN splits arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE, whose resource
// must start with prefix, into its region and the rest of its resource.
func parseARN(arn, service, prefix string) (region, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != service || parts[3] == "" || parts[4] == "" ||
		!strings.HasPrefix(parts[5], prefix) || len(parts[5]) == len(prefix) {
		return "", "", fmt.Errorf("%q is not an ARN of the form arn:PARTITION:%s:REGION:ACCOUNT:%sNAME", arn, service, prefix)
	}
	return parts[3], parts[5][len(prefix):], nil
}
