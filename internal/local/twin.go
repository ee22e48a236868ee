package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/logalert/logalert/internal/backoff"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/store"
)

// Config configures a Twin.
type Config struct {
	// Template is the path of template.yaml.
	Template string
	// MemberTemplate is the path of member.yaml, which the twin applies in
	// each member account of the template's MemberAccountIds; empty means
	// member.yaml next to Template.
	MemberTemplate string
	// MemberOverrides are member.yaml's parameter values, the same for
	// every member account (CentralDestinationArn is the stack's output).
	MemberOverrides map[string]string
	// StackName names the stack, as `sam deploy --stack-name`.
	StackName string
	// Overrides are parameter values, as `sam deploy --parameter-overrides`.
	Overrides map[string]string
	// Period is how long, in real time, the shortest alarm period lasts;
	// the twin's clock runs that much faster. Zero runs in real time.
	Period time.Duration
	// Mailer delivers the emails of the topics' email subscribers; nil
	// sends none (no relay queue is created).
	Mailer email.Mailer
	// Progress receives one line per step while the twin runs; nil is
	// quiet.
	Progress io.Writer
	// FunctionLog receives the log records of the emitter and the processor,
	// what their Lambda log groups would hold; nil discards them.
	FunctionLog *slog.Logger
	// Fault, when set, can fail processor invocations (see FaultFunc).
	Fault FaultFunc
	// KinesisFault, when set, can fail the event source mapping's
	// invocations of the processor (Path B; see KinesisFaultFunc).
	KinesisFault KinesisFaultFunc
	// Timeout bounds Run; zero means 12 alarm periods plus a minute of
	// real time.
	Timeout time.Duration
	// Now is the real clock; nil is time.Now.
	Now func() time.Time
}

// Deployment names what the twin set up, for the commands that look
// closer.
type Deployment struct {
	StackName string `json:"stack_name"`
	Region    string `json:"region"`
	AccountID string `json:"account_id"`
	// LogGroup is the emitter's default log group: the first watched one.
	LogGroup string `json:"log_group"`
	// LogGroups are the watched log groups: those with a metric or
	// subscription filter of the stack, and those an account policy
	// selected so far.
	LogGroups []string `json:"log_groups"`
	// AccountPolicy names the account-level subscription filter policy, if
	// the stack has one; ExcludedLogGroups are the groups it leaves out.
	AccountPolicy     string   `json:"account_policy,omitempty"`
	ExcludedLogGroups []string `json:"excluded_log_groups,omitempty"`
	// Table is the incidents table.
	Table string `json:"table"`
	// Topics are the SNS topics, by logical id.
	Topics map[string]string `json:"topics"`
	// ProcessorLogGroup is the processor's own log group, which it never
	// processes.
	ProcessorLogGroup string `json:"processor_log_group,omitempty"`
	// DLQURL is the processor's dead-letter queue.
	DLQURL string `json:"dlq_url"`
	// Alarms are the alarms the twin evaluates.
	Alarms []string `json:"alarms"`
	// Parameters are the template's effective parameter values.
	Parameters map[string]string `json:"parameters"`
	// Members are the member accounts (MemberAccountIds), each with its
	// stack from member.yaml; Destination and Stream are the central logs
	// destination they deliver to and its Kinesis stream (Path B), and
	// WriterRole the role their writers assume (Path A).
	Members     []MemberDeployment `json:"members,omitempty"`
	Destination string             `json:"destination,omitempty"`
	Stream      string             `json:"stream,omitempty"`
	WriterRole  string             `json:"writer_role,omitempty"`
	// Skipped lists what runs in AWS but not here (see provision.Stack),
	// and what the twin could not set up besides the pipeline.
	Skipped []string `json:"skipped"`
}

// clients are the service clients of one endpoint.
type clients struct {
	cfn  *cloudformation.Client
	logs *cloudwatchlogs.Client
	cw   *cloudwatch.Client
	sns  *sns.Client
	sqs  *sqs.Client
	ddb  *dynamodb.Client
	// kinesis is the central account's, for its stream.
	kinesis *kinesis.Client
}

