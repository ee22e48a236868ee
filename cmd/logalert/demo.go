package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/local"
	"github.com/logalert/logalert/internal/motoserver"
	"github.com/logalert/logalert/internal/samtemplate"
)

// demoEmail is the subscriber the demo gives the alerts topic when the
// overrides name none, so that there is an email to read.
const demoEmail = "alerts@example.com"

// runDemo is `logalert demo`: the whole pipeline on this machine.
func runDemo(ctx context.Context, args []string, e *env) error {
	return demo(ctx, args, e.stdout, e.stderr, e.getenv)
}

// demoFlags are the demo's settings.
type demoFlags struct {
	template, stack, outbox, output, region string
	period                                  time.Duration
	keep, quiet                             bool
	failDeliveries                          int
	overrides                               map[string]string
	emit                                    emit.Request
}

// parseDemoFlags reads and checks the demo's command line.
func parseDemoFlags(args []string, stderr io.Writer) (demoFlags, error) {
	fs := newFlagSet("demo", "demo [--template FILE] [--stack NAME] [--region R] [--parameter-overrides \"K=V ...\"] [--period 5s] [--errors N] [--warnings N] [--infos N] [--outbox DIR] [--fail-deliveries N] [--keep] [--quiet] [-o table|json|yaml]", stderr)
	var (
		f                       demoFlags
		overrides               string
		nErrors, nWarns, nInfos int
	)
	fs.StringVar(&f.template, "template", "template.yaml", "SAM `template` the stack is made from")
	fs.StringVar(&f.stack, "stack", "logalert", "stack `name`, as sam deploy --stack-name")
	fs.StringVar(&f.region, "region", "", "`region` the twin runs in (default $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)")
	fs.StringVar(&overrides, "parameter-overrides", "", "template parameters, as sam deploy: `\"AlarmEmail=you@example.com ErrorPattern='?ERROR'\"` (AlarmEmail defaults to "+demoEmail+")")
	fs.DurationVar(&f.period, "period", 5*time.Second, "real `duration` of one alarm period (the template's AlarmPeriodSeconds); 0 runs in real time")
	fs.IntVar(&nErrors, "errors", emit.DefaultErrors, "error lines the emitter writes")
	fs.IntVar(&nWarns, "warnings", emit.DefaultWarnings, "warning lines the emitter writes")
	fs.IntVar(&nInfos, "infos", emit.DefaultInfos, "info lines the emitter writes")
	fs.StringVar(&f.outbox, "outbox", "outbox", "`directory` for the emails, one .eml file each (with $SMTP_ADDR set they go to that SMTP server instead)")
	fs.IntVar(&f.failDeliveries, "fail-deliveries", 0, "make every attempt of the first `N` subscription deliveries (a member's too, through the stream) fail, so they end in the dead-letter queue (then try: logalert redrive --local, with --keep)")
	fs.BoolVar(&f.keep, "keep", false, "keep the moto_server the demo started running after the summary, until Ctrl-C, to look closer; alerts published meanwhile (redrive --local) are still mailed")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the summary")
	output := addOutputFlag(fs, formatTable, " (of the summary)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return f, err
	}
	f.output = *output
	switch {
	case len(pos) > 0:
		return f, usagef("demo takes no arguments, got %q", pos)
	case checkOutput(f.output) != nil:
		return f, checkOutput(f.output)
	case f.period < 0:
		return f, usagef("--period must not be negative")
	case f.failDeliveries < 0:
		return f, usagef("--fail-deliveries must be 0 or more")
	}
	f.emit = emit.Request{ErrorCount: &nErrors, WarnCount: &nWarns, InfoCount: &nInfos}
	if _, _, _, err := f.emit.Counts(); err != nil {
		return f, usagef("%v", err)
	}
	if f.overrides, err = samtemplate.ParseOverrides(overrides); err != nil {
		return f, usagef("%v", err)
	}
	if _, ok := f.overrides["AlarmEmail"]; !ok {
		f.overrides["AlarmEmail"] = demoEmail
	}
	writerExternalID(f.overrides)
	return f, nil
}

