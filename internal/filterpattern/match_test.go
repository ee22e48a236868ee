package filterpattern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// TestMatchSemantics pins down behaviour the docs state as a rule without a
// worked example, and the choices made where they are silent (see doc.go).
// Each row names the page whose rule it exercises; the events are ours.
func TestMatchSemantics(t *testing.T) {
	tests := []struct {
		name, source, pattern, message string
		want                           bool
	}{
		// Unstructured.
		{"terms are case-sensitive", srcUnstructured, `ERROR`, "error: disk full", false},
		{"terms match inside words", src2019Terms, `ERROR`, "ERRORCODE=1", true},
		{"phrase keeps its blanks", srcUnstructured, `"SERVER ERROR"`, "SERVER  ERROR", false},
		{"phrase with escaped quote", srcUnstructured, `"say \"hi\""`, `they say "hi"`, true},
		{"phrase with non-alphanumerics", srcUnstructured, `"[ERROR]"`, "[ERROR] x", true},
		{"empty pattern", srcMetricValues, ``, "anything", true},
		{"blank pattern", srcMetricValues, "  \t ", "", true},
		{"exclusion alone", srcUnstructured, `-DEBUG`, "INFO started", true},
		{"exclusion alone excludes", srcUnstructured, `-DEBUG`, "DEBUG started", false},
		// "If you combine "?" with other filter patterns, all question mark
		// terms will be ignored": include and exclude terms alike.
		{"? terms ignored next to an include term", srcUnstructured, `ERROR ?WARN`, "WARN low disk", false},
		{"include term still applies next to ? terms", srcUnstructured, `ERROR ?WARN`, "ERROR low disk", true},
		{"? terms ignored next to an exclude term", srcUnstructured, `?ERROR ?WARN -disk`, "ERROR disk", false},
		{"exclusion alone after ? terms are ignored", srcUnstructured, `?ERROR ?WARN -disk`, "WARN disk", false},
		{"exclusion alone matches without ? terms", srcUnstructured, `?ERROR ?WARN -disk`, "INFO started", true},
		{"only ? terms: any of them", srcUnstructured, `?ERROR ?WARN`, "WARN low disk", true},
		{"only ? terms: none of them", srcUnstructured, `?ERROR ?WARN`, "INFO started", false},
		{"regex does not span lines with dot", srcRegex, `%a.b%`, "a\nb", false},
		{"regex escape of operator", srcRegex, `%\[ERROR\]%`, "[ERROR] x", true},
		{"regex {,n} inside a class is literal", srcRegex, `%[{,]2%`, ",2", true},
		{"escaped brace is literal", srcRegex, `%a\{,2}%`, "a{,2}", true},
		{"regex {,n} after a class with ]", srcRegex, `%[]a]{,2}b%`, "b", true},
		{"regex hex escape of a blank", srcRegex, `%a\x20b%`, "a b", true},
		// JSON.
		{"JSON pattern on non-JSON event", srcJSON, `{ $.a NOT EXISTS }`, "plain text", false},
		{"JSON pattern on JSON array event", srcJSON, `{ $.a NOT EXISTS }`, `[1, 2]`, false},
		{"JSON event with trailing text", srcJSON, `{ $.a = 1 }`, `{"a": 1} trailing`, false},
		{"JSON event with blanks around", srcJSON, `{ $.a = 1 }`, " \t{\"a\": 1}\n", true},
		{"number equals numeric string", srcJSON, `{ $.code = 400 }`, `{"code": "400"}`, true},
		{"quoted number equals number text", srcJSON, `{ $.code = "400" }`, `{"code": 400}`, true},
		{"ordering on non-number", srcJSON, `{ $.code > 1 }`, `{"code": "abc"}`, false},
		{"not-equal number on text", srcJSON, `{ $.code != 1 }`, `{"code": "abc"}`, true},
		{"not-equal on missing field", srcJSON, `{ $.code != 1 }`, `{}`, false},
		{"not-equal on null", srcJSON, `{ $.code != "x" }`, `{"code": null}`, false},
		{"wildcard on null", srcPublishValue, `{ $.latency = * }`, `{"latency": null}`, false},
		{"wildcard on empty string", srcPublishValue, `{ $.latency = * }`, `{"latency": ""}`, true},
		{"wildcard on object", srcJSON, `{ $.latency = * }`, `{"latency": {}}`, false},
		{"boolean compared as text", srcJSON, `{ $.ok = true }`, `{"ok": true}`, true},
		{"IS NULL on missing field", srcJSON, `{ $.a IS NULL }`, `{}`, false},
		{"NOT EXISTS through a string", srcJSON, `{ $.a.b NOT EXISTS }`, `{"a": "s"}`, true},
		{"NOT EXISTS past array end", srcJSON, `{ $.a[3] NOT EXISTS }`, `{"a": [1]}`, true},
		{"nested arrays", srcJSON, `{ $.coordinates[1][2] = 6 }`, evCompound, true},
		{"hyphen and underscore in names", srcJSON, `{ $.request-id_x = "r1" }`, `{"request-id_x": "r1"}`, true},
		{"keywords in lower case", srcJSON, `{ $.a is null && $.b not exists }`, `{"a": null}`, true},
		{"regex value", srcRegex, `{ $.msg = %timed\sout% }`, `{"msg": "Task timed out"}`, true},
		{"regex value not equal", srcRegex, `{ $.msg != %timed\sout% }`, `{"msg": "Task timed out"}`, false},
		{"regex on number text", srcRegex, `{ $.code = %^4\d\d$% }`, `{"code": 404}`, true},
		{"&& binds tighter than ||", srcJSON, `{ $.a = 1 || $.b = 1 && $.c = 1 }`, `{"a": 1}`, true},
		{"parentheses group first", srcJSON, `{ ($.a = 1 || $.b = 1) && $.c = 1 }`, `{"a": 1}`, false},
		// JSON wildcard and bracket selectors.
		{"[*] any element", srcJSON, `{ $.users[*].name = "x" }`, `{"users": [{"name": "a"}, {"name": "x"}]}`, true},
		{"[*] no element", srcJSON, `{ $.users[*].name = "x" }`, `{"users": [{"name": "a"}, {"id": 1}]}`, false},
		{".* any field", srcJSON, `{ $.* = "y" }`, `{"a": 1, "b": "y"}`, true},
		{".* skips objects and arrays", srcJSON, `{ $.* = "y" }`, `{"a": {"b": "y"}, "c": ["y"]}`, false},
		{".* selects array elements too", srcJSON, `{ $.a.* = 2 }`, `{"a": [1, 2]}`, true},
		{"[*] selects object members too", srcJSON, `{ $.a[*] = 2 }`, `{"a": {"x": 1, "y": 2}}`, true},
		{"wildcard in the middle", srcJSON, `{ $.*.id = 2 }`, evCompound, false},
		{"wildcard on a value", srcJSON, `{ $.a[*] = 1 }`, `{"a": 1}`, false},
		{"wildcard != holds for some element", srcJSON, `{ $.a[*] != 1 }`, `{"a": [1, 2]}`, true},
		{"wildcard != on all-equal elements", srcJSON, `{ $.a[*] != 1 }`, `{"a": [1, 1]}`, false},
		{"wildcard != on empty array", srcJSON, `{ $.a[*] != 1 }`, `{"a": []}`, false},
		{"wildcard numeric", srcJSON, `{ $.lat[*] > 500 }`, `{"lat": [10, 700]}`, true},
		{"wildcard IS NULL", srcJSON, `{ $.a[*] IS NULL }`, `{"a": [1, null]}`, true},
		{"wildcard IS TRUE", srcJSON, `{ $.* IS TRUE }`, `{"a": false, "b": true}`, true},
		{"wildcard NOT EXISTS on empty array", srcJSON, `{ $.a[*].b NOT EXISTS }`, `{"a": []}`, true},
		{"wildcard NOT EXISTS when one has it", srcJSON, `{ $.a[*].b NOT EXISTS }`, `{"a": [{}, {"b": 1}]}`, false},
		{"wildcard NOT EXISTS when none has it", srcJSON, `{ $.a[*].b NOT EXISTS }`, `{"a": [{}, {"c": 1}]}`, true},
		{"three wildcard selectors", srcJSON, `{ $.a[*] = 1 && $.b[*] = 2 && $.* = 3 }`, `{"a": [1], "b": [2], "c": 3}`, true},
		{"dotted selector is not a dotted key", srcJSON, `{ $.cluster.name = "c" }`, `{"cluster.name": "c"}`, false},
		{"bracket key after a name", srcJSON, `{ $.k8s['cluster.name'] = "c" }`, `{"k8s": {"cluster.name": "c"}}`, true},
		{"bracket key after a dot", srcJSON, `{ $.k8s.['cluster.name'] = "c" }`, `{"k8s": {"cluster.name": "c"}}`, true},
		{"bracket key then index", srcJSON, `{ $.['a.b'][1] = 2 }`, `{"a.b": [1, 2]}`, true},
		{"bracket key with blank and escaped quote", srcJSON, `{ $.['it\'s a key'] = 1 }`, `{"it's a key": 1}`, true},
		{"plain name in brackets", srcJSON, `{ $.['eventType'] = "UpdateTrail" }`, evJSON, true},
		{"bracket wildcard with bracket key", srcJSON, `{ $.['a.b'][*] = 2 }`, `{"a.b": [1, 2]}`, true},
		// Space-delimited.
		{"tabs delimit fields", srcDelimited, `[a, b = ERROR, c]`, "t\tERROR\tmsg", true},
		{"runs of blanks are one delimiter", srcDelimited, `[a, b]`, "  x    y  ", true},
		{"field count must match without ellipsis", srcDelimited, `[w1=ERROR]`, "ERROR message", false},
		// The page pairs [w1=ERROR, w2] with events of four to seven words
		// and also says "if you don't know the number of fields ... use
		// ellipsis"; the 2019 revision states that [w1=ERROR, w2] matches
		// "ERROR message" but not "ERROR WARN message". We keep the exact
		// field count, so longer events need [w1=ERROR, ...].
		{"page events need an ellipsis", srcDelimited, `[w1=ERROR, w2]`, evSvcFailed, false},
		{"page events with an ellipsis", srcDelimited, `[w1=ERROR, ...]`, evSvcFailed, true},
		{"page events with an ellipsis, other word", srcDelimited, `[w1=ERROR, ...]`, evSvcInvalid, false},
		{"ellipsis may cover no field", srcDelimited, `[..., a, b]`, "x y", true},
		{"ellipsis needs the named fields", srcDelimited, `[..., a, b]`, "x", false},
		{"unclosed bracket is ordinary", srcDelimited, `[a = "[x", b]`, "[x y", true},
		{"quoted field with escaped quote", srcDelimited, `[a, b = *done*]`, `x "say \"done\" now"`, true},
		{"numeric compare on field", srcDelimited, `[a, b > 10]`, "x 1e2", true},
		{"numeric compare on text field", srcDelimited, `[a, b > 10]`, "x abc", false},
		{"not-equal number on text field", srcDelimited, `[a, b != 10]`, "x abc", true},
		{"equal number is numeric", srcDelimited, `[a, b = 200]`, "x 200.0", true},
		{"quoted value", srcDelimited, `[a = "-", b]`, "- x", true},
		{"regex field", srcRegex, `[..., code = %^5\d\d$%, bytes]`, evApache2, true},
		{"empty message", srcDelimited, `[...]`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Match(tc.message), "%s: %s on %q", tc.source, tc.pattern, tc.message)
		})
	}
}