// Twin is the local control plane of one stack: it creates the stack's
// resources from template.yaml in an endpoint (moto_server) and then does
// what AWS does between them and moto does not. See the package
// documentation.
type Twin struct {
	cfg   Config
	real  func() time.Time
	log   *slog.Logger // the functions' logs
	start time.Time    // real
	clock *Clock
	c     clients
	dep   Deployment

	emitter *emit.Handler
	out     *Shipper // the emitter's stream
	writers map[string]*Shipper
	members map[string]*member // by account id
	// writerRole is the role member writers assume (Path A), if any.
	writerRole *provision.WriterRole
	origin     time.Time // virtual time at which the run starts
	watches    []*watch  // one per watched log group (groups.go)
	account    *accountWatch
	filters    []*MetricFilter // every watch's
	emf        EMFMetrics      // the processor's EMF records
	alarms     []*Alarm
	// shortest is the shortest alarm period (a minute without alarms): the
	// unit the clock compresses and Run paces itself by.
	shortest time.Duration
	invoker  *Invoker
	// mapping and destination are Path B's: the event source mapping of
	// the central stream and the logs destination that fills it.
	mapping     *KinesisMapping
	destination *Destination
	schedule    *schedule // the processor's schedule; nil without one
	relay       *email.Relay
	emitted     []emit.Summary

	logMu sync.Mutex // serialises progress lines
}

// New creates the stack's resources in the endpoint of awsCfg and returns
// the twin, ready to Emit and Run. It reads the template, applies the
// overrides, creates the resources (provision.Apply), the metric filters
// and the alarms, and subscribes the email relay's queue to the topics.
func New(ctx context.Context, awsCfg aws.Config, cfg Config) (*Twin, error) {
	t := &Twin{cfg: cfg, real: cfg.Now, log: cfg.FunctionLog, writers: map[string]*Shipper{}}
	if t.real == nil {
		t.real = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.start = t.real()
	t.c = clients{
		cfn:     cloudformation.NewFromConfig(awsCfg),
		logs:    cloudwatchlogs.NewFromConfig(awsCfg),
		cw:      cloudwatch.NewFromConfig(awsCfg, QueryProtocol),
		sns:     sns.NewFromConfig(awsCfg),
		sqs:     sqs.NewFromConfig(awsCfg),
		ddb:     dynamodb.NewFromConfig(awsCfg),
		kinesis: kinesis.NewFromConfig(awsCfg),
	}
	if err := t.setup(ctx, awsCfg); err != nil {
		return nil, fmt.Errorf("set up stack %s: %w", cfg.StackName, err)
	}
	return t, nil
}

// QueryProtocol makes a CloudWatch client speak awsQuery, CloudWatch's
// original protocol, which every endpoint serves: the SDK now defaults to
// Smithy RPCv2 CBOR, which moto_server (5.x) does not understand.
func QueryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

// Deployment returns what the twin set up.
func (t *Twin) Deployment() Deployment { return t.dep }

// Clock returns the twin's clock.
func (t *Twin) Clock() *Clock { return t.clock }

// Emit runs the emitter's handler for req: its lines go to the watched log
// group req.LogGroup (the first watched one when empty) through
// PutLogEvents, in the emitter's Lambda-style stream.
func (t *Twin) Emit(ctx context.Context, req emit.Request) (emit.Summary, error) {
	sum, err := t.emitter.Handle(ctx, req)
	if err != nil {
		return sum, fmt.Errorf("emit: %w", err)
	}
	t.emitted = append(t.emitted, sum)
	t.logf("emit", "%d lines (%d errors, %d warnings, %d infos) → %s",
		sum.Lines, sum.Errors, sum.Warnings, sum.Infos, sum.LogGroup)
	return sum, nil
}

// Writer returns a Shipper for stream of the emitter's default log group,
// for lines that do not come from the emitter.
func (t *Twin) Writer(stream string) *Shipper { return t.WriterIn(t.dep.LogGroup, stream) }

// WriterIn returns a Shipper for stream of any log group of the endpoint,
// watched or not.
func (t *Twin) WriterIn(group, stream string) *Shipper { return t.writer("", t.c.logs, group, stream) }

// writer returns the Shipper for stream of group that writes with logs, as
// whom says ("" for the central account itself), made on first use.
func (t *Twin) writer(whom string, logs logsWriter, group, stream string) *Shipper {
	key := whom + "\x00" + group + "\x00" + stream
	w, ok := t.writers[key]
	if !ok {
		w = NewShipper(logs, group, stream, t.clock.Now)
		t.writers[key] = w
	}
	return w
}

// Run runs the control plane until it has settled: every event read and
// applied by the metric filters and the subscriptions, every delivery
// processed or dead-lettered, every alarm in the state it keeps without new
// data, every notification mailed. It fails when that takes longer than
// Config.Timeout, saying what is still pending.
func (t *Twin) Run(ctx context.Context) error {
	period := t.clock.Real(t.shortest)
	timeout := t.cfg.Timeout
	if timeout == 0 {
		timeout = 12*period + time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := max(period/10, 50*time.Millisecond)
	pending := "nothing run yet"
	for {
		settled, still, err := t.step(ctx)
		if err == nil && settled {
			var errs []error
			if t.invoker != nil {
				errs = append(errs, t.invoker.Err())
			}
			if t.mapping != nil {
				errs = append(errs, t.mapping.Err())
			}
			return errors.Join(errs...)
		}
		if err == nil {
			pending = still
			err = backoff.Sleep(ctx, tick)
		}
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("control plane did not settle within %s: %s", timeout, pending)
			}
			return err
		}
	}
}

