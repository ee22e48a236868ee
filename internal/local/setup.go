package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/email"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// This file is New's work: the stack's resources, the components of the
// control plane and the clock.

// setup is New's work.
func (t *Twin) setup(ctx context.Context, awsCfg aws.Config) error {
	tmpl, err := samtemplate.Load(t.cfg.Template)
	if err != nil {
		return err
	}
	if err := tmpl.SetParameters(t.cfg.Overrides); err != nil {
		return err
	}
	pc := provision.Clients{DynamoDB: t.c.ddb, Logs: t.c.logs, SNS: t.c.sns, SQS: t.c.sqs, Kinesis: t.c.kinesis, Region: awsCfg.Region}
	st, err := provision.Apply(ctx, pc, tmpl, t.cfg.StackName)
	if err != nil {
		return err
	}
	t.dep = Deployment{
		StackName: st.Name, Region: st.Region, AccountID: st.AccountID,
		Topics: map[string]string{}, Parameters: tmpl.ParameterValues(), Skipped: st.Skipped,
	}
	for _, r := range tmpl.ResourcesOfType("AWS::SNS::Topic") {
		if arn, ok := st.PhysicalIDs[r.LogicalID]; ok {
			t.dep.Topics[r.LogicalID] = arn
		}
	}
	for _, r := range tmpl.ResourcesOfType("AWS::DynamoDB::Table") {
		t.dep.Table = st.PhysicalIDs[r.LogicalID]
	}

	// The watched log groups: those the stack puts metric or subscription
	// filters on (groups.go), and with an account policy every group it
	// selects (accountpolicy.go).
	specs, err := st.MetricFilters(tmpl, "")
	if err != nil {
		return err
	}
	subs, err := st.SubscriptionFilters(tmpl, "")
	if err != nil {
		return err
	}
	policies, err := st.AccountPolicies(tmpl)
	if err != nil {
		return err
	}
	// The member accounts (Path B) and the role their writers assume
	// (Path A).
	if err := t.setupMembers(ctx, awsCfg, st); err != nil {
		return err
	}
	roles, err := st.WriterRoles(tmpl)
	if err != nil {
		return err
	}
	if len(roles) > 1 {
		return fmt.Errorf("resources %s and %s: the twin runs one cross-account writer role", roles[0].LogicalID, roles[1].LogicalID)
	}
	if len(roles) == 1 {
		t.writerRole, t.dep.WriterRole = &roles[0], roles[0].ARN
	}

	plans := groupPlans(specs, subs)
	if err := CheckLogGroups(ctx, t.c.logs, plans); err != nil {
		return err
	}
	t.dep.LogGroups = slices.Sorted(maps.Keys(plans))
	ownGroup, emitTo, standIn, err := emitterGroups(tmpl, st, t.dep.LogGroups)
	if err != nil {
		return err
	}
	if standIn {
		t.dep.Skipped = append(t.dep.Skipped, fmt.Sprintf("the emitter (DeployEmitter=false): its handler writes the lines straight into %s, as the application would", ownGroup))
	}
	t.dep.LogGroup = ownGroup
	if len(emitTo) > 0 {
		t.dep.LogGroup = emitTo[0]
	}

	// The processor's EMF namespace: its alarms are evaluated too.
	var emfNamespaces []string
	if ns, err := processorNamespace(tmpl, st, subs, policies); err != nil {
		return err
	} else if ns != "" {
		emfNamespaces = append(emfNamespaces, ns)
	}
	cfgs, others, err := st.Alarms(tmpl, specs, emfNamespaces...)
	if err != nil {
		return err
	}
	for _, id := range others {
		t.dep.Skipped = append(t.dep.Skipped, id+": alarm on a metric of another service, not evaluated locally")
	}

	// The clock: the shortest alarm period passes in cfg.Period, starting at
	// a whole minute after every event already in the log group.
	t.shortest = shortestPeriod(cfgs)
	scale := 1.0
	if t.cfg.Period > 0 {
		scale = float64(t.shortest) / float64(t.cfg.Period)
	}
	origin := t.real().UTC().Truncate(time.Minute)
	later := func(logs streamLister, g string) error {
		latest, err := latestEvent(ctx, logs, g)
		if err == nil && !latest.IsZero() && !latest.Before(origin) {
			origin = latest.Truncate(time.Minute).Add(time.Minute)
		}
		return err
	}
	for _, g := range t.dep.LogGroups {
		if err := later(t.c.logs, g); err != nil {
			return err
		}
	}
	for _, m := range t.members {
		for _, g := range m.dep.LogGroups {
			if err := later(m.logs, g); err != nil {
				return fmt.Errorf("member account %s: %w", m.dep.AccountID, err)
			}
		}
	}
	t.origin = origin

	for _, s := range specs {
		mf, err := NewMetricFilter(t.c.cw, s.Name, s.Pattern, s.Transformations)
		if err != nil {
			return err
		}
		if err := t.putMetricFilter(ctx, s); err != nil {
			return err
		}
		w := t.watchOf(s.Group)
		w.filters = append(w.filters, mf)
		t.filters = append(t.filters, mf)
	}
	for _, c := range cfgs {
		c.ConfigurationUpdated = origin
		a, err := NewAlarm(t.c.cw, t.c.sns, c)
		if err != nil {
			return err
		}
		if err := a.Create(ctx); err != nil {
			return err
		}
		for _, f := range t.filters {
			f.Observe(a.Observe)
		}
		t.emf.Observe(a.Observe)
		t.alarms = append(t.alarms, a)
		t.dep.Alarms = append(t.dep.Alarms, c.Name)
	}
	relayURL, err := t.setupRelay(ctx)
	if err != nil {
		return err
	}
	// As CloudFormation shows them: NoEcho parameters (WriterExternalId)
	// masked.
	recorded := maps.Clone(t.dep.Parameters)
	for name, p := range tmpl.Parameters {
		if _, ok := recorded[name]; ok && p.NoEcho {
			recorded[name] = "****"
		}
	}
	if err := recordStack(ctx, t.c.cfn, st.Name, recorded, st.Outputs); err != nil {
		// A convenience for the commands that take --stack, not a part of
		// the pipeline: said, not fatal.
		t.dep.Skipped = append(t.dep.Skipped, fmt.Sprintf("CloudFormation record of the stack (--stack %s will not find it): %v", st.Name, err))
	}

	// Everything is in place: time starts now, and with it the parts that
	// read the clock.
	t.clock = NewClock(origin, scale, t.real)
	if err := t.setupSubscriptions(tmpl, st, subs, policies); err != nil {
		return err
	}
	if relayURL != "" {
		t.relay = email.NewRelay(t.c.sqs, t.c.sns, relayURL, t.cfg.Mailer, t.clock.Now)
	}

	stream := lambdaStreamName(t.clock.Now())
	t.out = t.WriterIn(ownGroup, stream)
	t.emitter = &emit.Handler{
		Out: t.out, OwnGroup: ownGroup, Groups: emitTo, Now: t.clock.Now, Log: t.log,
		Open: func(group string) emit.LineWriter { return t.WriterIn(group, stream) },
	}
	t.logf("setup", "stack %s from %s: %s", st.Name, t.cfg.Template, strings.Join(st.Created, ", "))
	if len(st.NotCreated) > 0 {
		// Functions, metric and subscription filters and the error alarm
		// are played by the twin; roles, permissions, the dashboard and the
		// self-monitoring alarms are left out.
		t.logf("setup", "not provisioned from the template (the twin plays the functions and filters and puts the error alarm itself; the rest is left out): %s", strings.Join(st.NotCreated, ", "))
	}
	for _, s := range t.dep.Skipped {
		t.logf("setup", "not here: %s", s)
	}
	t.logf("setup", "clock ×%g: each %s alarm period lasts %s; virtual time starts at %s", t.clock.Scale(), t.shortest, t.clock.Real(t.shortest), origin.Format(time.RFC3339))
	return nil
}

