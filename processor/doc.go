// Command processor is the Lambda function behind the log group's
// subscription filter and, in a central account, the Kinesis event source
// mapping of the member accounts' logs destination. It decodes each
// CloudWatch Logs delivery, groups the
// events that match the incident pattern into incidents, writes them to
// DynamoDB exactly once, and announces opened and reopened incidents on the
// SNS alerts topic.
//
// # Event
//
// A CloudWatch Logs subscription delivery (events.CloudwatchLogsEvent):
//
//	{"awslogs": {"data": "<base64 of gzip of the JSON payload>"}}
//
// or a batch of the Kinesis event source mapping on the stream a
// CloudWatch Logs destination writes (events.KinesisEvent), each record's
// data the gzipped awslogs JSON (Lambda has decoded the base64):
//
//	{"Records": [{"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": "…", "data": "<gzip>"}}, …]}
//
// The two are told apart by their shape. A batch's records are processed
// in order, each counted once across redeliveries; the response names the
// records that failed (batchItemFailures, by sequence number), a corrupt
// one included, so that the mapping retries them and finally sends the
// batch's shard and sequence numbers to the dead-letter queue for
// logalert redrive.
//
// A CONTROL_MESSAGE (sent when the filter is created) is acknowledged and
// ignored. A delivery from the function's own log group or from a group
// under EXCLUDED_LOG_GROUP_PREFIXES is dropped without error: counted
// (DeliveriesDropped) and logged, a drop from its own group only once per
// cold start.
//
// An EventBridge scheduled event (the template's FlushDigests schedule,
// every minute):
//
//	{"source": "aws.events", "detail-type": "Scheduled Event", ...}
//
// publishes the alert digests whose window has ended (see ALERT_BURST). A
// failed flush is logged and not returned: the event carries nothing to
// retry, and the next tick flushes again.
//
// # Environment
//
//	INCIDENTS_TABLE         required: the DynamoDB incidents table
//	ALERTS_TOPIC_ARN        optional: SNS topic for opened/reopened incidents
//	INCIDENT_PATTERN        optional: CloudWatch Logs filter pattern selecting
//	                        the events that form incidents; default
//	                        "?ERROR ?FATAL ?CRITICAL", the template's
//	                        ErrorPattern default. An invalid pattern stops
//	                        the function at start-up with the parse error.
//	REDACT_PATTERNS         optional: the deployment's own secret shapes,
//	                        Go regular expressions separated by white
//	                        space, redacted besides the built-in ones (the
//	                        template's RedactPatterns). A pattern that does
//	                        not compile stops the function at start-up.
//	METRICS_NAMESPACE       optional: namespace of the processor's own
//	                        metrics in Embedded Metric Format; none if empty
//	MAX_DECOMPRESSED_BYTES  optional: cap on a delivery's decompressed size
//	                        (default awslogs.DefaultLimits); larger
//	                        deliveries fail without being inflated further
//	STACK_NAME              optional: the CloudFormation stack; the alerts'
//	                        commands name it (--stack), else the table
//	ERROR_ALARM_NAME        optional: the error-lines alarm, linked from the
//	                        alerts
//	DASHBOARD_NAME          optional: the stack's dashboard, linked from the
//	                        alerts
//	EXCLUDED_LOG_GROUP_PREFIXES optional: comma-separated log group name
//	                        prefixes whose deliveries are dropped (the
//	                        template's ExcludedLogGroupPrefixes)
//	HOME_ACCOUNT_ID         optional: the account the function runs in (the
//	                        template passes AWS::AccountId). Incidents of
//	                        its log groups have IDs made of log group and
//	                        fingerprint, as before accounts were recorded;
//	                        those of other accounts (the payload's owner)
//	                        name the account too. Unset, every account is
//	                        treated as another's: two accounts never share
//	                        an incident, but the function's own incidents
//	                        get new IDs.
//	ALERT_BURST             optional: alerts of one log group announced one
//	                        by one per window; the rest of the window's go
//	                        out in one digest message when it ends (the
//	                        template's AlertBurst, default 5 there). 0 or
//	                        unset: every alert alone.
//	ALERT_WINDOW_SECONDS    optional: the window of ALERT_BURST (default 300,
//	                        the template's AlertWindowSeconds)
//	AWS_LAMBDA_LOG_GROUP_NAME set by Lambda: the function's own log group,
//	                        whose deliveries are always dropped, so that its
//	                        own error lines can never invoke it again
//
// AWS settings come from the SDK's standard chain, so AWS_REGION,
// AWS_ENDPOINT_URL and credentials point it at any endpoint, moto included.
//
// # Failure handling
//
// Every failure — a malformed payload, DynamoDB still throttling after the
// SDK's retries, an alert that could not be published — is logged once as
// one JSON line with the reason and returned, so Lambda retries the
// delivery (twice) and then sends it to the dead-letter queue. Redelivery is
// harmless: see package internal/store for the exactly-once design. In a
// Kinesis batch a failure is the record's: it is logged and reported in
// batchItemFailures, and the other records go on.
//
// # Logs and metrics
//
// One JSON log line per invocation with the counts (events, matched,
// incidents, opened, reopened, duplicates, and alerts: announced alone or
// deferred into a digest; for a Kinesis batch also records, failed,
// bad_payloads, control, dropped); a scheduled flush logs "digests flushed"
// when it published a digest or one is still due, "digests not flushed"
// when it failed. With METRICS_NAMESPACE set, an EMF record with
// EventsProcessed, EventsMatched, IncidentsOpened, IncidentsReopened,
// BadPayloads, DeliveriesDropped and DecompressedBytes; for a Kinesis batch
// also one record per account of MemberEventsMatched (Count) with the
// dimension sets [AccountId] and [] (per account, and all together), which
// the central stack's member alarms watch.
package main