// step runs one round: read new events and apply them, evaluate the
// alarms, relay the notifications. It reports whether everything has
// settled, and otherwise what is pending.
func (t *Twin) step(ctx context.Context) (bool, string, error) {
	busy := 0
	if t.invoker != nil {
		busy = t.invoker.Pending()
	}
	if t.account != nil {
		if err := t.discover(ctx); err != nil {
			return false, "", err
		}
	}
	read := 0
	for _, w := range t.watches {
		n, err := w.tail.Poll(ctx, func(evs []Event) error {
			for _, f := range w.filters {
				if err := f.Apply(ctx, evs); err != nil {
					return err
				}
			}
			for _, s := range w.subs {
				if err := s.Deliver(ctx, evs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return false, "", err
		}
		if n > 0 && w.account != "" {
			t.logf("read", "%d new events of %s in account %s", n, w.group, w.account)
		} else if n > 0 {
			t.logf("read", "%d new events of %s%s", n, w.group, t.metricsNote())
		}
		read += n
	}
	if t.mapping != nil {
		n, err := t.mapping.Poll(ctx)
		if err != nil {
			return false, "", err
		}
		if n > 0 {
			t.logf("kinesis", "%d new records of %s", n, t.dep.Stream)
		}
		read += n
		if p := t.mapping.Pending(); p > 0 {
			busy += p
		}
	}
	t.emf.Drain()
	now := t.clock.Now()
	var pending []string
	for _, a := range t.alarms {
		tr, changed, err := a.Evaluate(ctx, now)
		if err != nil {
			return false, "", err
		}
		if changed {
			t.logf("alarm", "%s: %s -> %s: %s", a.cfg.Name, tr.Old, tr.New, tr.Reason)
		}
		if !a.Settled(now) {
			pending = append(pending, fmt.Sprintf("alarm %s in %s", a.cfg.Name, a.State()))
		}
	}
	if t.schedule != nil {
		// On the schedule's ticks, and once more before settling, so
		// that the twin never settles with a digest still due.
		idle := busy == 0 && read == 0 && len(pending) == 0
		if waiting := t.schedule.run(ctx, now, idle, t.logf); waiting > 0 {
			pending = append(pending, fmt.Sprintf("%d alert digests due", waiting))
		}
	}
	var err error
	relayed := 0
	if t.relay != nil {
		if relayed, err = t.relayOnce(ctx); err != nil {
			return false, "", err
		}
	}
	if busy > 0 {
		pending = append(pending, fmt.Sprintf("%d deliveries in progress", busy))
	}
	if read > 0 || relayed > 0 {
		pending = append(pending, "new events or notifications")
	}
	return len(pending) == 0, strings.Join(pending, ", "), nil
}

// Mail keeps relaying what is published to the stack's topics to the
// Mailer, polling the relay's queue every interval of real time, until ctx
// ends; then it returns nil. A demo kept up after Run calls it, so that
// alerts published later, by `logalert redrive --local` say, are mailed
// as the deployed topic would mail them. Without a Mailer it only waits.
// A failed poll is reported on Progress and retried at the next interval.
func (t *Twin) Mail(ctx context.Context, interval time.Duration) error {
	for {
		if t.schedule != nil {
			t.schedule.run(ctx, t.clock.Now(), false, t.logf)
		}
		if t.relay != nil {
			if _, err := t.relayOnce(ctx); err != nil && ctx.Err() == nil {
				t.logf("email", "relay: %v (retrying)", err)
			}
		}
		if err := backoff.Sleep(ctx, interval); err != nil {
			return nil
		}
	}
}

// relayOnce relays the notifications waiting in the relay's queue, with a
// progress line per email, and returns how many it relayed.
func (t *Twin) relayOnce(ctx context.Context) (int, error) {
	before := len(t.relay.Sent())
	n, err := t.relay.Poll(ctx)
	for _, m := range t.relay.Sent()[before:] {
		t.logf("email", "%s → %s", m.Subject, m.Where)
	}
	return n, err
}

// metricsNote summarises the metric filters' datapoints for progress.
func (t *Twin) metricsNote() string {
	var b strings.Builder
	for _, f := range t.filters {
		s := f.Stats()
		fmt.Fprintf(&b, "; %s: %d datapoints so far (sum %g)", f.name, s.Samples, s.Sum)
	}
	return b.String()
}

// logf writes one progress line: real seconds since New, the stage, the
// message.
func (t *Twin) logf(stage, format string, args ...any) {
	if t.cfg.Progress == nil {
		return
	}
	t.logMu.Lock()
	defer t.logMu.Unlock()
	fmt.Fprintf(t.cfg.Progress, "%5.1fs  %-7s %s\n", t.real().Sub(t.start).Seconds(), stage, fmt.Sprintf(format, args...))
}

// schedule is the processor's EventBridge schedule: it runs the
// processor's Flush every period of the twin's clock.
type schedule struct {
	flush   func(ctx context.Context) (store.Flushed, error)
	period  time.Duration // virtual
	next    time.Time     // virtual; zero: at once
	waiting int           // digests the last flush left due
}

// run flushes when a tick is due at now (virtual), or when force is set
// and the last flush left nothing due (so that new digests are seen before
// the twin settles), and returns how many digests are still due. A failed flush is reported
// on progress and counts as still due: the next tick retries it, as
// Lambda's would.
func (s *schedule) run(ctx context.Context, now time.Time, force bool, logf func(stage, format string, args ...any)) int {
	if now.Before(s.next) && (!force || s.waiting > 0) {
		return s.waiting // a digest already due waits for its tick
	}
	if !now.Before(s.next) {
		s.next = now.Add(s.period)
	}
	res, err := s.flush(ctx)
	s.waiting = res.Waiting
	if err != nil {
		s.waiting = max(s.waiting, 1)
		logf("flush", "%v (retrying at the next tick)", err)
	}
	if res.Digests > 0 {
		logf("flush", "%d alert digests of %d incidents published", res.Digests, res.Alerts)
	}
	return s.waiting
}
