package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logalert/logalert/internal/awslogs"
)

// queueAPI is the subset of *sqs.Client that Redriver calls.
type queueAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Result is what a run did with one message.
type Result int

// Results.
const (
	Redriven     Result = iota // processed and deleted
	Failed                     // the target failed again (or the delete did): left in the queue
	Skipped                    // not a redrivable record: left in the queue
	WouldRedrive               // dry run: would have been redriven
	Expired                    // its Kinesis records are no longer in the stream: left in the queue
)

// String returns "redriven", "failed", "skipped", "would redrive" or
// "expired".
func (r Result) String() string {
	switch r {
	case Expired:
		return "expired"
	case Redriven:
		return "redriven"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return "would redrive"
}

// Outcome is what happened to one message.
type Outcome struct {
	MessageID string
	Record    Record // Timestamp and RequestContext are zero for a bare event
	LogGroup  string // from the payload; empty when it does not decode ("3 log groups" for a Kinesis batch of several)
	Events    int    // log events in the payload
	// Records is how many records of a Kinesis batch were read back from
	// the stream, and FailedRecords the sequence numbers of those that
	// failed again.
	Records       int
	FailedRecords []string
	Result        Result
	Err           error // why it failed, expired or was skipped
}

// Summary is what a run did.
type Summary struct {
	Redriven, Failed, Skipped, WouldRedrive, Expired int
	Outcomes                                         []Outcome // in the order handled
}

func (s *Summary) add(o Outcome) {
	switch o.Result {
	case Redriven:
		s.Redriven++
	case Failed:
		s.Failed++
	case Skipped:
		s.Skipped++
	case WouldRedrive:
		s.WouldRedrive++
	case Expired:
		s.Expired++
	}
	s.Outcomes = append(s.Outcomes, o)
}

// Options controls one run.
type Options struct {
	DryRun bool // receive and describe, send and delete nothing
	Max    int  // handle at most Max messages; 0: until the queue is empty
	// Progress, if set, is called after each message with the number handled
	// so far and the estimated total (the queue's depth at the start, capped
	// by Max; it can be exceeded when messages arrive meanwhile).
	Progress func(done, total int, o Outcome)
}

// Redriver moves messages from a dead-letter queue to a Target.
type Redriver struct {
	queue      queueAPI
	url        string
	target     Target
	wait       int32         // long-poll seconds of each receive
	visibility int32         // seconds a received message stays hidden
	stream     Stream        // reads failed Kinesis batches back; nil: they are skipped
	kinesis    KinesisTarget // processes them (nil for dry runs only)
}

// Stream reads the records of a failed Kinesis batch back; *KinesisReader
// implements it.
type Stream interface {
	// Read returns the batch's records, or an error wrapping ErrExpired
	// when some are no longer in the stream.
	Read(ctx context.Context, b KinesisBatchInfo) ([]events.KinesisEventRecord, error)
}

// WithKinesis makes the Redriver redrive the records of Kinesis event
// source mappings: it reads each failed batch back with stream and has
// target (nil for dry runs only) process it. Without it such records are
// skipped.
func WithKinesis(stream Stream, target KinesisTarget) Option {
	return func(r *Redriver) { r.stream, r.kinesis = stream, target }
}

// Option configures a Redriver.
type Option func(*Redriver)

// WithWait sets how long each receive waits for messages (default 1 s; SQS
// long polling, so an empty answer means an empty queue).
func WithWait(d time.Duration) Option { return func(r *Redriver) { r.wait = int32(d / time.Second) } }

// New returns a Redriver from the queue at queueURL to target (nil for dry
// runs, or runs that redrive Kinesis batches only: see WithKinesis), using
// queue (usually an *sqs.Client).
func New(queue queueAPI, queueURL string, target Target, opts ...Option) *Redriver {
	// Ten messages a receive, each taking up to the processor's 30 s timeout.
	r := &Redriver{queue: queue, url: queueURL, target: target, wait: 1, visibility: 600}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Depth returns the approximate number of visible messages in the queue.
func (r *Redriver) Depth(ctx context.Context) (int, error) {
	out, err := r.queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &r.url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("read queue %s: %w", r.url, err)
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	if err != nil {
		return 0, fmt.Errorf("read queue %s: ApproximateNumberOfMessages: %w", r.url, err)
	}
	return n, nil
}

// Run receives messages until the queue is empty, opts.Max messages were
// handled or ctx ends, and redrives each: a message is deleted only after
// its target succeeded; every other message it received is made visible
// again before Run returns. It returns what it did and the error that
// stopped it early: a queue error, ctx's, or the target's once it is
// unavailable (ErrTargetUnavailable), which would fail every message alike.
func (r *Redriver) Run(ctx context.Context, opts Options) (sum Summary, err error) {
	if r.target == nil && r.kinesis == nil && !opts.DryRun {
		return sum, errors.New("redrive: no target")
	}
	total, err := r.Depth(ctx)
	if err != nil {
		return sum, err
	}
	if opts.Max > 0 {
		total = min(total, opts.Max)
	}
	held := map[string]string{} // received and not deleted: message id → receipt handle
	defer func() {
		// Release even when ctx was cancelled (Ctrl-C), but not forever.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = errors.Join(err, r.release(rctx, held))
	}()
	seen := map[string]bool{}
	done := 0
	for opts.Max == 0 || done < opts.Max {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		want := int32(10)
		if opts.Max > 0 {
			want = int32(min(10, opts.Max-done))
		}
		out, err := r.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            &r.url,
			MaxNumberOfMessages: want,
			WaitTimeSeconds:     r.wait,
			VisibilityTimeout:   r.visibility,
		})
		if err != nil {
			return sum, fmt.Errorf("receive from %s: %w", r.url, err)
		}
		if len(out.Messages) == 0 {
			return sum, nil
		}
		for k, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] || (opts.Max > 0 && done >= opts.Max) || ctx.Err() != nil {
				held[id] = aws.ToString(m.ReceiptHandle) // a repeat delivery, or one too many
				continue
			}
			seen[id] = true
			o := r.redrive(ctx, m, opts.DryRun)
			if o.Result == Redriven {
				if err := r.delete(ctx, m); err != nil {
					o.Result, o.Err = Failed, fmt.Errorf("processed but not deleted (redriving it again changes nothing): %w", err)
				}
			}
			if o.Result != Redriven {
				held[id] = aws.ToString(m.ReceiptHandle)
			}
			done++
			sum.add(o)
			if opts.Progress != nil {
				opts.Progress(done, max(total, done), o)
			}
			if errors.Is(o.Err, ErrTargetUnavailable) {
				for _, rest := range out.Messages[k+1:] { // with their newest receipt handles
					held[aws.ToString(rest.MessageId)] = aws.ToString(rest.ReceiptHandle)
				}
				return sum, fmt.Errorf("stopped at message %s (it and those not yet tried stay in the queue): %w", id, o.Err)
			}
		}
	}
	return sum, nil
}

