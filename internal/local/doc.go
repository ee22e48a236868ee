// Package local is the local twin of the AWS control plane: it runs the
// whole logalert pipeline on one machine against an AWS API emulator
// (moto_server), driven by template.yaml, with the same packages the Lambda
// functions use. `logalert demo` (make demo) and the end-to-end test run it.
//
// moto serves the APIs but runs nothing between them: no metric filter, no
// alarm evaluation or action, no subscription delivery, no Lambda
// invocation, no email. The twin does those:
//
//	emit.Handler ─► Shipper ─PutLogEvents─► log group
//	                                          │ Tailer (FilterLogEvents from a cursor)
//	      ┌───────────────────────────────────┴───────────────────────┐
//	MetricFilter (filterpattern.Evaluate)                Subscription (pattern, per stream)
//	      │ PutMetricData                                      │ awslogs.Encode
//	Alarm (internal/alarm) ─SetAlarmState─► moto         Invoker (Lambda async: 2 retries,
//	      │ Publish alarm JSON                                 │ then a FailureRecord to the DLQ)
//	SNS topic ◄──── Publish "incident opened" ───────── pipeline.Processor ─► DynamoDB
//	      │ SQS subscription
//	email.Relay ─► email.Mailer (Outbox .eml files, or SMTP)
//
// New reads the template (samtemplate), applies the parameter overrides and
// creates the resources with provision.Apply; the template is the only
// source of settings, read by provision.Stack: the watched log groups are those the template's
// metric and subscription filters name (each with a Tailer of its own,
// groups.go), plus, with an AWS::Logs::AccountPolicy of type
// SUBSCRIPTION_FILTER_POLICY, every group of the endpoint its
// SelectionCriteria leaves in, found as they appear (accountpolicy.go);
// the alarms are those on the filters' metrics and on the processor's EMF
// metrics (EMFMetrics); the processor's environment (with
// AWS_LAMBDA_LOG_GROUP_NAME, as Lambda sets it), timeout, retries and
// dead-letter queue come from its function. Before anything is put it
// refuses what CloudWatch Logs would: a watched group that does not exist,
// a third subscription filter on a group, a sixth filter pattern with a
// regex on a group. New also records the stack, with its parameters and
// outputs, in the endpoint's CloudFormation (a stack without resources),
// so that `logalert incidents --stack`, `logalert redrive --stack` and
// `make incidents` find the deployment as they would in AWS.
//
// Emit runs the emitter's handler (emit.Handler) with a Shipper as its
// LineWriter, into any watched group it names (without the emitter,
// DeployEmitter=false, the handler stands in for the user's application:
// it writes into the first watched group); Writer and WriterIn give a
// Shipper for other streams and groups. Run then runs the
// control plane until it has settled and Result gathers what each hop did,
// reading the incidents table and the dead-letter queue. Mail keeps
// relaying the topics' notifications afterwards, for as long as a kept
// demo is up (alerts that `logalert redrive --local` publishes, say).
//
// # What the twin covers
//
//   - CloudWatch Logs: PutLogEvents batching and limits, stream creation,
//     retried throttling (Shipper); reading new events (Tailer).
//   - Metric filters: the pattern, metric values, default values and
//     dimensions, published with PutMetricData (MetricFilter).
//   - Alarms on those metrics: M out of N evaluation, missing data,
//     SetAlarmState, and CloudWatch's notification published to the
//     alarm's SNS actions (Alarm, with package alarm).
//   - Subscription filters: per-stream awslogs payloads within the
//     delivery size limit (Subscription).
//   - Lambda's asynchronous invocation of the processor: timeout, two
//     retries (one and two minutes later), maximum event age, the failure record
//     in the on-failure SQS queue (Invoker).
//   - The processor's EventBridge schedule (a Schedule event of its
//     function, rate(N unit) as provision.ParseRate reads it): the twin
//     calls the processor's Flush every period of its clock, which
//     publishes the alert digests whose window has ended, in Run and in
//     Mail; Run flushes once more before it settles and does not settle
//     while a digest is due.
//   - SNS email delivery, through package email: the alarm email text and
//     SNS's footer, as .eml files or over SMTP, to each email subscription
//     whose filter policy on message attributes lets the message through
//     (the template's optional second subscription included).
//
// # Time
//
// A Clock compresses time so that an alarm period of a minute passes in a
// few seconds (Config.Period). Everything the twin stamps reads the clock:
// event timestamps, datapoints, alarm evaluations and their notifications,
// Lambda's retry delays (one and two minutes), incident times, the
// schedule's ticks and the alert windows. Real time
// only bounds function invocations (their Timeout).
//
// # What is not modelled
//
// KMS, IAM and resource policies (nothing is denied locally); the
// dashboard; alarms on other services' metrics (AWS/Lambda, AWS/SQS),
// which are listed in Deployment.Skipped; the emitter's own invocation
// (Emit calls its handler directly); SNS's subscription confirmation (email
// subscriptions count as confirmed); metric filters publish per-minute
// statistic sets but the alarms see every value (which is what
// CloudWatch's statistics are computed from); the subscription filter is
// not registered in moto (moto would try to invoke a function it does not
// have); events written with a timestamp older than the newest one read
// are not read (the twin's writers never do that); one processor function
// only, invoked one delivery at a time.
package local