// emitterGroups returns the log group the emitter writes into and the
// watched groups a request may name instead: its own group and its
// WATCHED_LOG_GROUPS (the first being where it writes by default). Without
// the emitter (DeployEmitter=false) its handler still runs, as a stand-in
// for the user's application, writing into the first of the watched groups
// and able to name any other; standIn says so.
func emitterGroups(tmpl *samtemplate.Template, st *provision.Stack, watched []string) (own string, groups []string, standIn bool, err error) {
	emitter, ok := provision.FunctionByCode(tmpl, "emitter")
	if !ok {
		return "", nil, false, errors.New("no function with CodeUri emitter/ in the template: the twin needs the emitter's log group")
	}
	active, err := tmpl.Active(emitter, st.Env())
	if err != nil {
		return "", nil, false, err
	}
	if !active {
		if len(watched) == 0 {
			return "", nil, false, fmt.Errorf("resource %s is not created and the stack watches no log group: the twin has nowhere to write the lines", emitter)
		}
		return watched[0], watched, true, nil
	}
	em, err := st.Function(tmpl, emitter)
	if err != nil {
		return "", nil, false, err
	}
	if em.LogGroup == "" {
		return "", nil, false, fmt.Errorf("resource %s: no LoggingConfig.LogGroup: the twin needs the emitter's own log group", emitter)
	}
	return em.LogGroup, awslogs.SplitGroups(em.Env["WATCHED_LOG_GROUPS"]), false, nil
}

