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
// With member accounts (MemberAccountIds), each in its own account of the
// endpoint (AccountConfig: moto keeps accounts apart by the keys STS
// AssumeRole gives), two more paths reach the same processor:
//
//	Path B: member's Shipper ─► member's log group ─► Tailer (member account)
//	        Subscription (member.yaml's filter) ─► Destination (central)
//	        ─PutRecords─► Kinesis stream ─► KinesisMapping ─► Processor.HandleKinesis
//	                                           │ after its retries
//	                                           ▼ on-failure record (shard, sequence numbers) ─► DLQ
//	Path A: member's credentials ─AssumeRole + ExternalId─► writer role
//	        ─► Shipper ─PutLogEvents─► central watched group ─► (as above)
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
// regex on a group. New also records the stack, with its parameters
// (NoEcho ones masked) and outputs, in the endpoint's CloudFormation (a
// stack without resources),
// so that `logalert incidents --stack`, `logalert redrive --stack` and
// `make incidents` find the deployment as they would in AWS. With
// MemberAccountIds, New also sets up each member account (members.go):
// member.yaml (Config.MemberTemplate) applied with the stack's
// CentralDestinationArn and Config.MemberOverrides, the groups it
// subscribes created as the member's own, a Tailer on each; and the
// central destination and event source mapping from the template.
//
// Emit runs the emitter's handler (emit.Handler) with a Shipper as its
// LineWriter, into any watched group it names (without the emitter,
// DeployEmitter=false, the handler stands in for the user's application:
// it writes into the first watched group); Writer and WriterIn give a
// Shipper for other streams and groups; MemberWriter writes in a member
// account's group and CrossAccountWriter from a member account into a
// central watched group through the writer role. Run then runs the
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
//   - CloudWatch Logs destinations to Kinesis, for member accounts'
//     subscription filters: one record of gzipped awslogs JSON per
//     delivery, owner the member account, partition key per log stream,
//     PutRecords within 500 records and 5 MiB, 1 MiB per record, refused
//     records put again (Destination, NewDestinationSubscription).
//   - Many accounts: member accounts reached by assuming a role in them;
//     member.yaml's subscription filters to the central destination; the
//     writer role of Path A assumed with its ExternalId, whose trust
//     (accounts, ExternalId) and permissions (the watched groups only) the
//     twin enforces itself, as moto does not.
//   - Lambda's Kinesis event source mapping: per shard in order, BatchSize
//     and the batching window, ReportBatchItemFailures checkpoints, retries
//     and BisectBatchOnFunctionError, MaximumRetryAttempts and
//     MaximumRecordAgeInSeconds, the on-failure record (KinesisBatchInfo)
//     in SQS (KinesisMapping).
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
// KMS, IAM and resource policies (nothing is denied locally, but for the
// writer role's trust and groups); the organization of OrganizationId
// (only the accounts of MemberAccountIds run; the destination policy and
// the logs role are not checked); the
// dashboard; alarms on other services' metrics (AWS/Lambda, AWS/SQS),
// which are listed in Deployment.Skipped; the emitter's own invocation
// (Emit calls its handler directly); SNS's subscription confirmation (email
// subscriptions count as confirmed); metric filters publish per-minute
// statistic sets but the alarms see every value (which is what
// CloudWatch's statistics are computed from); the subscription filter is
// not registered in moto (moto would try to invoke a function it does not
// have, and takes no logs destination from another account); events written with a timestamp older than the newest one read
// are not read (the twin's writers never do that); one processor function
// only, invoked one delivery at a time.
package local
