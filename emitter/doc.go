// Command emitter is the Lambda function that writes test log lines on
// demand, so that a user can trip the alerts of a deployed stack.
//
// Its event is a JSON object with optional counts; missing counts take the
// defaults of package internal/emit (5 errors, 2 warnings, 10 info lines):
//
//	{"error_count": 5, "warn_count": 2, "info_count": 10, "log_group": "/shop/api"}
//
// log_group names the watched log group to write into (WATCHED_LOG_GROUPS,
// which the template sets to LogGroupNames or the stack's app group); left
// out, the first of them. A group the stack does not watch is refused.
// Error lines contain ERROR or CRITICAL and so match the template's default
// ErrorPattern; warnings and info lines do not. Into its own log group
// (LoggingConfig.LogGroup, the stack's app group) the function writes each
// line to standard output, which Lambda ships there; into any other watched
// group it calls PutLogEvents, which the template grants for exactly those
// groups. It returns a summary:
//
//	{"run_id": "run-20261125T140000.123", "log_group": "/shop/api", "errors": 5, "warnings": 2, "infos": 10, "lines": 17, "bytes": 1234}
//
// A negative count or more than 10,000 lines in all is refused with an
// error. Invoke it with `make emit ERRORS=5 LOG_GROUP=/shop/api` or
// `sam remote invoke EmitterFunction --event '{"error_count":5}'`.
package main