// setupSubscriptions builds the processor and an Invoker for it, one
// Subscription per subscription filter, and the account policy's watch.
func (t *Twin) setupSubscriptions(tmpl *samtemplate.Template, st *provision.Stack, specs []provision.SubscriptionFilter, policies []provision.AccountPolicy) error {
	dest, first := destinationOf(specs, policies)
	if dest == "" {
		return nil
	}
	for _, s := range specs {
		if s.Destination != dest {
			return fmt.Errorf("subscription filters %s and %s deliver to different functions; the twin runs one", first, s.LogicalID)
		}
	}
	for _, p := range policies {
		if p.Destination != dest {
			return fmt.Errorf("%s and %s deliver to different functions; the twin runs one", first, p.LogicalID)
		}
	}
	fn, err := st.Function(tmpl, dest)
	if err != nil {
		return err
	}
	if strings.Trim(fn.CodeURI, "./") != "processor" {
		return fmt.Errorf("resource %s: CodeUri %q: only the processor (processor/) runs locally", dest, fn.CodeURI)
	}
	// As Lambda sets it: the processor drops deliveries from its own group.
	fn.Env["AWS_LAMBDA_LOG_GROUP_NAME"] = fn.LogGroup
	t.dep.ProcessorLogGroup = fn.LogGroup
	pcfg, err := pipeline.LoadConfig(func(k string) string { return fn.Env[k] })
	if err != nil {
		return fmt.Errorf("resource %s: Environment: %w", dest, err)
	}
	proc := pipeline.New(pcfg, t.c.ddb, t.c.sns, pipeline.WithLogger(t.log), pipeline.WithClock(t.clock.Now), pipeline.WithMetrics(&t.emf))
	for _, a := range st.Attributes {
		if a["Arn"] == fn.OnFailure && fn.OnFailure != "" {
			t.dep.DLQURL = a["QueueUrl"]
		}
	}
	if t.dep.DLQURL == "" {
		return fmt.Errorf("resource %s: EventInvokeConfig.DestinationConfig.OnFailure.Destination %q is not a queue of the template", dest, fn.OnFailure)
	}
	invoke := InvokeConfig{
		FunctionARN: fn.ARN, MaxRetries: fn.MaxRetries, MaxEventAge: fn.MaxEventAge, Timeout: fn.Timeout,
		DLQURL: t.dep.DLQURL,
		// moto's DynamoDB does not serialise conditional writes (see
		// DESIGN.md), so invocations run one at a time; retries still
		// overlap.
		Concurrency: 1,
	}
	t.invoker = NewInvoker(proc.Handle, invoke, t.clock, t.c.sqs, t.cfg.Fault, func(format string, args ...any) { t.logf("deliver", format, args...) })
	if err := t.setupPathB(tmpl, st, dest, fn, proc.HandleKinesis); err != nil {
		return err
	}
	if len(fn.Schedules) > 0 { // the processor's schedule, which flushes the alert digests
		t.schedule = &schedule{flush: proc.Flush, period: slices.Min(fn.Schedules)}
	}
	for _, s := range specs {
		w := t.watchOf(s.Group)
		w.subs = append(w.subs, NewSubscription(s.Name, t.dep.AccountID, s.Group, s.Pattern, t.invoker))
	}
	for _, p := range policies {
		t.account = &accountWatch{spec: p, invoker: t.invoker, seen: map[string]bool{}}
		t.dep.AccountPolicy = p.Name
		t.dep.ExcludedLogGroups = slices.Sorted(maps.Keys(p.Excluded))
		// The stack's own watched groups have their own filters; the policy
		// adds to them, as in AWS, unless it leaves them out.
	}
	return nil
}

