package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logalert/logalert/internal/backoff"
	"github.com/logalert/logalert/internal/redrive"
)

// KinesisFunction is the code of a Lambda function that a Kinesis event
// source mapping invokes; (*pipeline.Processor).HandleKinesis is one.
type KinesisFunction func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error)

// KinesisFaultFunc lets a test make a batch fail: called before each
// invocation, a non-nil error fails that invocation with it instead of
// running the function. attempt counts the invocations that held the
// batch's first record, this one included (from 1).
type KinesisFaultFunc func(attempt int, ev events.KinesisEvent) error

// streamReader is the subset of *kinesis.Client that KinesisMapping calls.
type streamReader interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Conditions of a stream event source mapping's on-failure record.
const (
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	ConditionRecordAgeExceeded      = "RecordAgeExceeded"
)

// Limits of a Kinesis event source mapping (Lambda Developer Guide,
// "Lambda parameters for Amazon Kinesis Data Streams event source
// mappings"), and the synchronous invocation payload limit a batch stays
// within.
const (
	DefaultBatchSize   = 100
	MaxBatchSize       = 10_000
	MaxBatchWindow     = 300 * time.Second
	MaxRetryAttempts   = 10_000
	MinRecordAge       = 60 * time.Second
	MaxRecordAge       = 604_800 * time.Second
	MaxInvocationBytes = 6 << 20
)

// retryBackoff spaces the retries of a failed batch on the twin's clock.
// Lambda retries stream batches with a backoff it does not document; this
// one waits up to a second before the first retry, up to a minute later.
var retryBackoff = backoff.Policy{Base: time.Second, Max: time.Minute}

// KinesisMappingConfig is an AWS::Lambda::EventSourceMapping from a
// Kinesis data stream.
type KinesisMappingConfig struct {
	// FunctionARN is the function's ARN, as the on-failure records name it.
	FunctionARN string
	// StreamARN is EventSourceArn, the stream.
	StreamARN string
	// StartingPosition is TRIM_HORIZON (the default when empty) or LATEST.
	StartingPosition types.ShardIteratorType
	// BatchSize is the most records per batch, 1 to MaxBatchSize; 0 means
	// DefaultBatchSize.
	BatchSize int
	// BatchWindow is MaximumBatchingWindowInSeconds (virtual time): how
	// long records are gathered before a batch that is not full is
	// invoked. At most MaxBatchWindow.
	BatchWindow time.Duration
	// MaxRetries is MaximumRetryAttempts: -1 retries until the records
	// are too old, 0 to MaxRetryAttempts bounds the retries of a record.
	MaxRetries int
	// MaxRecordAge is MaximumRecordAgeInSeconds (virtual time): records
	// older than this are not invoked again. Zero or less means no limit
	// (-1 in the template); otherwise MinRecordAge to MaxRecordAge.
	MaxRecordAge time.Duration
	// Bisect is BisectBatchOnFunctionError.
	Bisect bool
	// ReportBatchItemFailures is FunctionResponseTypes
	// [ReportBatchItemFailures]: the function's batchItemFailures count.
	ReportBatchItemFailures bool
	// Timeout bounds one invocation (real time), as the function's Timeout.
	Timeout time.Duration
	// OnFailureURL is the SQS queue of DestinationConfig.OnFailure; empty,
	// discarded records leave no trace.
	OnFailureURL string
	// InvokeIdentityARN is the function's execution role, the records'
	// invokeIdentityArn.
	InvokeIdentityARN string
}

