package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/emf"
	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/store"
)

// recorder is the part of *store.Store the handler uses: it records a
// delivery's incidents exactly once, announces the ones it opened, and
// flushes the digests of alert storms.
type recorder interface {
	Record(ctx context.Context, delivery string, deltas []incident.Delta) (store.Result, error)
	Announce(ctx context.Context, alerts []store.Alert, publish store.PublishFunc) (int, error)
	Flush(ctx context.Context, publish store.DigestFunc) (store.Flushed, error)
}

// publisher announces an incident, or a digest of several;
// *notify.Notifier implements it.
type publisher interface {
	Publish(ctx context.Context, in incident.Incident, change incident.Change) error
	PublishDigest(ctx context.Context, d notify.Digest) error
}

// Processor processes subscription deliveries. Build it once per cold
// start; Handle is safe for concurrent use.
type Processor struct {
	cfg       Config
	ownDrop   atomic.Bool // a drop from the processor's own group was logged
	limits    awslogs.Limits
	match     incident.Matcher
	redact    *incident.Redactor
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
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return New(cfg, dynamodb.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg), WithMetrics(os.Stdout)), nil
}

// Option configures a Processor.
type Option func(*Processor)

// WithMetrics sends EMF records to w (when the Config has a Namespace).
func WithMetrics(w io.Writer) Option { return func(p *Processor) { p.metrics = w } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.log = l } }

// WithClock sets the clock of metrics and stored timestamps.
func WithClock(now func() time.Time) Option { return func(p *Processor) { p.now = now } }

// New builds a Processor from a validated Config and the clients it calls:
// db for the incidents table, and topic for the alerts topic (unused, and
// may be nil, when cfg has no TopicARN; alert links name its region).
func New(cfg Config, db *dynamodb.Client, topic *sns.Client, opts ...Option) *Processor {
	p := configure(cfg, opts)
	p.store = store.New(db, cfg.Table, store.WithClock(p.now), store.WithAlerts(cfg.TopicARN != ""),
		store.WithAlertGrouping(cfg.AlertBurst, cfg.AlertWindow))
	if cfg.TopicARN != "" {
		p.alerts = notify.New(topic, cfg.TopicARN, notify.Origin{Stack: cfg.Stack, Table: cfg.Table,
			Region: topic.Options().Region, Alarm: cfg.Alarm, Dashboard: cfg.Dashboard})
	}
	return p
}