// TestMatchConcurrent exercises the "safe for concurrent use" promise under
// the race detector.
func TestMatchConcurrent(t *testing.T) {
	patterns := []string{`?ERROR ?WARN`, `%ERR\w+%`, `{ $.a = 1 }`, `[a, b > 1]`}
	for _, src := range patterns {
		t.Run(src, func(t *testing.T) {
			p, err := filterpattern.Parse(src)
			require.NoError(t, err)
			const msg = `ERRORS {"a": 1} x 2`
			want := p.Match(msg)
			done := make(chan bool)
			for range 4 {
				go func() {
					ok := true
					for range 200 {
						ok = ok && p.Match(msg) == want
					}
					done <- ok
				}()
			}
			for range 4 {
				assert.True(t, <-done)
			}
		})
	}
}

// TestMatchHostileMessages checks bounded behaviour on large and odd input.
func TestMatchHostileMessages(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	tests := []struct {
		name, pattern, message string
		want                   bool
	}{
		{"deeply nested JSON", `{ $.a.a = 1 }`, deep, false},
		{"invalid UTF-8 term", `ERROR`, "\xff\xfeERROR", true},
		{"invalid UTF-8 JSON", `{ $.a = * }`, "{\"a\": \"\xff\"}", true},
		{"many fields", `[..., last = z]`, strings.Repeat("x ", 10000) + "z", true},
		{"many unclosed brackets", `[a, ..., b = "["]`, strings.Repeat("[ ", 100000), true},
		{"largest allowed regex", `%\w{250}x%`, strings.Repeat("ab", 1000), false},
		{"unclosed quote field", `[a, ...]`, `"` + strings.Repeat("x ", 1000), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Match(tc.message))
		})
	}
}
