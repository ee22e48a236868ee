package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/redrive"
)

// runRedrive is `logalert redrive`: it feeds the deliveries in the
// dead-letter queue back to the processor.
func runRedrive(ctx context.Context, args []string, e *env) error {
	stdout, stderr := e.stdout, e.stderr
	fs := newFlagSet("redrive", "redrive [--queue-url URL] [--function NAME | --local] [--dry-run] [--max N] [-o table|json|yaml] "+stackSynopsis, stderr)
	sf := addStackFlags(fs, e)
	queueURL := fs.String("queue-url", "", "dead-letter queue `URL` (default: the stack's "+outputDLQ+" output)")
	function := fs.String("function", "", "processor function `name` or ARN to invoke (default: the stack's "+outputFunction+" output)")
	local := fs.Bool("local", false, "run the processor's code in this process instead of invoking the function; the table comes from --table, --stack, $"+tableEnv+" or $INCIDENTS_TABLE, and ALERTS_TOPIC_ARN, INCIDENT_PATTERN, REDACT_PATTERNS and HOME_ACCOUNT_ID from the environment (or the stack)")
	dryRun := fs.Bool("dry-run", false, "list what would be redriven; invoke nothing, delete nothing")
	maxMessages := fs.Int("max", 0, "redrive at most `N` messages (0: until the queue is empty)")
	output := addOutputFlag(fs, formatTable, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if err := sf.check(false); err != nil {
		return err
	}
	noTable := e.getenv(tableEnv) == "" && e.getenv("INCIDENTS_TABLE") == ""
	if sf.table == "" && (*queueURL == "" || (!*local && !*dryRun && *function == "") || (*local && noTable)) {
		sf.defaultStack() // what the flags leave out comes from the stack's outputs
	}
	switch {
	case *maxMessages < 0:
		return usagef("--max must be 0 or more")
	case *local && *function != "":
		return usagef("--local and --function are exclusive")
	case *queueURL == "" && sf.stack == "":
		return usagef("no dead-letter queue: pass --queue-url URL or --stack NAME")
	case !*local && !*dryRun && *function == "" && sf.stack == "":
		return usagef("nothing to redrive to: pass --function NAME, --stack NAME or --local")
	case *local && sf.table == "" && sf.stack == "" && noTable:
		return usagef("--local needs the incidents table: pass --table NAME or --stack NAME, or set %s or INCIDENTS_TABLE", tableEnv)
	}

	d, err := sf.connect(ctx)
	if err != nil {
		return err
	}
	queue := *queueURL
	if queue == "" {
		if queue, err = d.output(outputDLQ, "queue-url"); err != nil {
			return err
		}
	}
	var (
		target        redrive.Target
		kinesisTarget redrive.KinesisTarget
	)
	switch {
	case *dryRun:
	case *local:
		p, err := localProcessor(ctx, sf, d)
		if err != nil {
			return err
		}
		target, kinesisTarget = redrive.Handler(p.Handle), redrive.KinesisHandler(p.HandleKinesis)
	default:
		fn := *function
		if fn == "" {
			if fn, err = d.output(outputFunction, "function"); err != nil {
				return err
			}
		}
		l := redrive.NewLambda(lambda.NewFromConfig(d.aws), fn)
		target, kinesisTarget = l, l
	}

	// Records of the Kinesis event source mapping (member accounts) name
	// their batch in the stream, which is read back.
	r := redrive.New(sqs.NewFromConfig(d.aws), queue, target,
		redrive.WithKinesis(redrive.NewKinesisReader(kinesis.NewFromConfig(d.aws)), kinesisTarget))
	bar := newProgress(stderr)
	sum, runErr := r.Run(ctx, redrive.Options{DryRun: *dryRun, Max: *maxMessages, Progress: bar.update})
	bar.finish()
	var werr error
	if *output != formatTable {
		werr = writeValue(stdout, *output, redriveViewOf(sum, *dryRun))
	} else {
		werr = writeRedrive(stdout, sum, *dryRun)
	}
	if err := errors.Join(runErr, werr); err != nil {
		return err
	}
	var errs []error
	if sum.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d messages failed again and stay in the queue", sum.Failed, len(sum.Outcomes)))
	}
	if sum.Expired > 0 {
		errs = append(errs, fmt.Errorf("%d of %d messages name Kinesis records that expired from the stream: they stay in the queue, and cannot be redriven", sum.Expired, len(sum.Outcomes)))
	}
	return errors.Join(errs...)
}

