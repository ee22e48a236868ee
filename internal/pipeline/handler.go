package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/backoff"
	"github.com/logalert/logalert/internal/emf"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/store"
)

// recorder is the part of *store.Store the handler uses.
type recorder interface {
	Record(ctx context.Context, delivery string, deltas []incident.Delta, alerts bool) (store.Result, error)
	ClaimAlerts(ctx context.Context, alerts []store.Alert) (won, held []store.Alert, err error)
	ClearAlerts(ctx context.Context, alerts []store.Alert) error
	ReleaseAlerts(ctx context.Context, alerts []store.Alert) error
}

// publisher announces an incident; *notify.Notifier implements it.
type publisher interface {
	Publish(ctx context.Context, in incident.Incident, change incident.Change) error
}

// Processor processes subscription deliveries. Build it once per cold
// start; Handle is safe for concurrent use.
type Processor struct {
	cfg       Config
	ownDrop   atomic.Bool // a drop from the processor's own group was logged
	limits    awslogs.Limits
	match     incident.Matcher
	store     recorder
	alerts    publisher // nil without ALERTS_TOPIC_ARN
	metrics   io.Writer // EMF records; nil without METRICS_NAMESPACE
	namespace string
	log       *slog.Logger
	now       func() time.Time
}

// FromEnv builds a Processor from the environment (see LoadConfig) and the
// SDK's default configuration chain, writing EMF records to stdout.
func FromEnv(ctx context.Context, getenv func(string) string) (*Processor, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	aws, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return New(cfg, aws, WithMetrics(os.Stdout)), nil
}

// Option configures a Processor.
type Option func(*Processor)

// WithMetrics sends EMF records to w (when the Config has a Namespace).
func WithMetrics(w io.Writer) Option { return func(p *Processor) { p.metrics = w } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.log = l } }

// WithClock sets the clock of metrics and stored timestamps.
func WithClock(now func() time.Time) Option { return func(p *Processor) { p.now = now } }

// New builds a Processor from a validated Config and an SDK configuration.
func New(cfg Config, aws awssdk.Config, opts ...Option) *Processor {
	p := &Processor{
		cfg:       cfg,
		limits:    cfg.Limits,
		match:     cfg.Pattern,
		namespace: cfg.Namespace,
		log:       slog.Default(),
		now:       time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	p.store = store.New(dynamodb.NewFromConfig(aws), cfg.Table, store.WithClock(p.now))
	if cfg.TopicARN != "" {
		p.alerts = notify.New(sns.NewFromConfig(aws), cfg.TopicARN, aws.Region)
	}
	return p
}

// counts are what one invocation did, for its log line and metrics.
type counts struct {
	events, matched, incidents, opened, reopened, duplicates, alerts int
	decompressed                                                     int
	badPayload                                                       bool
	dropped                                                          bool // from an excluded log group
}

// Handle processes one delivery and logs its outcome once: the counts on
// success, the reason on failure. A returned error makes Lambda retry and
// finally send the event to the dead-letter queue.
func (h *Processor) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	c, err := h.process(ctx, ev)
	h.emitMetrics(ctx, c)
	if err != nil {
		h.log.ErrorContext(ctx, "delivery failed", "err", err, "bad_payload", c.badPayload,
			"encoded_bytes", len(ev.AWSLogs.Data), "events", c.events, "incidents", c.incidents)
		return err
	}
	if c.dropped {
		return nil // logged once by process, see dropLog
	}
	h.log.InfoContext(ctx, "delivery processed", "events", c.events, "matched", c.matched,
		"incidents", c.incidents, "opened", c.opened, "reopened", c.reopened,
		"duplicates", c.duplicates, "alerts", c.alerts)
	return nil
}

// process reads as the data flow: decode, match and group, record, alert.
func (h *Processor) process(ctx context.Context, ev events.CloudwatchLogsEvent) (counts, error) {
	var (
		c                    counts
		control              bool
		logGroup, deliveryID string
		g                    incident.Grouping
	)
	// The payload is a transient view: what outlives the callback is
	// copied out of it (Group's result shares no memory with it).
	err := awslogs.View(ev.AWSLogs.Data, h.limits, func(p *awslogs.Payload) error {
		c.events, c.decompressed = len(p.LogEvents), p.DecompressedBytes
		logGroup = strings.Clone(p.LogGroup)
		if _, c.dropped = h.cfg.excluded(logGroup); c.dropped {
			return nil
		}
		if control = p.MessageType == awslogs.MessageTypeControl; !control {
			g, deliveryID = incident.Group(p, h.match), incident.DeliveryID(p)
		}
		return nil
	})
	if err != nil {
		c.badPayload = true
		return c, err // "awslogs: malformed payload: ..." says it all
	}
	if control {
		h.log.InfoContext(ctx, "control message ignored", "log_group", logGroup)
		return c, nil
	}
	if c.dropped {
		// Not an error: a retry would only come back here.
		h.dropLog(ctx, logGroup, c.events)
		return c, nil
	}
	c.matched, c.incidents = g.Matched, len(g.Deltas)
	res, err := h.store.Record(ctx, deliveryID, g.Deltas, h.alerts != nil)
	c.opened, c.reopened, c.duplicates = res.Opened, res.Reopened, res.Duplicates
	if err != nil {
		return c, fmt.Errorf("record %d incidents of %s: %w", len(g.Deltas), logGroup, err)
	}
	c.alerts, err = h.announce(ctx, res.Alerts)
	return c, err
}