// check validates c and fills in the defaults.
func (c *KinesisMappingConfig) check() (region string, err error) {
	var errs []error
	region, _, err = parseARN(c.StreamARN, "kinesis", "stream/")
	if err != nil {
		errs = append(errs, fmt.Errorf("event source: %w", err))
	}
	switch c.StartingPosition {
	case "":
		c.StartingPosition = types.ShardIteratorTypeTrimHorizon
	case types.ShardIteratorTypeTrimHorizon, types.ShardIteratorTypeLatest:
	default:
		errs = append(errs, fmt.Errorf("starting position %q is neither TRIM_HORIZON nor LATEST", c.StartingPosition))
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize < 1 || c.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("batch size %d is not within 1 to %d", c.BatchSize, MaxBatchSize))
	}
	if c.BatchWindow < 0 || c.BatchWindow > MaxBatchWindow {
		errs = append(errs, fmt.Errorf("batching window %s is not within 0 to %s", c.BatchWindow, MaxBatchWindow))
	}
	if c.MaxRetries < -1 || c.MaxRetries > MaxRetryAttempts {
		errs = append(errs, fmt.Errorf("maximum retry attempts %d is not -1 or within 0 to %d", c.MaxRetries, MaxRetryAttempts))
	}
	if c.MaxRecordAge > 0 && (c.MaxRecordAge < MinRecordAge || c.MaxRecordAge > MaxRecordAge) {
		errs = append(errs, fmt.Errorf("maximum record age %s is not -1 or within %s to %s", c.MaxRecordAge, MinRecordAge, MaxRecordAge))
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("event source mapping of %s: %w", c.StreamARN, err)
	}
	return region, nil
}

// KinesisStats counts what a KinesisMapping did.
type KinesisStats struct {
	Records        int `json:"records"`         // records read from the stream
	Batches        int `json:"batches"`         // invocations, failed ones included
	Retries        int `json:"retries"`         // invocations that retried records (what the retry quota counts)
	Bisects        int `json:"bisects"`         // failed batches split in two
	Processed      int `json:"processed"`       // records the function accepted
	Failed         int `json:"failed"`          // records discarded after their retries or age ran out
	FailureRecords int `json:"failure_records"` // on-failure records sent
}

// KinesisFailureRecord is the record Lambda sends to a stream event source
// mapping's on-failure destination for each discarded batch (Lambda
// Developer Guide, "Retain discarded batch records for a Kinesis Data
// Streams event source"): it names the records, it does not hold them.
type KinesisFailureRecord struct {
	RequestContext   redrive.RequestContext  `json:"requestContext"`
	ResponseContext  redrive.ResponseContext `json:"responseContext"`
	Version          string                  `json:"version"`
	Timestamp        string                  `json:"timestamp"`
	KinesisBatchInfo KinesisBatchInfo        `json:"KinesisBatchInfo"`
}

// KinesisBatchInfo locates a discarded batch in its stream. Its times are
// strings, as Lambda writes them: UTC to the millisecond, always three
// digits.
type KinesisBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// KinesisMapping is a Kinesis event source mapping: Poll reads each
// shard's new records, and per shard, in order, one batch at a time in the
// background, the mapping invokes the function synchronously with Lambda's
// semantics:
//
//   - a batch holds up to BatchSize records within the 6 MB invocation
//     payload; one that is not full waits up to BatchWindow (on the twin's
//     clock) for more records;
//   - success checkpoints the batch; with ReportBatchItemFailures, the
//     batch is checkpointed before the lowest sequence number the function
//     reports and retried from it (an identifier that is empty or not in
//     the batch fails the whole batch);
//   - an error, a timeout or a panic fails the whole batch, which is
//     retried; with Bisect it is split in two instead, which uses no
//     retry;
//   - records whose MaxRetries retries ran out, or older than MaxRecordAge
//     before an invocation, are discarded: a KinesisFailureRecord goes to
//     the on-failure queue and the shard moves on.
//
// Retries wait retryBackoff on the clock. Not modelled: ParallelizationFactor
// (one batch per shard at a time), resharding, enhanced fan-out, tumbling
// windows, filter criteria, and the stream's retention (a record waits
// for as long as its retries and MaxRecordAge allow). It is safe for
// concurrent use, except Poll with itself.
type KinesisMapping struct {
	fn     KinesisFunction
	cfg    KinesisMappingConfig
	region string
	clock  *Clock
	kin    streamReader
	dlq    queueSender
	fault  KinesisFaultFunc
	report func(format string, args ...any)

	wg     sync.WaitGroup
	mu     sync.Mutex // guards what follows and each shard's records
	shards map[string]*shard
	order  []string
	stats  KinesisStats
	errs   []error
}

// shard is one shard's reading position and the records read from it
// that are not checkpointed.
type shard struct {
	id       string
	iterator *string // Poll's only
	last     string  // sequence number of the last record read; Poll's only

	queued []*streamRecord // read, not in a batch yet
	since  time.Time       // when queued's first record was read (virtual)
	taken  int             // records of the batches being processed
	busy   bool            // a drain goroutine runs
	more   chan struct{}   // signals new records to a waiting drain
}