// demo is runDemo with the environment as a function.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	f, err := parseDemoFlags(args, stderr)
	if err != nil {
		return err
	}
	progress := io.Writer(stderr)
	if f.quiet {
		progress = nil
	}
	ep, err := demoEndpoint(ctx, getenv, f.region, progress)
	if err != nil {
		return err
	}
	defer ep.stop()

	outbox := &email.Outbox{Dir: f.outbox}
	cfg := local.Config{
		Template:  f.template,
		StackName: f.stack,
		Overrides: f.overrides,
		Period:    f.period,
		Progress:  progress,
		Mailer:    outbox,
	}
	if f.failDeliveries > 0 {
		// The first deliveries, through Lambda or a member's stream.
		cfg.Fault = failFirst(f.failDeliveries)
		cfg.KinesisFault = local.FaultPerRecord(cfg.Fault)
	}
	if addr := getenv("SMTP_ADDR"); addr != "" {
		cfg.Mailer, outbox = email.SMTP{Addr: addr}, nil
	}
	if !f.quiet {
		// The processor's warnings and errors, as its log group would show them.
		cfg.FunctionLog = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: dropTime}))
	}
	groups := demoGroupsOf(f.overrides, f.stack)
	cfg.MemberOverrides = groups.memberOverrides(f.overrides)
	if err := groups.create(ctx, ep); err != nil {
		return err
	}
	tw, err := local.New(ctx, ep.aws, cfg)
	if err != nil {
		return err
	}
	if err := groups.emit(ctx, tw, f.emit); err != nil {
		return err
	}
	runErr := tw.Run(ctx)
	resCtx := ctx
	if ctx.Err() != nil {
		// Interrupted: still say what happened so far (moto is up until
		// this returns).
		resCtx = context.WithoutCancel(ctx)
		runErr = fmt.Errorf("demo interrupted before the pipeline settled: %w", runErr)
	}
	res, err := tw.Result(resCtx)
	if err != nil {
		return errors.Join(runErr, err)
	}
	if f.output != formatTable {
		if err := writeValue(stdout, f.output, demoViewOf(res)); err != nil {
			return err
		}
	} else {
		if err := res.WriteSummary(stdout); err != nil {
			return err
		}
		if err := writeAlarmMail(stdout, res.Emails); err != nil {
			return err
		}
		writeLookCloser(stdout, res.Deployment, ep, f, outbox)
	}
	if runErr != nil {
		return runErr
	}
	if f.keep && ep.started {
		fmt.Fprintf(stderr, "moto_server stays up at %s, and alerts published to the topic meanwhile (logalert redrive --local, say) are still mailed; Ctrl-C to stop both\n", ep.url)
		return tw.Mail(ctx, time.Second)
	}
	return nil
}

// endpoint is where the demo runs.
type endpoint struct {
	url     string
	aws     aws.Config
	started bool   // a moto_server the demo started
	stop    func() // stops it; a no-op otherwise
}

// demoEndpoint returns the endpoint the demo runs against: $AWS_ENDPOINT_URL
// when set, else a moto_server it starts. Against the started server it
// signs with dummy credentials and never reads the user's AWS profile.
func demoEndpoint(ctx context.Context, getenv func(string) string, region string, progress io.Writer) (endpoint, error) {
	region = cmp.Or(region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1")
	if url := getenv("AWS_ENDPOINT_URL"); url != "" {
		opts := sdkOptions(getenv, region, "")
		if getenv("AWS_ACCESS_KEY_ID") == "" && getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")))
		}
		cfg, err := awsconfig.Load(ctx, opts...)
		return endpoint{url: url, aws: cfg, stop: func() {}}, err
	}
	if progress != nil {
		fmt.Fprintln(progress, "starting moto_server (set AWS_ENDPOINT_URL to use a running endpoint)")
	}
	srv, err := motoserver.Start(ctx)
	if err != nil {
		return endpoint{}, err
	}
	cfg, err := awsconfig.Load(ctx,
		config.WithRegion(region),
		config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
	)
	if err != nil {
		srv.Stop()
		return endpoint{}, err
	}
	return endpoint{url: srv.URL, aws: cfg, started: true, stop: srv.Stop}, nil
}

