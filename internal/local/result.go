package local

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/store"
)

// AlarmResult is what became of one alarm.
type AlarmResult struct {
	Name        string             `json:"name"`
	State       alarm.State        `json:"state"`
	Transitions []alarm.Transition `json:"transitions"`
	Published   int                `json:"published"` // notifications published to SNS
}

// Result is what a run did, hop by hop.
type Result struct {
	Deployment  Deployment          `json:"deployment"`
	Elapsed     time.Duration       `json:"-"`       // real time since New
	Emitted     emit.Summary        `json:"emitted"` // the emitter's invocations, added up
	Shipped     ShipStats           `json:"shipped"` // every stream the twin wrote, added up
	Metrics     MetricStats         `json:"metrics"` // every metric filter, added up
	Alarms      []AlarmResult       `json:"alarms"`
	Deliveries  SubscriptionStats   `json:"deliveries"` // every subscription filter, added up
	Invocations InvokeStats         `json:"invocations"`
	Emails      []email.SentMail    `json:"emails"`
	Incidents   []incident.Incident `json:"-"`
	DLQDepth    int                 `json:"dlq_depth"` // messages in the dead-letter queue, in flight included
	// PathB is what the member accounts' deliveries did, with members.
	PathB *PathBResult `json:"path_b,omitempty"`
}

// PathBResult is what Path B did: the member accounts' subscription
// filters, the central logs destination and the event source mapping of
// its stream.
type PathBResult struct {
	Subscriptions SubscriptionStats `json:"subscriptions"` // every member filter, added up
	Destination   DestinationStats  `json:"destination"`
	Kinesis       KinesisStats      `json:"kinesis"`
}

// Result gathers what the twin did and reads the incidents table and the
// dead-letter queue.
func (t *Twin) Result(ctx context.Context) (*Result, error) {
	r := &Result{Deployment: t.dep, Elapsed: t.real().Sub(t.start)}
	for _, s := range t.emitted {
		r.Emitted.Errors += s.Errors
		r.Emitted.Warnings += s.Warnings
		r.Emitted.Infos += s.Infos
		r.Emitted.Lines += s.Lines
		r.Emitted.Bytes += s.Bytes
	}
	for _, w := range t.writers {
		s := w.Stats()
		r.Shipped.Events += s.Events
		r.Shipped.Bytes += s.Bytes
		r.Shipped.Batches += s.Batches
		r.Shipped.Retries += s.Retries
	}
	for _, f := range t.filters {
		s := f.Stats()
		r.Metrics.Events += s.Events
		r.Metrics.Matched += s.Matched
		r.Metrics.Samples += s.Samples
		r.Metrics.Sum += s.Sum
		r.Metrics.Datums += s.Datums
		r.Metrics.Requests += s.Requests
	}
	for _, a := range t.alarms {
		r.Alarms = append(r.Alarms, AlarmResult{Name: a.cfg.Name, State: a.State(), Transitions: a.Transitions(), Published: a.Published()})
	}
	if t.mapping != nil {
		r.PathB = &PathBResult{Kinesis: t.mapping.Stats()}
		if t.destination != nil {
			r.PathB.Destination = t.destination.Stats()
		}
	}
	for _, w := range t.watches {
		sum := &r.Deliveries
		if w.account != "" {
			sum = &r.PathB.Subscriptions
		}
		for _, s := range w.subs {
			st := s.Stats()
			sum.Events += st.Events
			sum.Matched += st.Matched
			sum.Deliveries += st.Deliveries
		}
	}
	if t.invoker != nil {
		r.Invocations = t.invoker.Stats()
	}
	if t.relay != nil {
		r.Emails = t.relay.Sent()
	}
	var err error
	if r.Incidents, err = incidents(ctx, t.c.ddb, t.dep.Table); err != nil {
		return nil, err
	}
	if r.DLQDepth, err = queueDepth(ctx, t.c.sqs, t.dep.DLQURL); err != nil {
		return nil, err
	}
	return r, nil
}

// incidents reads every incident of table, most occurrences first.
func incidents(ctx context.Context, db *dynamodb.Client, table string) ([]incident.Incident, error) {
	if table == "" {
		return nil, nil
	}
	all, err := store.New(db, table).List(ctx, store.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read incidents of %s: %w", table, err)
	}
	slices.SortStableFunc(all, func(a, b incident.Incident) int { return cmp.Compare(b.Occurrences, a.Occurrences) })
	return all, nil
}