// setupRelay creates the email relay's queue, empty, subscribes it to
// every topic and returns its URL ("" without a Mailer or topics).
func (t *Twin) setupRelay(ctx context.Context) (string, error) {
	if t.cfg.Mailer == nil || len(t.dep.Topics) == 0 {
		return "", nil
	}
	name := t.dep.StackName + "-email-relay"
	q, err := t.c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create email relay queue %s: %w", name, err)
	}
	if _, err := t.c.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		return "", fmt.Errorf("empty email relay queue %s: %w", name, err)
	}
	arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", t.dep.Region, t.dep.AccountID, name)
	for _, topic := range t.dep.Topics {
		if _, err := t.c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(arn)}); err != nil {
			return "", fmt.Errorf("subscribe email relay queue to %s: %w", topic, err)
		}
	}
	return aws.ToString(q.QueueUrl), nil
}

// putMetricFilter records the metric filter in the endpoint, so that
// describe-metric-filters shows it; the twin applies it itself.
func (t *Twin) putMetricFilter(ctx context.Context, s provision.MetricFilter) error {
	in := &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(s.Group), FilterName: aws.String(s.Name), FilterPattern: aws.String(s.Pattern.String())}
	for _, m := range s.Transformations {
		mt := logstypes.MetricTransformation{MetricNamespace: aws.String(m.Namespace), MetricName: aws.String(m.MetricName), MetricValue: aws.String(m.MetricValue), DefaultValue: m.DefaultValue, Dimensions: m.Dimensions}
		if m.Unit != "" {
			mt.Unit = logstypes.StandardUnit(m.Unit)
		}
		in.MetricTransformations = append(in.MetricTransformations, mt)
	}
	if _, err := t.c.logs.PutMetricFilter(ctx, in); err != nil {
		return fmt.Errorf("create metric filter %s on %s: %w", s.Name, s.Group, err)
	}
	return nil
}

// streamLister is the subset of *cloudwatchlogs.Client latestEvent calls.
type streamLister interface {
	DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error)
}

// latestEvent returns the time of the newest event in a watched log group
// (zero when it has none), so that a second run against the same endpoint
// starts after the first.
func latestEvent(ctx context.Context, logs streamLister, group string) (time.Time, error) {
	var (
		latest int64
		token  *string
	)
	for {
		out, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), NextToken: token})
		if err != nil {
			return time.Time{}, fmt.Errorf("list log streams of %s: %w", group, err)
		}
		for _, s := range out.LogStreams {
			latest = max(latest, aws.ToInt64(s.LastEventTimestamp))
		}
		if out.NextToken == nil || len(out.LogStreams) == 0 {
			break
		}
		token = out.NextToken
	}
	if latest == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(latest).UTC(), nil
}

// lambdaStreamName names a log stream as Lambda does:
// 2026/11/25/[$LATEST]0123456789abcdef0123456789abcdef.
func lambdaStreamName(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("%s/[$LATEST]%x", now.UTC().Format("2006/01/02"), b)
}

// processorNamespace returns the METRICS_NAMESPACE of the function the
// subscriptions deliver to ("" without subscriptions or metrics).
func processorNamespace(tmpl *samtemplate.Template, st *provision.Stack, specs []provision.SubscriptionFilter, policies []provision.AccountPolicy) (string, error) {
	dest, _ := destinationOf(specs, policies)
	if dest == "" {
		return "", nil
	}
	fn, err := st.Function(tmpl, dest)
	if err != nil {
		return "", err
	}
	return fn.Env["METRICS_NAMESPACE"], nil
}

// destinationOf returns the destination function of the last subscription
// filter or policy and the logical id that names it ("" without any);
// setupSubscriptions requires every other to deliver there too.
func destinationOf(specs []provision.SubscriptionFilter, policies []provision.AccountPolicy) (dest, id string) {
	for _, s := range specs {
		dest, id = s.Destination, s.LogicalID
	}
	for _, p := range policies {
		dest, id = p.Destination, p.LogicalID
	}
	return dest, id
}

// shortestPeriod is the shortest alarm period, or a minute without alarms.
func shortestPeriod(cfgs []alarm.Config) time.Duration {
	p := time.Minute
	for i, c := range cfgs {
		if i == 0 || c.Period < p {
			p = c.Period
		}
	}
	return p
}
