package filterpattern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// Pages of the CloudWatch Logs user guide that the examples come from.
// "2019 revision" and "2022 revision" are earlier versions of
// FilterAndPatternSyntax.html as published in the awsdocs/
// amazon-cloudwatch-logs-user-guide repository (doc_source/
// FilterAndPatternSyntax.md); their examples still hold and some are no
// longer on the current page.
const (
	srcUnstructured = "FilterAndPatternSyntax.html#matching-terms-unstructured-log-events"
	srcJSON         = "FilterAndPatternSyntax.html#matching-terms-json-log-events"
	srcDelimited    = "FilterAndPatternSyntax.html#matching-terms-space-delimited-log-events"
	srcRegex        = "regex-expressions.html"
	srcMetricJSON   = "FilterAndPatternSyntaxForMetricFilters.html#metric-filters-extract-json"
	srcMetricDelim  = "FilterAndPatternSyntaxForMetricFilters.html#extract-log-event-values"
	srcMetricValues = "FilterAndPatternSyntaxForMetricFilters.html#changing-default-increment-value"
	srcDimensions   = "FilterAndPatternSyntaxForMetricFilters.html#logs-metric-filters-dimensions"
	srcPublishValue = "FilterAndPatternSyntaxForMetricFilters.html#publishing-values-found-in-logs"
	src2019Terms    = "FilterAndPatternSyntax.html (2019 revision)#matching-terms-events"
	src2019OR       = "FilterAndPatternSyntax.html (2019 revision)#log-filters-or-pattern-matching"
	src2019JSON     = "FilterAndPatternSyntax.html (2019 revision)#metric-filter-term-matching"
	src2019Delim    = "FilterAndPatternSyntax.html (2019 revision)#extract-log-event-values"
	src2022Terms    = "FilterAndPatternSyntax.html (2022 revision)#matching-terms-events"
	srcCDK          = "AWS CDK aws-logs FilterPattern.anyTermGroup (pattern.ts)"
)