// localProcessor builds the processor as the Lambda would, from the
// environment overlaid with what the flags and the stack name. Its
// HOME_ACCOUNT_ID is the environment's, else the stack's account, else
// that of the credentials in use (the processor's account is where its
// table is): a wrong one would give the account's incidents other IDs.
func localProcessor(ctx context.Context, sf *stackFlags, d *deployment) (*pipeline.Processor, error) {
	table, err := d.tableName(sf)
	var none usageError // no table named anywhere: the processor's own variable is the last resort
	if errors.As(err, &none) && sf.getenv("INCIDENTS_TABLE") != "" {
		table, err = sf.getenv("INCIDENTS_TABLE"), nil
	}
	if err != nil {
		return nil, err
	}
	home := cmp.Or(sf.getenv("HOME_ACCOUNT_ID"), d.account)
	if home == "" {
		id, err := sts.NewFromConfig(d.aws).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("the processor's account: set HOME_ACCOUNT_ID or pass --stack: %w", err)
		}
		home = aws.ToString(id.Account)
	}
	getenv := func(k string) string {
		switch k {
		case "INCIDENTS_TABLE":
			return table
		case "ALERTS_TOPIC_ARN":
			return cmp.Or(sf.getenv(k), d.outputs[outputTopic])
		case "INCIDENT_PATTERN":
			return cmp.Or(sf.getenv(k), d.params["ErrorPattern"])
		case "REDACT_PATTERNS":
			return cmp.Or(sf.getenv(k), d.params["RedactPatterns"])
		case "METRICS_NAMESPACE":
			return "" // the Lambda's metrics are its own
		case "STACK_NAME":
			return cmp.Or(sf.getenv(k), d.stack)
		case "ERROR_ALARM_NAME":
			return cmp.Or(sf.getenv(k), d.outputs["ErrorAlarmName"])
		case "DASHBOARD_NAME":
			return cmp.Or(sf.getenv(k), d.outputs["DashboardName"])
		case "HOME_ACCOUNT_ID":
			return home
		}
		return sf.getenv(k)
	}
	cfg, err := pipeline.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	// Each outcome is reported by redrive: the processor's own log lines
	// would say it twice.
	return pipeline.New(cfg, dynamodb.NewFromConfig(d.aws), sns.NewFromConfig(d.aws), pipeline.WithLogger(slog.New(slog.DiscardHandler))), nil
}

