// Command emitter is the Lambda function that writes test log lines on
// demand, so that a user can trip the alerts of a deployed stack.
//
// Its event is a JSON object with optional counts; missing counts take the
// defaults of package internal/emit (5 errors, 2 warnings, 10 info lines):
//
//	{"error_count": 5, "warn_count": 2, "info_count": 10}
//
// Error lines contain ERROR or CRITICAL and so match the template's default
// ErrorPattern; warnings and info lines do not. The function writes each
// line to standard output, which Lambda ships to its log group, and the
// template points that log group (LoggingConfig.LogGroup) at the monitored
// one. It returns a summary:
//
//	{"run_id": "run-20261125T140000.123", "errors": 5, "warnings": 2, "infos": 10, "lines": 17, "bytes": 1234}
//
// A negative count or more than 10,000 lines in all is refused with an
// error. Invoke it with `make emit ERRORS=5` or
// `sam remote invoke EmitterFunction --event '{"error_count":5}'`.
package main
