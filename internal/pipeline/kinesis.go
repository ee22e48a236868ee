package pipeline

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logalert/logalert/internal/awslogs"
)

// HandleKinesis processes a batch of a Kinesis event source mapping on the
// stream a CloudWatch Logs destination writes to: each record's data is
// one gzipped awslogs document (no base64: the event source has decoded
// it). It processes every record in order, as Handle processes a delivery,
// and skips CONTROL_MESSAGE records. A record that fails, corrupt (bad
// gzip or JSON, over a limit) or not recorded (the store or the alerts
// topic failed), is reported in BatchItemFailures by its sequence number
// and never fails the others: the mapping retries from the lowest one
// reported (the records after it come again, and count once, since each
// record's DeliveryID is recorded with its incidents), and after its
// retries sends the batch's shard and sequence numbers to the on-failure
// queue for logalert redrive. A corrupt record is reported too, rather
// than dropped: nothing is lost, and redrive says which records stay
// corrupt. It logs one line per failed record and one per batch. Its
// error is always nil: every failure is a record's.
func (h *Processor) HandleKinesis(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	var (
		resp events.KinesisEventResponse
		t    = total{matchedBy: map[string]int{}}
	)
	for _, r := range ev.Records {
		c, err := h.process(ctx, func(fn func(*awslogs.Payload) error) error {
			return awslogs.ViewGzip(r.Kinesis.Data, h.limits, fn)
		})
		t.add(c, err)
		if err != nil {
			h.log.ErrorContext(ctx, "kinesis record failed", "err", err, "bad_payload", c.badPayload,
				"sequence_number", r.Kinesis.SequenceNumber, "event_id", r.EventID, "account", c.account,
				"encoded_bytes", len(r.Kinesis.Data), "events", c.events, "incidents", c.incidents)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
			continue
		}
		if !c.control && !c.dropped && c.account != "" {
			t.matchedBy[c.account] += c.matched
		}
	}
	h.emitMetrics(ctx, t)
	h.log.InfoContext(ctx, "kinesis batch processed", "records", t.deliveries, "failed", t.failed,
		"bad_payloads", t.bad, "control", t.control, "dropped", t.dropped, "events", t.events,
		"matched", t.matched, "incidents", t.incidents, "opened", t.opened, "reopened", t.reopened,
		"duplicates", t.duplicates, "alerts", t.alerts)
	return resp, nil
}