// streamRecord is a record read from a shard, as the function gets it.
type streamRecord struct {
	ev      events.KinesisEventRecord
	size    int // its JSON bytes in an event
	invokes int // invocations that held it
}

// batch is records of one shard that are invoked together.
type batch struct {
	recs    []*streamRecord
	retries int    // retries used
	retry   bool   // the next invocation is a retry
	request string // the last invocation's request id
	err     error  // the last invocation's error, nil if it reported item failures
}

// NewKinesisMapping returns the mapping cfg of fn, reading with kin and
// sending on-failure records with dlq. fault may be nil; report (may be
// nil) receives one line per failed invocation and per discarded batch.
func NewKinesisMapping(fn KinesisFunction, cfg KinesisMappingConfig, clock *Clock, kin streamReader, dlq queueSender, fault KinesisFaultFunc, report func(format string, args ...any)) (*KinesisMapping, error) {
	region, err := cfg.check()
	if err != nil {
		return nil, err
	}
	if report == nil {
		report = func(string, ...any) {}
	}
	return &KinesisMapping{
		fn: fn, cfg: cfg, region: region, clock: clock, kin: kin, dlq: dlq, fault: fault, report: report,
		shards: map[string]*shard{},
	}, nil
}

// Stats returns the counts so far.
func (m *KinesisMapping) Stats() KinesisStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Pending returns how many records Poll read that are neither processed
// nor discarded.
func (m *KinesisMapping) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, sh := range m.shards {
		n += len(sh.queued) + sh.taken
	}
	return n
}

// Wait blocks until the records read so far are processed or discarded,
// or the context of the Poll that read them is done.
func (m *KinesisMapping) Wait() { m.wg.Wait() }

// Err returns the records that were lost: discarded, but their on-failure
// record could not be sent.
func (m *KinesisMapping) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.errs...)
}