// announce publishes every alert exactly once across racing deliveries:
// it claims each (a concurrent redelivery of this payload may hold the
// same pending alerts), publishes the ones it won, then clears them. Alerts
// another delivery holds are waited for, and taken over if their lease runs
// out, for as long as the invocation has time. Alerts that failed to publish
// are released and stay pending in the store, and the error makes the
// delivery come back for them.
func (h *Processor) announce(ctx context.Context, alerts []store.Alert) (int, error) {
	if h.alerts == nil || len(alerts) == 0 {
		return 0, nil
	}
	var (
		sent, failed []store.Alert
		errs         []error
		pending      = alerts
	)
	for attempt := 1; len(pending) > 0; attempt++ {
		won, held, err := h.store.ClaimAlerts(ctx, pending)
		if err != nil {
			failed = append(failed, won...) // release what was claimed
			errs = append(errs, err)
			break
		}
		pending = held
		var published []store.Alert
		for i, a := range won {
			if !backoff.TimeLeft(ctx, publishMargin) {
				failed = append(failed, won[i:]...)
				errs = append(errs, fmt.Errorf("out of time with %d alerts to publish", len(won)-i))
				break
			}
			if err := h.alerts.Publish(ctx, a.Incident, a.Change); err != nil {
				errs = append(errs, err)
				failed = append(failed, a)
				continue
			}
			published = append(published, a)
		}
		// Clear at once, before any wait: a delivery waiting on these must
		// see them done, not held.
		if err := h.store.ClearAlerts(ctx, published); err != nil {
			errs = append(errs, err)
		}
		sent = append(sent, published...)
		if len(pending) == 0 || len(errs) > 0 {
			break
		}
		wait := alertWait.Delay(attempt)
		if !backoff.TimeLeft(ctx, wait+publishMargin) {
			errs = append(errs, fmt.Errorf("%d alerts are still held by another delivery", len(pending)))
			break
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if err := h.store.ReleaseAlerts(ctx, failed); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		owed := len(failed) + len(pending)
		return len(sent), fmt.Errorf("announce: %d alerts still owed: %w", owed, err)
	}
	return len(sent), nil
}

// alertWait spaces the checks on alerts another delivery holds: it clears
// them within a publish or two, or its lease runs out.
var alertWait = backoff.Policy{Base: 50 * time.Millisecond, Max: 2 * time.Second}

// publishMargin is the time an invocation keeps in hand before its deadline
// when it starts to publish an alert: enough for the publish, the clear of
// what was published and the release of the rest, so that an alert never
// goes out without being cleared.
const publishMargin = 3 * time.Second

// emitMetrics writes the invocation's EMF record, if metrics are on (a
// namespace and a writer).
func (h *Processor) emitMetrics(ctx context.Context, c counts) {
	if h.namespace == "" || h.metrics == nil {
		return
	}
	bad, dropped := 0.0, 0.0
	if c.badPayload {
		bad = 1
	}
	if c.dropped {
		dropped = 1
	}
	err := emf.Write(h.metrics, h.namespace, h.now(), nil, []emf.Metric{
		{Name: "EventsProcessed", Unit: "Count", Value: float64(c.events)},
		{Name: "EventsMatched", Unit: "Count", Value: float64(c.matched)},
		{Name: "IncidentsOpened", Unit: "Count", Value: float64(c.opened)},
		{Name: "IncidentsReopened", Unit: "Count", Value: float64(c.reopened)},
		{Name: "BadPayloads", Unit: "Count", Value: bad},
		{Name: "DeliveriesDropped", Unit: "Count", Value: dropped},
		{Name: "DecompressedBytes", Unit: "Bytes", Value: float64(c.decompressed)},
	})
	if err != nil {
		h.log.WarnContext(ctx, "metrics not written", "err", err)
	}
}