// Log events shown on the documentation pages.
const (
	evBadRequest   = "[ERROR 400] BAD REQUEST"
	evUnauthorized = "[ERROR 401] UNAUTHORIZED REQUEST"
	evMissingArgs  = "[ERROR 419] MISSING ARGUMENTS"
	evInvalidArgs  = "[ERROR 420] INVALID ARGUMENTS"
	evInternal     = "[ERROR 500] INTERNAL SERVER ERROR"
	evAuthorized   = "[SUCCESS 200] AUTHORIZED REQUEST"

	// The JSON log event of the JSON examples, on one line as the docs ask
	// for when testing; ThisFlag is from the 2019 revision.
	evJSON = `{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", ` +
		`"arrayKey": ["value", "another value"], ` +
		`"objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], ` +
		`"SomeObject": null, "ThisFlag": true}`
	// The JSON object of the compound-expression examples.
	evCompound = `{"user": {"id": 1, "email": "John.Stiles@example.com"}, ` +
		`"users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}], ` +
		`"actions": ["GET", "PUT", "DELETE"], ` +
		`"coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}`

	evApacheProd = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
	evApache1    = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	evApache2    = `127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324`
	evApache3    = `127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355`
	evApache404  = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`

	evErrorWarn = "ERROR WARN message"
	evError     = "ERROR message"
	evWarn      = "WARN message"
)

// docCase is one documented pattern with the events it must and must not
// match.
type docCase struct {
	source   string
	pattern  string
	match    []string
	notMatch []string
}

func docCases() []docCase {
	allErrors := []string{evBadRequest, evUnauthorized, evMissingArgs, evInvalidArgs}
	apache := []string{evApache1, evApache2, evApache3}
	return []docCase{
		// Unstructured log events.
		{srcUnstructured, `ERROR`, allErrors, []string{evAuthorized}},
		{srcUnstructured, `ERROR ARGUMENTS`, []string{evMissingArgs, evInvalidArgs}, []string{evBadRequest, evUnauthorized}},
		{srcUnstructured, `?ERROR ?ARGUMENTS`, allErrors, []string{evAuthorized}},
		{srcUnstructured, `"INTERNAL SERVER ERROR"`, []string{evInternal}, []string{evBadRequest}},
		{srcUnstructured, `ERROR -ARGUMENTS`, []string{evBadRequest, evUnauthorized}, []string{evMissingArgs, evInvalidArgs}},
		{srcUnstructured, `" "`, []string{evBadRequest, evAuthorized, "no-blank-at-all", ""}, nil},
		{srcUnstructured, `%AUTHORIZED%`, []string{evUnauthorized, evAuthorized}, []string{evBadRequest}},
		{src2022Terms, `""`, []string{evBadRequest, ""}, nil},
		{src2019Terms, `ERROR`, []string{"[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"}, nil},
		{src2019Terms, `"ERROR" - "Exiting"`, []string{"[ERROR] A fatal exception has occurred"}, []string{"Exiting with ERRORCODE: -1"}},
		{src2019Terms, `ERROR Exception`, []string{"[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception"}, nil},
		{src2019Terms, `Failed to process the request`, []string{"[WARN] Failed to process the request", "[ERROR] Unable to continue: Failed to process the request"}, nil},
		{src2019OR, `ERROR`, []string{evErrorWarn, evError}, []string{evWarn}},
		{src2019OR, `?ERROR ?WARN`, []string{evErrorWarn, evError, evWarn}, nil},
		{src2019OR, `ERROR WARN`, []string{evErrorWarn}, []string{evError, evWarn}},
		{src2019OR, `ERROR -WARN`, []string{evError}, []string{evErrorWarn, evWarn}},
		{srcCDK, `?"ERROR" "MainThread" ?"WARN" "Deadlock"`, []string{"ERROR in MainThread", "WARN: Deadlock detected"}, []string{"ERROR in worker", "WARN in MainThread"}},

		// Regular expressions. Messages are ours where the page shows only
		// the pattern.
		{srcRegex, `%AUTHORIZED%`, []string{evUnauthorized, evAuthorized}, []string{evBadRequest}},
		{srcRegex, `%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%`, []string{"client 10.0.12.1 refused"}, []string{"client 10.0.x.1 refused"}},
		{srcRegex, `%[Ee]rror|[Ff]ail%`, []string{"Error: x", "an error", "Fail", "will fail"}, []string{"ERROR", "FAIL"}},
		{srcRegex, `%colou?r%`, []string{"color", "colour"}, []string{"colr"}},
		{srcRegex, `%gray|grey%`, []string{"gray", "grey"}, []string{"groy"}},
		{srcRegex, `%10\.10\.0\.1%`, []string{"from 10.10.0.1"}, []string{"from 10x10x0x1"}},
		{srcRegex, `%[a-z]%`, []string{"A b"}, []string{"ABC 123"}},
		{srcRegex, `%^[hc]at%`, []string{"hat trick", "cat"}, []string{"a cat"}},
		{srcRegex, `%[hc]at$%`, []string{"a hat", "cat"}, []string{"cats"}},

		// JSON log events.
		{srcJSON, `{ $.eventType = "UpdateTrail" }`, []string{evJSON}, []string{`{"eventType": "CreateTrail"}`}},
		{srcJSON, `{ $.sourceIPAddress != 123.123.* }`, []string{evJSON}, []string{`{"sourceIPAddress": "123.123.0.1"}`}},
		{srcJSON, `{ $.arrayKey[0] = "value" }`, []string{evJSON}, []string{`{"arrayKey": "value"}`}},
		{srcJSON, `{ $.objectList[1].id = 2 }`, []string{evJSON}, []string{`{"objectList": [{"id": 2}]}`, `{"objectList": {"id": 2}}`}},
		{srcJSON, `{ $.SomeObject IS NULL }`, []string{evJSON}, []string{`{"SomeObject": {}}`, `{"other": null}`}},
		{srcJSON, `{ $.SomeOtherObject NOT EXISTS }`, []string{evJSON}, []string{`{"SomeOtherObject": null}`}},
		{src2019JSON, `{ $.ThisFlag IS TRUE }`, []string{evJSON}, []string{`{"ThisFlag": false}`, `{"ThisFlag": "true"}`}},
		{src2019JSON, `{ $.ThisFlag IS FALSE }`, []string{`{"ThisFlag": false}`}, []string{evJSON}},
		{srcJSON, `{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, []string{evCompound}, nil},
		{srcJSON, `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }`, []string{evCompound}, nil},
		{srcJSON, `{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }`, nil, []string{evCompound}},
		{srcJSON, `{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, nil, []string{evCompound}},
		{src2019JSON, `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, []string{evCompound}, nil},
		{src2019JSON, `{ $.users = 1 }`, nil, []string{`{"users": [1, 2, 3]}`}},
		{src2019JSON, `{ $.users != 1 }`, nil, []string{`{"users": [1, 2, 3]}`}},
		{src2019JSON, `{ $.eventName = *Event }`, []string{`{"eventName": "PutEvent"}`, `{"eventName": "GetEvent"}`}, []string{`{"eventName": "EventId"}`}},
		{src2019JSON, `{ $.eventName = Event* }`, []string{`{"eventName": "EventId"}`, `{"eventName": "EventName"}`}, []string{`{"eventName": "PutEvent"}`}},
		{src2019JSON, `{ $.eventName = Ev*ent }`, []string{`{"eventName": "Ev*ent"}`}, []string{`{"eventName": "Event"}`, `{"eventName": "Evxent"}`}},
		{src2019OR, `{$.foo = bar}`, []string{`{"foo": "bar"}`}, []string{`{"foo": "baz"}`}},
		{src2019OR, `{$.foo = baz }`, []string{`{"foo": "baz"}`}, []string{`{"foo": "bar"}`}},
		{src2019OR, `{$.foo = bar || $.foo = baz }`, []string{`{"foo": "bar"}`, `{"foo": "baz"}`}, []string{`{"foo": "qux"}`}},
		// Numeric comparisons: the pages show the patterns, the events are ours.
		{srcMetricJSON, `{ $.bandwidth > 75 }`, []string{`{"bandwidth": 80}`}, []string{`{"bandwidth": 75}`}},
		{srcMetricJSON, `{ $.latency < 50 }`, []string{`{"latency": 49.9}`}, []string{`{"latency": 50}`}},
		{srcMetricJSON, `{ $.refreshRate >= 60 }`, []string{`{"refreshRate": 60}`}, []string{`{"refreshRate": 59}`}},
		{srcMetricJSON, `{ $.responseTime <= 5 }`, []string{`{"responseTime": 5}`}, []string{`{"responseTime": 5.01}`}},
		{srcMetricJSON, `{ $.errorCode = 400}`, []string{`{"errorCode": 400}`, `{"errorCode": 4e2}`}, []string{`{"errorCode": 401}`}},
		{srcMetricJSON, `{ $.errorCode != 500 }`, []string{`{"errorCode": 404}`}, []string{`{"errorCode": 500}`, `{"other": 1}`}},
		{srcMetricJSON, `{ $.number[0] = 1e-3 }`, []string{`{"number": [0.001]}`}, []string{`{"number": [0.01]}`}},
		{srcMetricJSON, `{ $.number[0] != 1e+3 }`, []string{`{"number": [999]}`}, []string{`{"number": [1000]}`}},
		{src2019JSON, `{ $.numbers[0] < 10e3 }`, []string{`{"numbers": [9999]}`}, []string{`{"numbers": [10000]}`}},
		{src2019JSON, `{ $.numbers[0] < 10e-3 }`, []string{`{"numbers": [0.009]}`}, []string{`{"numbers": [0.01]}`}},
		{src2019JSON, `{ $.processes[4].averageRuntime <= 55.5 }`, []string{`{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}`}, []string{`{"processes": [{"averageRuntime": 1}]}`}},
		{src2019JSON, `{ $.latency > +1000 }`, []string{`{"latency": 1001}`}, []string{`{"latency": 1000}`}},
		{srcDimensions, `{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }`, []string{evJSON}, []string{`{"sourceIPAddress": "1.1.1.1"}`}},
		{srcPublishValue, `{ $.latency = * }`, []string{`{"latency": 50, "requestType": "GET"}`}, []string{`{"requestType": "GET"}`}},

		// Space-delimited log events.
		{srcDelimited, `[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, []string{evApacheProd, evApache404}, apache},
		{srcDelimited, `[..., request =*.html*, status_code = 4*, bytes]`, []string{evApacheProd}, apache},
		{srcDelimited, `[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]`, []string{evApacheProd}, apache},
		{srcDelimited, `[w1=ERROR, w2]`, []string{evError}, []string{evWarn, evErrorWarn}},
		{srcDelimited, `[w1=ERROR || W1=WARNING, w2]`, []string{"ERROR message", "WARNING message"}, []string{"INFO message"}},
		{srcDelimited, `[w1!=ERROR && w1!=WARNING, w2]`, []string{"INFO message"}, []string{"ERROR message", "WARNING message"}},
		{srcDimensions, `[ip, server, username, timestamp, request, status_code, bytes > 1000]`, []string{evApacheProd}, []string{`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 999`}},
		{src2019OR, `[w1=ERROR || w1=WARN, w2]`, []string{evError, evWarn}, []string{evErrorWarn}},
		{src2019Delim, `[ip, user, username, timestamp, request, status_code, bytes]`, apache, []string{"too few fields"}},
		{src2019Delim, `[..., status_code, bytes]`, apache, nil},
		{src2019Delim, `[ip, user, ..., status_code, bytes]`, apache, nil},
		{src2019Delim, `[ip, user, ...]`, apache, nil},
		{src2019Delim, `[ip, user, username, timestamp, request, status_code, bytes > 1000]`, apache, nil},
		{src2019Delim, `[ip, user, username, timestamp, request, status_code = 200, bytes]`, []string{evApache1, evApache3}, []string{evApache2}},
		{src2019Delim, `[ip, user, username, timestamp, request, status_code = 4*, bytes]`, []string{evApache404}, apache},
		{src2019Delim, `[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]`, []string{evApache404}, apache},
		{src2019Delim, `[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]`, []string{evApache404}, apache},
		{src2019Delim, `[..., request=*.html*, status_code=4*,]`, []string{evApache404}, apache},
	}
}

func TestMatchDocumentedExamples(t *testing.T) {
	for _, tc := range docCases() {
		t.Run(tc.source+" "+tc.pattern, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			for _, msg := range tc.match {
				assert.True(t, p.Match(msg), "want match: %s", msg)
			}
			for _, msg := range tc.notMatch {
				assert.False(t, p.Match(msg), "want no match: %s", msg)
			}
		})
	}
}