// Poll reads the records put into each shard since the last Poll and hands
// them to the shard's processing, which runs in the background with ctx.
// It returns how many records it read. Records whose processing ctx ends
// stay pending and are processed after a later Poll.
func (m *KinesisMapping) Poll(ctx context.Context) (int, error) {
	if err := m.listShards(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, id := range m.order {
		sh := m.shards[id]
		recs, err := m.read(ctx, sh)
		total += len(recs)
		m.mu.Lock()
		if len(recs) > 0 {
			if len(sh.queued) == 0 {
				sh.since = m.clock.Now()
			}
			sh.queued = append(sh.queued, recs...)
			m.stats.Records += len(recs)
			select {
			case sh.more <- struct{}{}:
			default:
			}
		}
		if len(sh.queued) > 0 && !sh.busy {
			sh.busy = true
			m.wg.Add(1)
			go m.drain(ctx, sh)
		}
		m.mu.Unlock()
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// listShards finds the stream's shards and opens an iterator at the
// starting position on each new one.
func (m *KinesisMapping) listShards(ctx context.Context) error {
	in := &kinesis.ListShardsInput{StreamARN: aws.String(m.cfg.StreamARN)}
	for {
		out, err := m.kin.ListShards(ctx, in)
		if err != nil {
			return fmt.Errorf("list shards of %s: %w", m.cfg.StreamARN, err)
		}
		for _, s := range out.Shards {
			id := aws.ToString(s.ShardId)
			if _, ok := m.shards[id]; ok {
				continue
			}
			sh := &shard{id: id, more: make(chan struct{}, 1)}
			if err := m.openIterator(ctx, sh); err != nil {
				return err
			}
			m.mu.Lock()
			m.shards[id] = sh
			m.order = append(m.order, id)
			m.mu.Unlock()
		}
		if out.NextToken == nil {
			return nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// openIterator points sh's iterator after the last record read, or at the
// starting position before the first.
func (m *KinesisMapping) openIterator(ctx context.Context, sh *shard) error {
	in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(m.cfg.StreamARN), ShardId: aws.String(sh.id), ShardIteratorType: m.cfg.StartingPosition}
	if sh.last != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(sh.last)
	}
	out, err := m.kin.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("get %s iterator of %s: %w", in.ShardIteratorType, sh.id, err)
	}
	sh.iterator = out.ShardIterator
	return nil
}

// read returns the records of sh since the last read, until the shard has
// no more (or is closed).
func (m *KinesisMapping) read(ctx context.Context, sh *shard) ([]*streamRecord, error) {
	var recs []*streamRecord
	for sh.iterator != nil {
		out, err := m.kin.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(m.cfg.StreamARN), ShardIterator: sh.iterator})
		var expired *types.ExpiredIteratorException
		if errors.As(err, &expired) {
			if err = m.openIterator(ctx, sh); err == nil {
				continue
			}
		}
		if err != nil {
			return recs, fmt.Errorf("get records of %s: %w", sh.id, err)
		}
		sh.iterator = out.NextShardIterator
		if len(out.Records) == 0 {
			break
		}
		for _, r := range out.Records {
			rec, err := m.record(sh.id, r)
			if err != nil {
				return recs, err
			}
			recs = append(recs, rec)
			sh.last = aws.ToString(r.SequenceNumber)
		}
	}
	return recs, nil
}

// record is r as the function gets it, its arrival on the twin's clock.
func (m *KinesisMapping) record(shardID string, r types.Record) (*streamRecord, error) {
	seq := aws.ToString(r.SequenceNumber)
	arrival := m.clock.Now()
	if r.ApproximateArrivalTimestamp != nil {
		arrival = m.clock.At(*r.ApproximateArrivalTimestamp)
	}
	ev := events.KinesisEventRecord{
		AwsRegion:         m.region,
		EventID:           shardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    m.cfg.StreamARN,
		EventVersion:      "1.0",
		InvokeIdentityArn: m.cfg.InvokeIdentityARN,
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			Data:                        r.Data,
			PartitionKey:                aws.ToString(r.PartitionKey),
			SequenceNumber:              seq,
			KinesisSchemaVersion:        "1.0",
		},
	}
	if r.EncryptionType != "" && r.EncryptionType != types.EncryptionTypeNone {
		ev.Kinesis.EncryptionType = string(r.EncryptionType)
	}
	doc, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", ev.EventID, err)
	}
	return &streamRecord{ev: ev, size: len(doc) + 1}, nil // and a comma
}

// drain processes sh's queued records, a batch at a time, until none is
// left or ctx is done.
func (m *KinesisMapping) drain(ctx context.Context, sh *shard) {
	defer m.wg.Done()
	for {
		b, ok := m.next(ctx, sh)
		if !ok {
			return
		}
		if rest := m.process(ctx, sh, b); len(rest) > 0 {
			m.mu.Lock()
			sh.queued = append(rest, sh.queued...)
			sh.taken -= len(rest)
			sh.busy = false
			m.mu.Unlock()
			return
		}
	}
}

// next takes the next batch of sh: BatchSize records within
// MaxInvocationBytes, or fewer once the batching window has passed. It
// returns false, and marks sh idle, when no record is queued or ctx is
// done.
func (m *KinesisMapping) next(ctx context.Context, sh *shard) (batch, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if len(sh.queued) == 0 || ctx.Err() != nil {
			sh.busy = false
			return batch{}, false
		}
		n, bytes := 0, len(`{"Records":[]}`)
		for n < len(sh.queued) && n < m.cfg.BatchSize && (n == 0 || bytes+sh.queued[n].size <= MaxInvocationBytes) {
			bytes += sh.queued[n].size
			n++
		}
		wait := sh.since.Add(m.cfg.BatchWindow).Sub(m.clock.Now())
		if n == m.cfg.BatchSize || n < len(sh.queued) || wait <= 0 {
			b := batch{recs: sh.queued[:n:n]}
			sh.queued = sh.queued[n:]
			sh.taken += n
			return b, true
		}
		m.mu.Unlock()
		select {
		case <-sh.more:
		case <-time.After(m.clock.Real(wait)):
		case <-ctx.Done():
		}
		m.mu.Lock()
	}
}