// writeLookCloser prints the commands that inspect what the demo left (the
// line that points a shell at the endpoint only while the endpoint is up);
// outbox is nil when the emails went to an SMTP server.
func writeLookCloser(w io.Writer, d local.Deployment, ep endpoint, f demoFlags, outbox *email.Outbox) {
	var b strings.Builder
	b.WriteString("\nlook closer")
	stopped := ep.started && !f.keep
	if stopped {
		b.WriteString(" (moto_server has stopped: run it with --keep, or make demo ARGS=--keep, to keep it up for these)")
	}
	b.WriteString(":\n")
	if !stopped {
		// AWS_DEFAULT_REGION for the AWS CLI v1, which reads no AWS_REGION.
		fmt.Fprintf(&b, "  export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_DEFAULT_REGION=%s AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\n", ep.url, d.Region, d.Region)
	}
	fmt.Fprintf(&b, "  go run ./cmd/logalert incidents list --stack %s    # or: make incidents STACK_NAME=%s\n", d.StackName, d.StackName)
	fmt.Fprintf(&b, "  go run ./cmd/logalert redrive --stack %s --local --dry-run\n", d.StackName)
	fmt.Fprintf(&b, "  aws logs tail %s    # AWS CLI v2\n", d.LogGroup)
	if outbox != nil && outbox.RunDir() != "" {
		dir, err := filepath.Abs(outbox.RunDir())
		if err != nil {
			dir = outbox.RunDir()
		}
		fmt.Fprintf(&b, "  ls %s    # this run's emails, one .eml each\n", dir)
	}
	io.WriteString(w, b.String())
}

// writeAlarmMail prints the first ALARM email of the outbox as it is, so
// that the user sees what AWS would have sent; mails sent over SMTP are in
// the mail catcher instead.
func writeAlarmMail(w io.Writer, sent []email.SentMail) error {
	for _, m := range sent {
		if !strings.HasPrefix(m.Subject, "ALARM: ") || !strings.HasSuffix(m.Where, ".eml") {
			continue
		}
		data, err := os.ReadFile(m.Where)
		if err != nil {
			return fmt.Errorf("read the alarm email: %w", err)
		}
		fmt.Fprintf(w, "\nthe alarm email (%s):\n\n%s", m.Where, strings.ReplaceAll(string(data), "\r\n", "\n"))
		return nil
	}
	return nil
}

// dropTime removes the time from log records: the CLI's diagnostics carry
// none.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// demoView is the JSON form of a demo's result: the twin's hop-by-hop
// figures, with the elapsed time in seconds and the incidents as
// `incidents list -o json` shows them.
type demoView struct {
	*local.Result
	ElapsedSeconds float64        `json:"elapsed_seconds"`
	Incidents      []incidentView `json:"incidents"`
}

func demoViewOf(r *local.Result) demoView {
	return demoView{Result: r, ElapsedSeconds: r.Elapsed.Seconds(), Incidents: viewsOf(r.Incidents, r.Deployment.Region)}
}

// failFirst is --fail-deliveries: a local.FaultFunc that fails every
// attempt of the first n distinct deliveries, so that Lambda's retries run
// out and they land in the dead-letter queue.
func failFirst(n int) local.FaultFunc {
	var (
		mu     sync.Mutex
		doomed = map[string]bool{}
	)
	return func(attempt int, ev events.CloudwatchLogsEvent) error {
		mu.Lock()
		defer mu.Unlock()
		d := ev.AWSLogs.Data
		if attempt == 1 && len(doomed) < n {
			doomed[d] = true
		}
		if doomed[d] {
			return fmt.Errorf("--fail-deliveries: attempt %d made to fail", attempt)
		}
		return nil
	}
}