// redrive handles one message.
func (r *Redriver) redrive(ctx context.Context, m types.Message, dryRun bool) Outcome {
	o := Outcome{MessageID: aws.ToString(m.MessageId)}
	rec, err := ParseMessage(aws.ToString(m.Body))
	o.Record = rec
	if err != nil {
		o.Result, o.Err = Skipped, err
		return o
	}
	if rec.KinesisBatchInfo != nil {
		return r.redriveKinesis(ctx, o, dryRun)
	}
	var ev events.CloudwatchLogsEvent
	if err := json.Unmarshal(rec.RequestPayload, &ev); err != nil || ev.AWSLogs.Data == "" {
		o.Result, o.Err = Skipped, errors.New("requestPayload is not a CloudWatch Logs subscription event")
		return o
	}
	if p, err := awslogs.Decode(ev.AWSLogs.Data, awslogs.DefaultLimits); err == nil {
		o.LogGroup, o.Events = p.LogGroup, len(p.LogEvents)
	}
	if dryRun {
		o.Result = WouldRedrive
		return o
	}
	if r.target == nil {
		o.Result, o.Err = Skipped, errors.New("a subscription delivery: this run redrives Kinesis batches only")
		return o
	}
	if err := r.target.Redrive(ctx, rec.RequestPayload); err != nil {
		o.Result, o.Err = Failed, err
		return o
	}
	o.Result = Redriven
	return o
}

