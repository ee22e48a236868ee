// Command logalert operates a logalert deployment: it inspects and moves
// incidents, redrives the dead-letter queue, tests filter patterns and runs
// the whole pipeline locally.
//
// Install it with go install github.com/logalert/logalert/cmd/logalert@latest
// (or make install in a clone).
//
// Usage (every command also takes -o table|json|yaml; the AWS-facing ones
// take [--table T | --stack S] [--region R] [--profile P]):
//
//	logalert incidents list    [--status S] [--log-group G] [--account ID] [--since 24h] [--limit N] [--watch [--interval 5s]] [--width N]
//	logalert incidents show    [--account ID] ID
//	logalert incidents ack     [--by NAME] [--strict] ID...
//	logalert incidents resolve [--by NAME] [--strict] ID...
//	logalert incidents stats   [--status S] [--log-group G] [--account ID] [--by-account] [--since 24h]
//	logalert incidents export  [--out FILE] [--s3 s3://bucket/prefix] [--status S] [--log-group G] [--account ID] [--since 24h] [--limit N]
//	logalert incidents migrate-index
//	logalert redrive           [--queue-url URL] [--function NAME | --local] [--dry-run] [--max N]
//	logalert test-pattern      [--metric-value REF] [--default-value N] PATTERN [FILE]
//	logalert demo              [--template FILE] [--stack NAME] [--region R] [--parameter-overrides "K=V ..."] [--period 5s]
//	                           [--errors N] [--warnings N] [--infos N] [--outbox DIR] [--fail-deliveries N] [--keep] [--quiet]
//
// -o, --output is table by default (export: json, the report; its
// destinations are --out and --s3). The incidents subcommands and redrive
// find the deployment with --stack NAME, which reads the CloudFormation
// stack's outputs (IncidentsTableName, DeadLetterQueueUrl,
// ProcessorFunctionName, AlertsTopicArn), or with --table NAME, or
// $LOGALERT_TABLE; with none of them the stack is $LOGALERT_STACK, else the
// stack_name of samconfig.toml in the working directory. AWS configuration
// comes from the SDK's standard chain (AWS_PROFILE, AWS_REGION,
// AWS_DEFAULT_REGION, credentials), with --profile and --region before it,
// and AWS_ENDPOINT_URL points every command at a local endpoint such as
// moto_server. Every command reads stdin and the environment, and writes
// stdout and stderr, only through run's parameters. Results go to stdout,
// diagnostics to stderr; a command-line mistake exits with status 2, any
// other failure with 1, and test-pattern exits 1 when no line matches.
//
// # Incidents
//
// list queries the table's by-status-shard index (never a scan) and prints the
// incidents most recently seen first, in a table as wide as the terminal
// (or --width; 100 columns when stdout is not a terminal), with the
// template cut to fit; IDs are shortened to "inc-" and 8 hex digits, and
// every command taking an ID accepts such a unique prefix. --since takes a
// duration back from now (90m, 24h, 7d) or a time (2026-11-25,
// 2026-11-25T14:00:00Z). --watch prints the list, then every incident that
// is opened or changes (new occurrences, acknowledged, resolved), polling
// every --interval, until Ctrl-C; with -o json it writes one object a line,
// with -o yaml one list item per change.
//
// show prints every field, the latest (redacted) sample message and a link
// to the Logs Insights query of the log group around the incident.
//
// Every incident belongs to one AWS account (account_id, the owner of its
// log group: in a central account, member accounts' incidents are
// separate). The table gets an ACCOUNT column when the incidents listed are
// of several accounts, show an Account row, and json and yaml always have
// account_id; incidents stored before accounts were recorded have none
// ("-"). --account ID keeps one account's incidents (list, stats, export;
// show, to pick among accounts for an ambiguous prefix); it reads the
// selected incidents from the table by key, as the index holds no account.
//
// ack moves OPEN incidents to ACKNOWLEDGED, resolve moves OPEN and
// ACKNOWLEDGED ones to RESOLVED; --by defaults to $USER, else the OS user's
// name. Both are conditional writes on the incident's version, so two
// people acting at once, or a person and the processor, never lose an
// update. An incident already in the state asked for gets a notice on
// stderr and is not an error, unless --strict. A status change the
// incident's status does not allow (acknowledging a RESOLVED incident)
// fails and names who made the last change; the next occurrence of a
// resolved incident reopens it. An ambiguous ID prefix is refused with the
// IDs it matches.
//
// stats counts incidents and occurrences by status, severity and log group,
// and by account with --by-account or --account.
//
// migrate-index, run once after upgrading from a version whose index was
// by-status, gives every incident written before its status_shard (the
// sharded index's key), so that list, stats and export see it again. It is
// idempotent and resumable, and prints how many it migrated.
//
// export writes a report (generation time, table, filters, a summary and
// every incident) as JSON, YAML or tables (-o) to --out (stdout by default)
// and, with --s3, uploads it to
// s3://bucket/prefix/logalert-report-<UTC time>.<json|yaml|txt>.
// Throttling is retried; a missing bucket and denied access get a message
// saying what to fix.
//
// # Redrive
//
// redrive reads the processor's dead-letter queue (--queue-url, or the
// stack's DeadLetterQueueUrl): each message is Lambda's on-failure record
// of a delivery, and redrive feeds its original payload back to the
// processor: by invoking the function synchronously (--function, or the
// stack's ProcessorFunctionName), or with --local by running the
// processor's code in this process (table from --table, --stack,
// $LOGALERT_TABLE or $INCIDENTS_TABLE; ALERTS_TOPIC_ARN, INCIDENT_PATTERN,
// REDACT_PATTERNS, STACK_NAME, ERROR_ALARM_NAME and DASHBOARD_NAME from the
// environment or the stack, so its alerts read as the deployed
// processor's; a demo kept up with --keep mails them). A message is deleted
// only after the payload was processed; failures and messages that are not
// such records stay in the queue. Progress goes to stderr (a bar on a
// terminal, a line per message otherwise), a table and a summary to
// stdout; the exit status is 1 when a message failed again. --dry-run lists
// what would be redriven, --max N stops after N messages. Redriving a
// payload that was already counted changes nothing: the store applies
// every delivery once. The queue also holds the on-failure records of the
// Kinesis event source mapping (member accounts): they name a batch of the
// stream (KinesisBatchInfo), which redrive reads back (GetShardIterator,
// GetRecords) and hands to the function or, with --local, to the
// processor's HandleKinesis; the message goes only when every record was
// processed. A batch the stream no longer holds (older than its retention)
// is reported as expired, stays in the queue, and makes the exit status 1.
// With --local the processor's HOME_ACCOUNT_ID is the environment's, else
// the stack's account, else that of the credentials in use.
//
// # Permissions
//
// incidents needs dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:Query
// and dynamodb:UpdateItem on the table and its index (and
// cloudformation:DescribeStacks with --stack), migrate-index
// dynamodb:Scan and dynamodb:UpdateItem on the table; export --s3 needs s3:PutObject; redrive needs
// sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage and
// sqs:ChangeMessageVisibility on the queue and lambda:InvokeFunction on the
// function (or, with --local, what the processor's role has), and for
// Kinesis records kinesis:GetShardIterator and kinesis:GetRecords on the
// stream (and kms:Decrypt on its key).
package main