// progress reports each message on stderr: a bar redrawn in place on a
// terminal, one plain line per message otherwise.
type progress struct {
	w                   io.Writer
	tty                 bool
	drawn               bool
	ok, failed, skipped int
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

func (p *progress) update(done, total int, o redrive.Outcome) {
	switch o.Result {
	case redrive.Redriven, redrive.WouldRedrive:
		p.ok++
	case redrive.Failed, redrive.Expired:
		p.failed++
	case redrive.Skipped:
		p.skipped++
	}
	if !p.tty {
		line := fmt.Sprintf("redrive %d/%d: %s %s", done, total, o.Result, messageLabel(o))
		if o.Err != nil {
			line += ": " + o.Err.Error()
		}
		fmt.Fprintln(p.w, oneLine(line))
		return
	}
	const width = 30
	filled := width * done / max(total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  ok %d  failed %d  skipped %d ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, p.ok, p.failed, p.skipped)
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// messageLabel names a message: its failed request, else its SQS id, and
// what it holds.
func messageLabel(o redrive.Outcome) string {
	s := "message " + o.MessageID
	if id := o.Record.RequestContext.RequestID; id != "" {
		s = "request " + id
	}
	if b := o.Record.KinesisBatchInfo; b != nil {
		s += fmt.Sprintf(" (kinesis %s %s..%s)", b.ShardID, b.StartSequenceNumber, b.EndSequenceNumber)
	}
	if o.LogGroup != "" {
		s += fmt.Sprintf(" (%s, %d events)", o.LogGroup, o.Events)
	}
	return s
}

// sortedOutcomes orders outcomes by failure time, then request and message
// id, so that the report reads the same whatever order SQS returned.
func sortedOutcomes(sum redrive.Summary) []redrive.Outcome {
	out := slices.Clone(sum.Outcomes)
	slices.SortStableFunc(out, func(a, b redrive.Outcome) int {
		return cmp.Or(a.Record.Timestamp.Compare(b.Record.Timestamp),
			strings.Compare(a.Record.RequestContext.RequestID, b.Record.RequestContext.RequestID),
			strings.Compare(a.MessageID, b.MessageID))
	})
	return out
}

// writeRedrive writes a table of the messages, the reasons of failures and
// skips, and a summary.
func writeRedrive(w io.Writer, sum redrive.Summary, dryRun bool) error {
	var b strings.Builder
	outcomes := sortedOutcomes(sum)
	if len(outcomes) == 0 {
		b.WriteString("nothing to redrive: the dead-letter queue is empty\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	t := table{w: &b, cols: []column{
		{title: "REQUEST", width: 8},
		{title: "FAILED AT UTC", width: 19},
		{title: "CONDITION", width: 16},
		{title: "TRIES", width: 5, right: true},
		{title: "LOG GROUP", width: 21, tail: true},
		{title: "EVENTS", width: 6, right: true},
		{title: "RESULT", width: 13},
	}}
	t.header()
	var reasons []string
	for _, o := range outcomes {
		rc := o.Record.RequestContext
		id := rc.RequestID
		if id == "" {
			id = o.MessageID
		}
		at, tries, events := "-", "-", "-"
		if !o.Record.Timestamp.IsZero() {
			at = o.Record.Timestamp.UTC().Format("2006-01-02 15:04:05")
		}
		if rc.ApproximateInvokeCount > 0 {
			tries = strconv.Itoa(rc.ApproximateInvokeCount)
		}
		if o.LogGroup != "" {
			events = strconv.Itoa(o.Events)
		}
		t.row(shortRef(id), at, cmp.Or(rc.Condition, "-"), tries, cmp.Or(o.LogGroup, "-"), events, o.Result.String())
		if o.Err != nil {
			reasons = append(reasons, fmt.Sprintf("%s %s: %s", o.Result, shortRef(id), oneLine(o.Err.Error())))
		}
	}
	if len(reasons) > 0 {
		b.WriteString("\n" + strings.Join(reasons, "\n") + "\n")
	}
	b.WriteString("\n")
	if dryRun {
		expired := ""
		if sum.Expired > 0 {
			expired = fmt.Sprintf(", %d expired", sum.Expired)
		}
		fmt.Fprintf(&b, "would redrive %d, skip %d%s (dry run: nothing invoked, nothing deleted)\n", sum.WouldRedrive, sum.Skipped, expired)
	} else {
		expired := ""
		if sum.Expired > 0 {
			expired = fmt.Sprintf(", expired %d", sum.Expired)
		}
		fmt.Fprintf(&b, "redriven %d, failed %d, skipped %d%s: %d left in the queue\n",
			sum.Redriven, sum.Failed, sum.Skipped, expired, sum.Failed+sum.Skipped+sum.Expired)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shortRef is the start of a request or message id, as git shortens
// commit hashes.
func shortRef(id string) string {
	if r := []rune(id); len(r) > 8 {
		return string(r[:8])
	}
	return id
}

// redriveView is a run's report in JSON.
type redriveView struct {
	DryRun       bool          `json:"dry_run"`
	Redriven     int           `json:"redriven"`
	Failed       int           `json:"failed"`
	Skipped      int           `json:"skipped"`
	Expired      int           `json:"expired,omitempty"`
	WouldRedrive int           `json:"would_redrive,omitempty"`
	Messages     []messageView `json:"messages"`
}

type messageView struct {
	MessageID   string `json:"message_id"`
	RequestID   string `json:"request_id,omitempty"`
	FunctionARN string `json:"function_arn,omitempty"`
	FailedAt    string `json:"failed_at,omitempty"`
	Condition   string `json:"condition,omitempty"`
	Attempts    int    `json:"attempts,omitempty"`
	LastError   string `json:"last_error,omitempty"` // the original failure's errorMessage
	LogGroup    string `json:"log_group,omitempty"`
	Events      int    `json:"events"`
	// Kinesis: the failed batch in the stream, the records read back and
	// the sequence numbers of those that failed again.
	Stream        string   `json:"stream_arn,omitempty"`
	ShardID       string   `json:"shard_id,omitempty"`
	StartSequence string   `json:"start_sequence_number,omitempty"`
	EndSequence   string   `json:"end_sequence_number,omitempty"`
	Records       int      `json:"records,omitempty"`
	FailedRecords []string `json:"failed_records,omitempty"`
	Result        string   `json:"result"`
	Error         string   `json:"error,omitempty"` // why this run failed or skipped it
}

func redriveViewOf(sum redrive.Summary, dryRun bool) redriveView {
	v := redriveView{DryRun: dryRun, Redriven: sum.Redriven, Failed: sum.Failed, Skipped: sum.Skipped, Expired: sum.Expired,
		WouldRedrive: sum.WouldRedrive, Messages: []messageView{}}
	for _, o := range sortedOutcomes(sum) {
		rc := o.Record.RequestContext
		m := messageView{
			MessageID: o.MessageID, RequestID: rc.RequestID, FunctionARN: rc.FunctionARN,
			FailedAt: stamp(o.Record.Timestamp), Condition: rc.Condition, Attempts: rc.ApproximateInvokeCount,
			LastError: o.Record.ErrorMessage(), LogGroup: o.LogGroup, Events: o.Events, Result: o.Result.String(),
			Records: o.Records, FailedRecords: o.FailedRecords,
		}
		if b := o.Record.KinesisBatchInfo; b != nil {
			m.Stream, m.ShardID, m.StartSequence, m.EndSequence = b.StreamARN, b.ShardID, b.StartSequenceNumber, b.EndSequenceNumber
		}
		if o.Err != nil {
			m.Error = o.Err.Error()
		}
		v.Messages = append(v.Messages, m)
	}
	return v
}