// redriveKinesis reads the batch of a Kinesis record back from the stream
// and has the Kinesis target process it: the message may go only when
// every record was processed.
func (r *Redriver) redriveKinesis(ctx context.Context, o Outcome, dryRun bool) Outcome {
	b := *o.Record.KinesisBatchInfo
	if r.stream == nil || (r.kinesis == nil && !dryRun) {
		o.Result, o.Err = Skipped, errors.New("a Kinesis batch: this run reads no stream")
		return o
	}
	records, err := r.stream.Read(ctx, b)
	if err != nil {
		o.Result, o.Err = Failed, err
		if errors.Is(err, ErrExpired) {
			o.Result = Expired
			o.Err = fmt.Errorf("%w (it stays in the queue; the batch's %d records, %s to %s of %s, cannot be redriven)",
				err, b.BatchSize, b.StartSequenceNumber, b.EndSequenceNumber, b.ShardID)
		}
		return o
	}
	o.Records = len(records)
	o.LogGroup, o.Events = describeRecords(records)
	if dryRun {
		o.Result = WouldRedrive
		return o
	}
	failed, err := r.kinesis.RedriveKinesis(ctx, events.KinesisEvent{Records: records})
	o.FailedRecords = failed
	switch {
	case err != nil:
		o.Result, o.Err = Failed, err
	case len(failed) > 0:
		o.Result, o.Err = Failed, fmt.Errorf("%d of %d records failed again: %s", len(failed), len(records), strings.Join(failed, ", "))
	default:
		o.Result = Redriven
	}
	return o
}

// describeRecords names the log group of a batch's records ("N log
// groups" when they are of several) and counts their events; records that
// do not decode count for nothing.
func describeRecords(records []events.KinesisEventRecord) (string, int) {
	groups := map[string]bool{}
	var first string
	n := 0
	for _, rec := range records {
		_ = awslogs.ViewGzip(rec.Kinesis.Data, awslogs.DefaultLimits, func(p *awslogs.Payload) error {
			if p.MessageType == awslogs.MessageTypeData {
				if len(groups) == 0 {
					first = strings.Clone(p.LogGroup)
				}
				groups[strings.Clone(p.LogGroup)] = true
				n += len(p.LogEvents)
			}
			return nil
		}) // a corrupt record is the processor's to report
	}
	if len(groups) > 1 {
		return fmt.Sprintf("%d log groups", len(groups)), n
	}
	return first, n
}

func (r *Redriver) delete(ctx context.Context, m types.Message) error {
	_, err := r.queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &r.url, ReceiptHandle: m.ReceiptHandle})
	if err != nil {
		return fmt.Errorf("delete message %s: %w", aws.ToString(m.MessageId), err)
	}
	return nil
}

// release makes the held messages visible again, ten to a request.
func (r *Redriver) release(ctx context.Context, held map[string]string) error {
	var entries []types.ChangeMessageVisibilityBatchRequestEntry
	var errs []error
	flush := func() {
		if len(entries) == 0 {
			return
		}
		out, err := r.queue.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &r.url, Entries: entries})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("release %d messages (visible again within %d s anyway): %w", len(entries), r.visibility, err))
		case len(out.Failed) > 0:
			errs = append(errs, fmt.Errorf("release %d messages (visible again within %d s anyway): %s", len(out.Failed), r.visibility, aws.ToString(out.Failed[0].Message)))
		}
		entries = entries[:0]
	}
	i := 0
	for _, handle := range held {
		entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(handle), VisibilityTimeout: 0,
		})
		i++
		if len(entries) == 10 {
			flush()
		}
	}
	flush()
	return errors.Join(errs...)
}