// depthReader is the subset of *sqs.Client that queueDepth calls.
type depthReader interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// queueDepth returns the approximate number of messages in the queue,
// visible or in flight.
func queueDepth(ctx context.Context, q depthReader, url string) (int, error) {
	if url == "" {
		return 0, nil
	}
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("depth of %s: %w", url, err)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, err := strconv.Atoi(out.Attributes[string(k)])
		if err != nil {
			return 0, fmt.Errorf("depth of %s: %s %q: %w", url, k, out.Attributes[string(k)], err)
		}
		n += v
	}
	return n, nil
}

// WriteSummary writes the result for a person: one line per hop, details
// indented below it. Times are on the twin's clock.
func (r *Result) WriteSummary(w io.Writer) error {
	var b strings.Builder
	d := r.Deployment
	row := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-19s%s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "logalert demo: stack %s, log group %s (%.1fs)\n\n", d.StackName, d.LogGroup, r.Elapsed.Seconds())
	if len(d.LogGroups) > 1 || d.AccountPolicy != "" {
		row("watched groups", "%s", strings.Join(d.LogGroups, ", "))
	}
	if d.AccountPolicy != "" {
		row("account policy", "%s: every log group but %s", d.AccountPolicy, strings.Join(d.ExcludedLogGroups, ", "))
	}
	row("lines emitted", "%d (%d errors, %d warnings, %d infos); %s stored in %s",
		r.Emitted.Lines, r.Emitted.Errors, r.Emitted.Warnings, r.Emitted.Infos, plural(r.Shipped.Events, "event"), plural(r.Shipped.Batches, "PutLogEvents call"))
	row("metric", "%s (%s matched the metric filter), sum %g, sent as %d MetricDatum in %s",
		plural(r.Metrics.Samples, "value"), plural(r.Metrics.Matched, "event"), r.Metrics.Sum,
		r.Metrics.Datums, plural(r.Metrics.Requests, "PutMetricData call"))
	for _, a := range r.Alarms {
		row("alarm", "%s: now %s, %s published", a.Name, a.State, plural(a.Published, "notification"))
		for _, tr := range a.Transitions {
			row("", "%s  %s -> %s", tr.Time.UTC().Format("15:04:05"), tr.Old, tr.New)
		}
	}
	row("deliveries", "%s of the %s the subscription matched: %d processed, %d dead-lettered (%s)",
		plural(r.Deliveries.Deliveries, "payload"), plural(r.Deliveries.Matched, "event"), r.Invocations.Succeeded, r.Invocations.DeadLettered, plural(r.Invocations.FailedAttempts, "failed attempt"))
	if p := r.PathB; p != nil {
		var ms []string
		for _, m := range d.Members {
			ms = append(ms, fmt.Sprintf("%s (%s)", m.AccountID, strings.Join(m.LogGroups, ", ")))
		}
		row("member accounts", "%s", strings.Join(ms, ", "))
		row("path B", "%s of the %s the member filters matched, to %s: %s on %s",
			plural(p.Subscriptions.Deliveries, "payload"), plural(p.Subscriptions.Matched, "event"), d.Destination, plural(p.Destination.Deliveries, "record"), d.Stream)
		row("", "event source mapping: %s in %d batch(es), %d processed, %d failed to the dead-letter queue (%d retried, %s)",
			plural(p.Kinesis.Records, "record"), p.Kinesis.Batches, p.Kinesis.Processed, p.Kinesis.Failed, p.Kinesis.Retries, plural(p.Kinesis.Bisects, "bisect"))
	}
	if d.WriterRole != "" {
		row("path A", "member writers assume %s with the ExternalId and write into %s", d.WriterRole, d.LogGroup)
	}
	row("emails", "%d", len(r.Emails))
	for _, e := range r.Emails {
		row("", "%s", e.Where)
	}
	row("incidents", "%d in %s", len(r.Incidents), d.Table)
	for _, in := range r.Incidents {
		if len(d.Members) > 0 {
			row("", "%-28s %-8s %-12s %4d× %-12s %-24s %s", in.ID, in.Severity, in.Status, in.Occurrences, in.AccountID, in.LogGroup, truncate(in.SampleMessage, 40))
			continue
		}
		if len(d.LogGroups) > 1 || d.AccountPolicy != "" {
			row("", "%-28s %-8s %-12s %4d× %-24s %s", in.ID, in.Severity, in.Status, in.Occurrences, in.LogGroup, truncate(in.SampleMessage, 48))
			continue
		}
		row("", "%-28s %-8s %-12s %4d× %s", in.ID, in.Severity, in.Status, in.Occurrences, truncate(in.SampleMessage, 60))
	}
	row("dead-letter queue", "%s", plural(r.DLQDepth, "message"))
	_, err := io.WriteString(w, b.String())
	return err
}

// plural writes n and word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