// configure is a Processor with cfg and opts applied and no store or
// publisher yet.
func configure(cfg Config, opts []Option) *Processor {
	p := &Processor{
		cfg:       cfg,
		limits:    cfg.Limits,
		match:     cfg.Pattern,
		redact:    cfg.Redactor,
		namespace: cfg.Namespace,
		log:       slog.Default(),
		now:       time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// counts are what one delivery did, for its log line and metrics.
type counts struct {
	events, matched, incidents, opened, reopened, duplicates, alerts int
	decompressed                                                     int
	account                                                          string // the payload's owner
	badPayload                                                       bool
	control                                                          bool // a CONTROL_MESSAGE, ignored
	dropped                                                          bool // from an excluded log group
}

// Handle processes one delivery and logs its outcome once: the counts on
// success, the reason on failure. A returned error makes Lambda retry and
// finally send the event to the dead-letter queue.
func (h *Processor) Handle(ctx context.Context, ev events.CloudwatchLogsEvent) error {
	c, err := h.process(ctx, func(fn func(*awslogs.Payload) error) error {
		return awslogs.View(ev.AWSLogs.Data, h.limits, fn)
	})
	var t total
	t.add(c, err)
	h.emitMetrics(ctx, t)
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

// viewFunc decodes one payload for fn, as awslogs.View does: the payload
// is valid only while fn runs.
type viewFunc func(fn func(*awslogs.Payload) error) error

// process reads as the data flow: decode, group, record, announce.
func (h *Processor) process(ctx context.Context, view viewFunc) (counts, error) {
	var (
		c                    counts
		logGroup, deliveryID string
		g                    incident.Grouping
	)
	// The payload is a transient view: what outlives the callback is
	// copied out of it (Group's result shares no memory with it).
	err := view(func(p *awslogs.Payload) error {
		c.events, c.decompressed = len(p.LogEvents), p.DecompressedBytes
		logGroup, c.account = strings.Clone(p.LogGroup), strings.Clone(p.Owner)
		if _, c.dropped = h.cfg.excluded(logGroup); c.dropped {
			return nil
		}
		if c.control = p.MessageType == awslogs.MessageTypeControl; !c.control {
			g, deliveryID = h.redact.GroupFrom(p, h.match, h.cfg.HomeAccount), incident.DeliveryID(p)
		}
		return nil
	})
	if err != nil {
		c.badPayload = true
		return c, err // "awslogs: malformed payload: ..." says it all
	}
	if c.control {
		h.log.InfoContext(ctx, "control message ignored", "log_group", logGroup)
		return c, nil
	}
	if c.dropped {
		// Not an error: a retry would only come back here.
		h.dropLog(ctx, logGroup, c.events)
		return c, nil
	}
	c.matched, c.incidents = g.Matched, len(g.Deltas)
	res, err := h.store.Record(ctx, deliveryID, g.Deltas)
	c.opened, c.reopened, c.duplicates = res.Opened, res.Reopened, res.Duplicates
	if err != nil {
		return c, fmt.Errorf("record %d incidents of %s: %w", len(g.Deltas), logGroup, err)
	}
	c.alerts, err = h.announce(ctx, res.Alerts)
	return c, err
}

// announce publishes the alerts of opened and reopened incidents, if the
// processor has an alerts topic. The store owns the protocol that makes
// each go out once (store.Announce); an alert it could not publish stays
// pending there, and the error makes the delivery come back for it.
func (h *Processor) announce(ctx context.Context, alerts []store.Alert) (int, error) {
	if h.alerts == nil || len(alerts) == 0 {
		return 0, nil
	}
	n, err := h.store.Announce(ctx, alerts, h.alerts.Publish)
	if err != nil {
		return n, fmt.Errorf("announce: %w", err)
	}
	return n, nil
}

// total sums the counts of the deliveries of one invocation: one for
// Handle, a batch's records for HandleKinesis.
type total struct {
	counts
	deliveries, failed, bad, control, dropped int
	matchedBy                                 map[string]int // matched events by account (HandleKinesis)
}

// add counts one delivery and its outcome.
func (t *total) add(c counts, err error) {
	t.deliveries++
	t.events += c.events
	t.matched += c.matched
	t.incidents += c.incidents
	t.opened += c.opened
	t.reopened += c.reopened
	t.duplicates += c.duplicates
	t.alerts += c.alerts
	t.decompressed += c.decompressed
	for _, f := range []struct {
		n  *int
		on bool
	}{{&t.failed, err != nil}, {&t.bad, c.badPayload}, {&t.control, c.control}, {&t.dropped, c.dropped}} {
		if f.on {
			*f.n++
		}
	}
}

// Flush publishes the digests of alert storms whose window has ended
// (store.Flush) and logs what it did once; the processor's schedule
// invokes it. Without an alerts topic there is nothing to flush. A digest
// that fails stays due, and the next Flush retries it.
func (h *Processor) Flush(ctx context.Context) (store.Flushed, error) {
	if h.alerts == nil {
		return store.Flushed{}, nil
	}
	res, err := h.store.Flush(ctx, func(ctx context.Context, d store.Digest) error {
		nd := notify.Digest{LogGroup: d.LogGroup, From: d.From, To: d.To, Alerts: make([]notify.Alert, len(d.Alerts))}
		for i, a := range d.Alerts {
			nd.Alerts[i] = notify.Alert{Incident: a.Incident, Change: a.Change}
		}
		return h.alerts.PublishDigest(ctx, nd)
	})
	if err != nil {
		h.log.ErrorContext(ctx, "digests not flushed", "err", err, "digests", res.Digests, "alerts", res.Alerts, "waiting", res.Waiting)
		return res, fmt.Errorf("flush digests: %w", err)
	}
	if res.Digests > 0 || res.Waiting > 0 {
		h.log.InfoContext(ctx, "digests flushed", "digests", res.Digests, "alerts", res.Alerts, "waiting", res.Waiting)
	}
	return res, nil
}

// emitMetrics writes the invocation's EMF record, if metrics are on (a
// namespace and a writer).
func (h *Processor) emitMetrics(ctx context.Context, t total) {
	if h.namespace == "" || h.metrics == nil {
		return
	}
	err := emf.Write(h.metrics, h.namespace, h.now(), nil, []emf.Metric{
		{Name: "EventsProcessed", Unit: "Count", Value: float64(t.events)},
		{Name: "EventsMatched", Unit: "Count", Value: float64(t.matched)},
		{Name: "IncidentsOpened", Unit: "Count", Value: float64(t.opened)},
		{Name: "IncidentsReopened", Unit: "Count", Value: float64(t.reopened)},
		{Name: "BadPayloads", Unit: "Count", Value: float64(t.bad)},
		{Name: "DeliveriesDropped", Unit: "Count", Value: float64(t.dropped)},
		{Name: "DecompressedBytes", Unit: "Bytes", Value: float64(t.decompressed)},
	})
	// MemberEventsMatched: the matched events of each account that a
	// logs destination delivered, per account and over all of them, for
	// the central stack's member alarms.
	for _, account := range slices.Sorted(maps.Keys(t.matchedBy)) {
		if err != nil {
			break
		}
		err = emf.WriteSets(h.metrics, h.namespace, h.now(), map[string]string{"AccountId": account},
			[][]string{{"AccountId"}, {}}, []emf.Metric{{Name: "MemberEventsMatched", Unit: "Count", Value: float64(t.matchedBy[account])}})
	}
	if err != nil {
		h.log.WarnContext(ctx, "metrics not written", "err", err)
	}
}