// process runs b and what it splits into to completion: each part is
// checkpointed or discarded. When ctx ends first it returns the records
// still to process, in order.
func (m *KinesisMapping) process(ctx context.Context, sh *shard, b batch) []*streamRecord {
	todo := []batch{b}
	for len(todo) > 0 {
		cur := todo[0]
		todo = todo[1:]
		if cur.retries > 0 || cur.recs[0].invokes > 0 {
			if err := m.clock.Sleep(ctx, retryBackoff.Delay(cur.retries)); err != nil {
				return pending(cur, todo)
			}
		}
		if cur = m.expire(ctx, sh, cur); len(cur.recs) == 0 {
			continue
		}
		failed, err := m.invoke(ctx, &cur)
		if ctx.Err() != nil {
			return pending(cur, todo)
		}
		m.done(sh, failed, func(s *KinesisStats) { s.Processed += failed })
		if failed == len(cur.recs) {
			continue
		}
		cur.err = err
		if err != nil && m.cfg.Bisect && len(cur.recs) > 1 {
			half := len(cur.recs) / 2
			m.count(func(s *KinesisStats) { s.Bisects++ })
			m.report("shard %s: batch of %d records failed (%v); bisected", sh.id, len(cur.recs), err)
			first, second := cur, cur
			first.recs, second.recs = cur.recs[:half], cur.recs[half:]
			todo = append([]batch{first, second}, todo...)
			continue
		}
		cur.recs = cur.recs[failed:]
		if m.cfg.MaxRetries >= 0 && cur.retries >= m.cfg.MaxRetries {
			m.discard(ctx, sh, cur, ConditionRetryAttemptsExhausted)
			continue
		}
		if err != nil {
			m.report("shard %s: batch of %d records failed (%v); retrying", sh.id, len(cur.recs), err)
		} else {
			m.report("shard %s: %d records reported failed from %s; retrying from it", sh.id, len(cur.recs), cur.recs[0].ev.Kinesis.SequenceNumber)
		}
		cur.retries++
		cur.retry = true
		todo = append([]batch{cur}, todo...)
	}
	return nil
}

// pending lists the records of cur and todo, in order.
func pending(cur batch, todo []batch) []*streamRecord {
	recs := append([]*streamRecord(nil), cur.recs...)
	for _, b := range todo {
		recs = append(recs, b.recs...)
	}
	return recs
}

// expire discards the records of b older than MaxRecordAge (the first
// ones: arrival times only grow along a shard) and returns the rest.
func (m *KinesisMapping) expire(ctx context.Context, sh *shard, b batch) batch {
	if m.cfg.MaxRecordAge <= 0 {
		return b
	}
	now := m.clock.Now()
	n := 0
	for n < len(b.recs) && now.Sub(b.recs[n].ev.Kinesis.ApproximateArrivalTimestamp.Time) > m.cfg.MaxRecordAge {
		n++
	}
	if n > 0 {
		old := b
		old.recs = b.recs[:n]
		m.discard(ctx, sh, old, ConditionRecordAgeExceeded)
		b.recs = b.recs[n:]
	}
	return b
}

// invoke runs one invocation of b and returns how many of its records,
// from the first, the function accepted: all of them on success, those
// before the lowest sequence number it reported with
// ReportBatchItemFailures, none when it failed (with the error).
func (m *KinesisMapping) invoke(ctx context.Context, b *batch) (int, error) {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(b.recs))}
	for i, r := range b.recs {
		r.invokes++
		ev.Records[i] = r.ev
	}
	b.request = newRequestID()
	retry := b.retry
	b.retry = false
	m.count(func(s *KinesisStats) {
		s.Batches++
		if retry {
			s.Retries++
		}
	})
	if m.fault != nil {
		if err := m.fault(b.recs[0].invokes, ev); err != nil {
			return 0, err
		}
	}
	lc := &lambdacontext.LambdaContext{AwsRequestID: b.request, InvokedFunctionArn: m.cfg.FunctionARN}
	resp, err := call(ctx, m.cfg.Timeout, lc, m.fn, ev)
	if err != nil {
		return 0, err
	}
	if !m.cfg.ReportBatchItemFailures {
		return len(b.recs), nil
	}
	failed := len(b.recs)
	for _, f := range resp.BatchItemFailures {
		i := -1
		for j, r := range b.recs {
			if r.ev.Kinesis.SequenceNumber == f.ItemIdentifier {
				i = j
				break
			}
		}
		if i < 0 {
			return 0, fmt.Errorf("batchItemFailures names %q, no sequence number of the batch: the whole batch failed", f.ItemIdentifier)
		}
		failed = min(failed, i)
	}
	return failed, nil
}

