// Package filterpattern is a pure Go reproduction of the CloudWatch Logs
// filter pattern language used by metric filters, subscription filters,
// FilterLogEvents and Live Tail. It implements the whole syntax that the
// CloudWatch Logs user guide documents in "Filter pattern syntax for metric
// filters, subscription filters, filter log events, and Live Tail" (with
// its sections on regex, unstructured, JSON and space-delimited log
// events), "Supported regular expressions (regex) syntax" and "Filter
// pattern syntax for metric filters"; every example on those pages is a
// test (docs_test.go).
//
// Parse compiles a pattern once; Match applies it to a log event message
// and Evaluate applies a metric filter's transformation (metric value,
// default value, dimensions). A compiled Pattern is immutable and safe for
// concurrent use. The first non-blank character picks the family (Kind).
//
// # Unstructured patterns
//
//	ERROR                      every term must occur (case-sensitive substring)
//	ERROR ARGUMENTS            ... all of them
//	"INTERNAL SERVER ERROR"    quoted phrase; \" and \\ escape inside quotes
//	?ERROR ?WARN               alternatives: either term
//	ERROR -ARGUMENTS           exclusion: ERROR but not ARGUMENTS
//	?ERROR ?ARGUMENTS REQUEST  "?" terms next to other terms are ignored: REQUEST
//	"" or " "                  matches every event, as does the empty pattern
//	%AUTHORIZED%               a standalone regular expression
//
// Unquoted terms hold only letters, digits and underscores; any other
// character must be quoted, as documented. The documented "Match
// everything" example, " ", is honoured: a phrase of blanks matches every
// event. As documented, "?" does not combine with other terms: in a
// pattern that also has include or exclude terms, every "?" term is
// ignored.
//
// # Regular expressions
//
// A %regex% may contain only ASCII letters and digits, the symbols
// : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \ * + . ; a backslash
// may precede \d \D \s \S \w \W or a symbol or operator, and \xhh writes
// any ASCII character by its two hexadecimal digits (%\x3A% matches ":",
// %\x28% matches "("). {m,n} may omit m or n ({,n} is {0,n}). Parentheses,
// tabs, control and multi-byte characters are rejected, as is any other
// character; the blank is allowed (see below). A JSON or space-delimited
// pattern holds at most MaxRegexPerPattern (two) regular expressions;
// HasRegex tells which patterns count toward the per-log-group quota,
// MaxRegexPatternsPerLogGroup (five). Regexes are validated against these
// rules and then run by Go's regexp (RE2, linear time), unanchored.
//
// # JSON patterns
//
//	{ $.eventType = "UpdateTrail" }
//	{ $.sourceIPAddress != 123.123.* }
//	{ $.objectList[1].id = 2 && $.latency >= 500 }
//	{ ($.a IS NULL || $.b NOT EXISTS) && $.flag IS TRUE }
//	{ $.message = %timed\sout% }
//	{ $.arrayKey[*] = %val.{2}% }
//	{ $.* = %111\.111\.111\.1[0-9]{1,2}% }
//	{ $.['cluster.name'] = "c" }
//
// Selectors start with "$." and continue with property names (letters,
// digits, '-', '_'), array indexes ($.a[0][1].b), bracketed keys in single
// quotes for names with periods or other characters ($.['cluster.name'],
// $.k8s['pod.name'], with \' and \\ escapes) and the wildcard, written .* or
// [*], which selects every field of an object or element of an array. A
// selector holds at most MaxWildcardsPerSelector (one) wildcard and a
// pattern at most MaxWildcardsPerPattern (three). A condition on a
// wildcard selector holds when it holds for any selected value (for != as
// well: some element differs); NOT EXISTS holds when it selects nothing.
// A wildcard selector cannot be a metric value or dimension.
//
// Operators are = and != for strings, numbers and regexes, and < <= > >=
// for numbers; numbers may have a sign, decimals and an exponent. A '*' at the start or end of a
// string value is a wildcard ("*Event", "Event*", "*"); elsewhere it is a
// literal, as the docs say of "Ev*ent". IS NULL, IS TRUE, IS FALSE and NOT
// EXISTS test nulls, booleans and absence; IS NOT and EXISTS are rejected as
// the docs say they are unsupported. && binds tighter than ||; parentheses
// group. The event must be exactly one JSON object. A selector that points
// to an object, an array, null or nothing fails both = and !=.
//
// # Space-delimited patterns
//
//	[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes > 1000]
//	[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request, status_code, bytes]
//	[..., status_code = 404 || status_code = 410, bytes]
//	[w1!=ERROR && w1!=WARNING, w2]
//
// The event is split on blanks; the text between a pair of square brackets
// or double quotes is one field, without them, so
// [10/Oct/2000:13:55:36 -0700] is one field. Without "..." the pattern must
// name exactly as many fields as the event has; "..." stands for any number
// of fields (at most one "..." per pattern). A field's conditions use the
// JSON operators and values and may be joined with && and ||.
//
// # Metric transformations
//
// Transformation.MetricValue is a number or a field of the matched event:
// "$.latency" for JSON patterns, "$bytes" or a 1-based position "$7" for
// space-delimited ones; Dimensions map names to such fields (at most
// three). An event that matches but whose value or dimension field is
// missing, not a value node, or (for the value) not a number, publishes no
// datapoint, and the default value is not used for it. An event that does
// not match publishes the default value when one is set.
// ValidateTransformation reports the combinations CloudWatch rejects.
//
// # Choices where the documentation is silent or ambiguous
//
//   - "?" next to other terms: we follow the page's rule ("all question
//     mark terms will be ignored") for include and exclude terms alike, as
//     its wording says. The AWS CDK's FilterPattern.anyTermGroup renders
//     (A and B) or (C and D) as ?"A" "B" ?"C" "D", which under that rule is
//     "B" "D" alone; we do not honour the CDK's reading.
//   - A blank inside a %regex%: the page's list of characters omits it, but
//     its own example %^starting|^initializing|^shutting down% has one, so
//     a plain blank is allowed (tabs and other control characters are not;
//     write \s or \x09). "\ " is rejected: escape only symbols and
//     operators.
//   - The page's %abcc|ab[^c]$ lacks its closing "%"; we test it closed.
//   - Wildcards: .* and [*] both select the members of an object and the
//     elements of an array, as in JSONPath; the page says the wildcard
//     selects "any array element or any JSON object field".
//   - Bracketed keys take single quotes only, as the page writes them;
//     ["key"] is rejected with a message that says so. A selector starts
//     with "$." even before a bracket ($.['a.b']): the page sets selectors
//     off with "$." and shows no other form, so JSONPath's $['a.b'] is
//     rejected. After a name, both .['k'] and ['k'] are accepted.
//   - Space-delimited field count: the page pairs [w1=ERROR, w2] with
//     events of four to seven words, yet also says to use "..." when the
//     number of fields is not known, and the 2019 revision states that
//     [w1=ERROR, w2] matches "ERROR message" but not "ERROR WARN message".
//     We keep the exact count; write [w1=ERROR, ...] for longer events.
//   - "-" may be followed by blanks ("ERROR" - "Exiting" in an older
//     revision of the docs).
//   - Keywords (IS, NULL, TRUE, FALSE, NOT, EXISTS) are case-insensitive.
//   - Unquoted values may also contain . * + - : / (the docs' own unquoted
//     examples need . * + -).
//   - Comparing with = or != and a number is numeric when the field's text
//     is a number, so 400 matches "400" and 4e2; != with a number holds for
//     text that is not a number. A JSON string that holds a number can be
//     compared with < and >, and can be a metric value.
//   - Space-delimited events are split on spaces, tabs and line breaks, and
//     runs of them count as one delimiter. Inside a quoted field a backslash
//     escapes the next character. An unclosed bracket or quote is an
//     ordinary character.
//   - Every condition in a space-delimited field tests that field; its name
//     may differ in letter case only, for the docs' [w1=ERROR || W1=WARNING,
//     w2]. An older revision of the docs writes
//     [..., status_code = 4* && bytes > 1000], a condition on another field
//     inside status_code's slot; that form is rejected with a SyntaxError.
//   - A trailing comma adds an unnamed last field, as in the docs'
//     [..., request=*.html*, status_code=4*,].
//   - JSON events are decoded with encoding/json; duplicate keys keep the
//     last value and nesting deeper than its limit (10000) is not JSON.
//
// # Deliberate deviations
//
//   - A regex is limited to MaxRegexProgram RE2 instructions (estimated),
//     so that {m,n} counts cannot make one event cost minutes to match.
//     CloudWatch documents no such limit.
//   - Evaluate's boolean reports a published datapoint, not just a match:
//     it is false for a match whose value cannot be read. Use Match for the
//     match alone.
//   - Parse enforces every per-pattern limit the pages document: 1024
//     characters, two regexes, one wildcard per selector and three per
//     pattern. The one quota that spans patterns (five patterns with a
//     regex per log group) is left to the caller, with HasRegex and
//     MaxRegexPatternsPerLogGroup.
package filterpattern
