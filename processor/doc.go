// Command processor is the Lambda function behind the log group's
// subscription filter. It decodes each CloudWatch Logs delivery, groups the
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
// harmless: see package internal/store for the exactly-once design.
//
// # Logs and metrics
//
// One JSON log line per invocation with the counts (events, matched,
// incidents, opened, reopened, duplicates, and alerts: announced alone or
// deferred into a digest); a scheduled flush logs "digests flushed" when
// it published a digest or one is still due, "digests not flushed" when
// it failed; and, with METRICS_NAMESPACE
// set, an EMF record with EventsProcessed, EventsMatched, IncidentsOpened,
// IncidentsReopened, BadPayloads, DeliveriesDropped and DecompressedBytes.
package main