// done checkpoints n records of sh.
func (m *KinesisMapping) done(sh *shard, n int, f func(*KinesisStats)) {
	m.mu.Lock()
	sh.taken -= n
	f(&m.stats)
	m.mu.Unlock()
}

func (m *KinesisMapping) count(f func(*KinesisStats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}

// discard sends the on-failure record of b and checkpoints it.
func (m *KinesisMapping) discard(ctx context.Context, sh *shard, b batch, condition string) {
	first, last := b.recs[0], b.recs[len(b.recs)-1]
	rec := KinesisFailureRecord{
		RequestContext: redrive.RequestContext{
			RequestID: b.request, FunctionARN: m.cfg.FunctionARN,
			Condition: condition, ApproximateInvokeCount: first.invokes,
		},
		ResponseContext: redrive.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST"},
		Version:         "1.0",
		Timestamp:       m.clock.Now().UTC().Format(timestampMillis),
		KinesisBatchInfo: KinesisBatchInfo{
			ShardID:                         sh.id,
			StartSequenceNumber:             first.ev.Kinesis.SequenceNumber,
			EndSequenceNumber:               last.ev.Kinesis.SequenceNumber,
			ApproximateArrivalOfFirstRecord: first.ev.Kinesis.ApproximateArrivalTimestamp.UTC().Format(timestampMillis),
			ApproximateArrivalOfLastRecord:  last.ev.Kinesis.ApproximateArrivalTimestamp.UTC().Format(timestampMillis),
			BatchSize:                       len(b.recs),
			StreamARN:                       m.cfg.StreamARN,
		},
	}
	if b.request == "" {
		rec.RequestContext.RequestID = newRequestID()
	}
	if b.err != nil {
		rec.ResponseContext.FunctionError = "Unhandled"
	}
	err := m.sendFailure(ctx, rec)
	m.done(sh, len(b.recs), func(s *KinesisStats) {
		s.Failed += len(b.recs)
		if err == nil && m.cfg.OnFailureURL != "" {
			s.FailureRecords++
		}
	})
	if err != nil {
		m.mu.Lock()
		m.errs = append(m.errs, err)
		m.mu.Unlock()
		return
	}
	m.report("shard %s: %d records from %s discarded (%s after %d invocations)", sh.id, len(b.recs), first.ev.Kinesis.SequenceNumber, condition, first.invokes)
}

// timestampMillis is how Lambda writes the times of an on-failure record.
const timestampMillis = "2006-01-02T15:04:05.000Z"

// sendFailure sends rec to the on-failure queue, if there is one.
func (m *KinesisMapping) sendFailure(ctx context.Context, rec KinesisFailureRecord) error {
	if m.cfg.OnFailureURL == "" {
		return nil
	}
	info := rec.KinesisBatchInfo
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode on-failure record of %s %s: %w", info.ShardID, info.StartSequenceNumber, err)
	}
	if _, err := m.dlq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(m.cfg.OnFailureURL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("send on-failure record of %d records of %s from %s to %s (they are discarded): %w",
			info.BatchSize, info.ShardID, info.StartSequenceNumber, m.cfg.OnFailureURL, err)
	}
	return nil
}

// FaultPerRecord makes a KinesisFaultFunc of f, a fault of subscription
// deliveries: a batch fails when f fails one of its records, each given
// as the awslogs event of its data (gzipped awslogs JSON, which the event
// carries base64-encoded), with the batch's attempt. So --fail-deliveries
// fails the same deliveries through a logs destination as through Lambda.
func FaultPerRecord(f FaultFunc) KinesisFaultFunc {
	return func(attempt int, ev events.KinesisEvent) error {
		for _, r := range ev.Records {
			data := base64.StdEncoding.EncodeToString(r.Kinesis.Data)
			if err := f(attempt, events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}); err != nil {
				return fmt.Errorf("record %s: %w", r.Kinesis.SequenceNumber, err)
			}
		}
		return nil
	}
}
