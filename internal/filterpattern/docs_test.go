package filterpattern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// Pages of the CloudWatch Logs user guide that the examples come from.
// FilterAndPatternSyntax.html is "Filter pattern syntax for metric filters,
// subscription filters, filter log events, and Live Tail"; its sections are
// also published as sub-pages (matching-terms-json-log-events.html and its
// siblings) whose examples are the same, plus a few sample events.
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
	srcRegexSyntax  = "FilterAndPatternSyntax.html#regex-expressions"
	srcRegexTerms   = "FilterAndPatternSyntax.html#matching-terms-regex"
	srcJSONSubpage  = "matching-terms-json-log-events.html"
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
	srcLiveTail     = "FilterAndPatternSyntax.html (Live Tail revision)#matching-terms-unstructured-log-events"
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

	// The JSON log event of the current page and its JSON sub-page: the
	// 2019 event with "cluster.name" in place of ThisFlag.
	evJSONPage = `{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", ` +
		`"arrayKey": ["value", "another value"], ` +
		`"objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], ` +
		`"SomeObject": null, "cluster.name": "c"}`

	// The space-delimited log events of the "match terms in order"
	// examples.
	evSvcGet     = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200"
	evSvcPost    = "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310"
	evSvcInvalid = "WARNING 09/25/2014 12:00:02 Invalid user request"
	evSvcFailed  = "ERROR 09/25/2014 12:00:02 Failed to process request"

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
		// "If you combine "?" with other filter patterns, all question mark
		// terms will be ignored": the pattern is REQUEST alone. The events
		// are the page's and its sub-page's.
		{srcUnstructured, `?ERROR ?ARGUMENTS REQUEST`,
			[]string{"[INFO] REQUEST FAILED", "[WARN] UNAUTHORIZED REQUEST", "[ERROR] 400 BAD REQUEST", "[INFO 200] SUCCESSFUL REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST"},
			[]string{evMissingArgs, evInvalidArgs, "[ERROR] disk full"}},
		// The AWS CDK renders FilterPattern.anyTermGroup(["ERROR",
		// "MainThread"], ["WARN", "Deadlock"]) as this pattern and describes
		// it as (ERROR and MainThread) or (WARN and Deadlock). The
		// documented rule above says otherwise: the "?" terms are ignored and
		// "MainThread" "Deadlock" remain. We follow the CloudWatch page.
		{srcCDK, `?"ERROR" "MainThread" ?"WARN" "Deadlock"`, []string{"MainThread Deadlock detected"}, []string{"ERROR in MainThread", "WARN: Deadlock detected", "ERROR in worker", "WARN in MainThread"}},

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

		// "Usage of supported operators", FilterAndPatternSyntax.html: every
		// example pattern with the strings the page says it matches (and,
		// where it says so, does not).
		{srcRegexSyntax, `%^[hc]at%`, []string{"hat", "cat"}, []string{"that", "a cat"}},
		{srcRegexSyntax, `%[hc]at$%`, []string{"hat", "cat"}, []string{"hats", "cat food"}},
		{srcRegexSyntax, `%colou?r%`, []string{"color", "colour"}, []string{"colouur"}},
		{srcRegexSyntax, `%[abc]%`, []string{"a", "b", "c"}, []string{"d", "ABC"}},
		{srcRegexSyntax, `%[a-z]%`, []string{"a", "m", "z"}, []string{"A", "0"}},
		{srcRegexSyntax, `%[abcx-z]%`, []string{"a", "b", "c", "x", "y", "z"}, []string{"d", "w"}},
		// Unanchored, "aaaaaa" contains "aaa" too; the page's "only" is
		// about the run that the regex itself matches.
		{srcRegexSyntax, `%a{3,5}%`, []string{"aaa", "aaaa", "aaaaa"}, []string{"aa", "a a a"}},
		{srcRegexSyntax, `%a{3,}%`, []string{"aaa", "aaaaaaa"}, []string{"aa"}},
		{srcRegexSyntax, `%a{,2}b%`, []string{"b", "aab"}, []string{"c"}},
		{srcRegexSyntax, `%gra|ey%`, []string{"gray", "grey"}, []string{"gry"}},
		// The page's regex with a blank.
		{srcRegexSyntax, `%^starting|^initializing|^shutting down%`, []string{"starting ...", "initializing ...", "shutting down"}, []string{"skipping initializing ...", "shutting  down"}},
		// The page writes this one without its closing "%" and says it
		// matches "abcc ..." and "aba ..."; with the "$" anchor that holds
		// for "aba" ending the event, which is what we test.
		{srcRegexSyntax, `%abcc|ab[^c]$%`, []string{"abcc ...", "aba", "x aba"}, []string{"aac ...", "abc"}},
		{srcRegexSyntax, `%\[.\]%`, []string{"[a]", "[b]", "[7]", "[@]", "[]]", "[ ]"}, []string{"[]", "[ab]", "a"}},
		{srcRegexSyntax, `%10\.10\.0\.1%`, []string{"10.10.0.1"}, []string{"10010,051"}},
		{srcRegexSyntax, `%ab*c%`, []string{"ac", "abc", "abbbc"}, []string{"abd"}},
		{srcRegexSyntax, `%ab[0-9]*%`, []string{"ab", "ab0", "ab129"}, []string{"a0"}},
		{srcRegexSyntax, `%ab+c%`, []string{"abc", "abbc", "abbbc"}, []string{"ac"}},
		{srcRegexSyntax, `%.at%`, []string{"hat", "cat", "bat", "4at", "#at", " at"}, []string{"at"}},
		// The page's warning: an unescaped "." matches any character.
		{srcRegexSyntax, `%10.10.0.1%`, []string{"10.10.0.1", "10010,051"}, nil},
		{srcRegexSyntax, `%\d%`, []string{"0", "a9"}, []string{"abc"}},
		{srcRegexSyntax, `%[0-9]%`, []string{"0", "a9"}, []string{"abc"}},
		{srcRegexSyntax, `%\D%`, []string{"a", "1a"}, []string{"123"}},
		{srcRegexSyntax, `%[^0-9]%`, []string{"a", "1a"}, []string{"123"}},
		{srcRegexSyntax, `%\s%`, []string{"a\tb", "a b", "a\nb"}, []string{"ab"}},
		{srcRegexSyntax, `%\S%`, []string{"a", " a "}, []string{" \t\n"}},
		{srcRegexSyntax, `%\w%`, []string{"a", "Z", "_", "5"}, []string{"-:. "}},
		{srcRegexSyntax, `%[a-zA-Z_0-9]%`, []string{"a", "Z", "_", "5"}, []string{"-:. "}},
		{srcRegexSyntax, `%\W%`, []string{"-", "a b"}, []string{"ab_9"}},
		{srcRegexSyntax, `%[^a-zA-Z_0-9]%`, []string{"-", "a b"}, []string{"ab_9"}},
		{srcRegexSyntax, `%\x3A%`, []string{":", "a:b"}, []string{"a;b"}},
		{srcRegexSyntax, `%\x28%`, []string{"(", "f(x)"}, []string{"fx"}},
		{srcRegexTerms, `%AUTHORIZED%`, []string{evUnauthorized, evAuthorized}, []string{evBadRequest}},

		// JSON log events.
		{srcJSON, `{ $.eventType = "UpdateTrail" }`, []string{evJSON}, []string{`{"eventType": "CreateTrail"}`}},
		{srcJSON, `{ $.sourceIPAddress != 123.123.* }`, []string{evJSON}, []string{`{"sourceIPAddress": "123.123.0.1"}`}},
		{srcJSON, `{ $.arrayKey[0] = "value" }`, []string{evJSON}, []string{`{"arrayKey": "value"}`}},
		{srcJSON, `{ $.objectList[1].id = 2 }`, []string{evJSON}, []string{`{"objectList": [{"id": 2}]}`, `{"objectList": {"id": 2}}`}},
		{srcJSON, `{ $.SomeObject IS NULL }`, []string{evJSON}, []string{`{"SomeObject": {}}`, `{"other": null}`}},
		{srcJSON, `{ $.SomeOtherObject NOT EXISTS }`, []string{evJSON}, []string{`{"SomeOtherObject": null}`}},
		// The current page's event, with "cluster.name", and the regex and
		// wildcard examples.
		{srcJSON, `{ $.eventType = "UpdateTrail" }`, []string{evJSONPage}, []string{`{"eventType": "UpdateTrails"}`}},
		{srcJSON, `{ $.sourceIPAddress != 123.123.* }`, []string{evJSONPage}, []string{`{"sourceIPAddress": "123.123.1.1"}`}},
		{srcJSON, `{ $.arrayKey[0] = "value" }`, []string{evJSONPage}, []string{`{"arrayKey": ["another value", "value"]}`}},
		{srcJSON, `{ $.eventType = %Trail% }`, []string{evJSONPage, `{"eventType": "CreateTrail"}`}, []string{`{"eventType": "UpdateTable"}`}},
		{srcJSON, `{ $.arrayKey[*] = %val.{2}% }`, []string{evJSONPage, `{"arrayKey": ["x", "valid"]}`}, []string{`{"arrayKey": ["x", "va"]}`, `{"arrayKey": "value"}`, `{"arrayKey": []}`}},
		{srcJSON, `{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, []string{evJSONPage, `{"ip": "111.111.111.10"}`}, []string{`{"ip": "111.111.111.2"}`, `{"a": {"ip": "111.111.111.111"}}`, `{"a": ["111.111.111.111"]}`}},
		{srcJSON, `{ $.['cluster.name'] = "c" }`, []string{evJSONPage}, []string{`{"cluster": {"name": "c"}}`, `{"cluster.name": "d"}`}},
		{srcJSON, `{ $.SomeObject IS NULL }`, []string{evJSONPage}, []string{`{"SomeObject": "null"}`}},
		{srcJSON, `{ $.SomeOtherObject NOT EXISTS }`, []string{evJSONPage}, []string{`{"SomeOtherObject": 1}`}},
		{srcJSON, `{ $.number[0] = 1e+3 }`, []string{`{"number": [1000]}`, `{"number": [1e3]}`}, []string{`{"number": [100]}`}},
		{srcJSON, `{ $.number[0] != 1e-3 }`, []string{`{"number": [1]}`}, []string{`{"number": [0.001]}`}},
		// "Use the asterisk ("*") as a wild card to match numbers."
		{srcJSON, `{ $.errorCode = 4* }`, []string{`{"errorCode": 404}`, `{"errorCode": "418"}`}, []string{`{"errorCode": 500}`, `{"errorCode": [404]}`}},
		// The JSON sub-page's sample events for its first example.
		{srcJSONSubpage, `{ $.eventType = "UpdateTrail" }`, []string{`{"eventType": "UpdateTrail", "source": "cloudtrail"}`}, []string{`{"eventType": "UserLogin", "userId": "123"}`, `{"eventType": "ConfigUpdate", "component": "database"}`}},
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
		{srcDelimited, `[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, []string{evApacheProd, evApache404}, append([]string{strings.Replace(evApacheProd, "127.0.0.1", "127.0.0.0", 1)}, apache...)},
		{srcDelimited, `[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, []string{evApacheProd, evApache404}, apache},
		{srcDelimited, `[..., request =*.html*, status_code = 4*, bytes]`, []string{evApacheProd}, apache},
		{srcDelimited, `[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]`, []string{evApacheProd}, apache},
		{srcDelimited, `[w1=ERROR, w2]`, []string{evError}, []string{evWarn, evErrorWarn}},
		{srcDelimited, `[w1=ERROR || W1=WARNING, w2]`, []string{"ERROR message", "WARNING message"}, []string{"INFO message"}},
		{srcDelimited, `[w1=ERROR || w1=WARNING, w2]`, []string{"ERROR message", "WARNING message"}, []string{"INFO message", "ERRORS message"}},
		{srcDelimited, `[w1!=ERROR && w1!=WARNING, w2]`, []string{"INFO message"}, []string{"ERROR message", "WARNING message"}},
		{srcDelimited, `[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]`, []string{evSvcGet}, []string{evSvcPost, evSvcInvalid, evSvcFailed}},
		{srcDelimited, `[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]`, []string{evSvcPost}, []string{evSvcGet, evSvcInvalid, evSvcFailed}},
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
