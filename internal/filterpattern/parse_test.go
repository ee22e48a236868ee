package filterpattern_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

func TestParseKind(t *testing.T) {
	tests := []struct {
		source, pattern string
		want            filterpattern.Kind
	}{
		{srcMetricValues, ``, filterpattern.Unstructured},
		{srcUnstructured, `   `, filterpattern.Unstructured},
		{srcUnstructured, `ERROR`, filterpattern.Unstructured},
		{srcUnstructured, `%AUTHORIZED%`, filterpattern.Unstructured},
		{srcJSON, `{ $.eventType = "UpdateTrail" }`, filterpattern.JSON},
		{srcJSON, `  {$.a = 1}  `, filterpattern.JSON},
		{srcDelimited, `[w1=ERROR, w2]`, filterpattern.SpaceDelimited},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Kind())
			assert.Equal(t, tc.pattern, p.String())
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind filterpattern.Kind
		want string
	}{
		{filterpattern.Unstructured, "unstructured"},
		{filterpattern.JSON, "json"},
		{filterpattern.SpaceDelimited, "space-delimited"},
		{filterpattern.Kind(9), "Kind(9)"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.kind.String())
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", filterpattern.MaxPatternLength+1)
	tests := []struct {
		name, pattern string
		wantPos       int
		wantMsg       string // substring of SyntaxError.Msg
	}{
		// Length limit of the filterPattern parameter.
		{"too long", long, 1024, "expected at most 1024 characters"},
		{"too long in runes", strings.Repeat("é", 1025), 2048, "expected at most 1024 characters"},
		// Unstructured.
		{"unquoted punctuation", `ERROR:`, 5, `expected a blank after term "ERROR"`},
		{"bracket term", `ERROR [x]`, 6, `expected a term (letters, digits, underscore) or a "quoted phrase"`},
		{"lone question mark", `?`, 1, `expected a term after "?"`},
		{"question mark then blank", `? ERROR`, 1, `expected a term after "?"`},
		{"lone minus", `ERROR -`, 7, `expected a term after "-"`},
		{"unicode term", `ÉRROR`, 0, `expected a term`},
		{"unclosed phrase", `"INTERNAL SERVER`, 16, `expected '"' to close the quoted string that starts at 0`},
		{"text after phrase", `"a"b`, 3, `expected a blank after term "a"`},
		{"regex among terms", `ERROR %a%`, 6, `a %regex% must be the whole pattern`},
		// Regular expressions (regex-expressions.html restrictions).
		{"unsupported symbol", `%something!%`, 10, `expected a supported regular expression character`},
		{"tab in regex", "%a\tb%", 2, `use \s or \x09`},
		{"control character in regex", "%a\x01b%", 2, `control character 0x01 (use \x01)`},
		{"hex escape with one digit", `%\x3%`, 1, `expected two hexadecimal digits after \x`},
		{"hex escape not hexadecimal", `%\xZZ%`, 1, `expected two hexadecimal digits after \x`},
		{"hex escape past ASCII", `%\xC3%`, 1, `expected an ASCII character (\x00 to \x7F)`},
		{"escaped blank", `%a\ b%`, 2, `expected \d, \D, \s, \S, \w, \W or an escaped operator`},
		{"parentheses", `%(a|b)%`, 1, `expected no parentheses in a regular expression`},
		{"multi-byte", `%café%`, 4, `multi-byte characters are not supported`},
		{"unknown escape", `%a\qb%`, 2, `expected \d, \D, \s, \S, \w, \W or an escaped operator`},
		{"trailing backslash", `%a\%`, 2, `expected a character after '\'`},
		{"invalid regex", `%a**%`, 1, `expected a valid regular expression`},
		{"regex too large", `%` + strings.Repeat(`\w{1000}`, 3) + `%`, 1, `expected a smaller regular expression: it needs more than 512 RE2 instructions`},
		{"regex too large in JSON", `{ $.a = %[a-z]{300}[0-9]{300}% }`, 9, `expected a smaller regular expression`},
		{"unclosed regex", `%abc`, 4, `expected '%' to close the regular expression that starts at 0`},
		{"empty regex", `%%`, 1, `expected a regular expression between '%' and '%'`},
		{"text after regex", `%a% ERROR`, 4, `expected end of pattern after the regular expression`},
		{"three regexes in JSON", `{ $.a = %x% && $.b = %y% || $.c = %z% }`, 34, `expected at most 2 regular expressions`},
		{"three regexes in space-delimited", `[a = %x%, b = %y%, c = %z%]`, 23, `expected at most 2 regular expressions`},
		// JSON.
		{"unclosed JSON", `{ $.a = 1`, 9, `expected "}" to close the JSON pattern that starts at 0`},
		{"text after JSON", `{ $.a = 1 } x`, 12, `expected end of pattern after "}"`},
		{"missing selector", `{ a = 1 }`, 2, `expected a selector starting with "$."`},
		{"selector without dot", `{ $a = 1 }`, 3, `expected "." after "$"`},
		{"bracket key without dot", `{ $['a'] = 1 }`, 3, `expected "." after "$"`},
		{"selector without name", `{ $. = 1 }`, 4, `expected a property name`},
		{"bad array index", `{ $.a[x] = 1 }`, 6, `expected an array index`},
		{"index right after $.", `{ $.[0] = 1 }`, 5, `expected a key in single quotes after "["`},
		{"double-quoted bracket key", `{ $.["a.b"] = 1 }`, 5, `expected a key in single quotes after "["`},
		{"unclosed bracket key", `{ $.['a.b = 1 }`, 15, `expected "'" to close the key at 4`},
		{"bracket key without ]", `{ $.['a.b' = 1 }`, 10, `expected "]" after the key at 4`},
		{"unclosed wildcard index", `{ $.a[*.b = 1 }`, 7, `expected "]" after "[*"`},
		{"two wildcards in a selector", `{ $.a[*].*.b = 1 }`, 9, `expected at most 1 wildcard (*) in the selector that starts at 2`},
		{"four wildcard selectors", `{ $.a[*] = 1 || $.b[*] = 1 || $.* = 1 || $.c.* = 1 }`, 41, `expected at most 3 wildcard selectors in a JSON pattern`},
		{"unclosed array index", `{ $.a[1 = 1 }`, 7, `expected "]" to close the array index`},
		{"missing operator", `{ $.a 1 }`, 6, `expected an operator, IS or NOT EXISTS after the selector, found "1"`},
		{"not an operator", `{ $.a ! 1 }`, 6, `expected an operator (=, !=, <, <=, >, >=)`},
		{"double equals", `{ $.a == 1 }`, 7, `expected a number, a string or a %regex% after "="`},
		{"missing value", `{ $.a = }`, 8, `expected a number, a string or a %regex% after "="`},
		{"string with ordering operator", `{ $.a > foo }`, 8, `expected a number after ">"`},
		{"regex with ordering operator", `{ $.a < %1% }`, 8, `expected a number after "<"`},
		{"unquoted special character", `{ $.a = x@y }`, 9, `expected "&&", "||" or "}"`},
		{"IS NOT", `{ $.a IS NOT NULL }`, 9, `IS NOT is not supported`},
		{"IS something", `{ $.a IS MAYBE }`, 9, `expected NULL, TRUE or FALSE after IS`},
		{"EXISTS", `{ $.a EXISTS }`, 6, `EXISTS is not supported`},
		{"NOT something", `{ $.a NOT THERE }`, 10, `expected EXISTS after NOT`},
		{"unknown keyword", `{ $.a LIKE 1 }`, 6, `expected an operator, IS or NOT EXISTS`},
		{"unclosed parenthesis", `{ ($.a = 1 }`, 11, `expected ")" to close the "(" at 2`},
		{"dangling and", `{ $.a = 1 && }`, 13, `expected a selector starting with "$."`},
		// Space-delimited.
		{"unclosed space-delimited", `[ip, user`, 9, `expected "]" to close the space-delimited pattern that starts at 0`},
		{"empty space-delimited", `[]`, 1, `expected a field name`},
		{"missing field", `[a, , b]`, 4, `expected a field name`},
		{"two ellipses", `[a, ..., b, ...]`, 12, `expected at most one "..."`},
		{"duplicate field", `[a, a]`, 4, `"a" is already used`},
		{"condition on another field", `[status_code = 4* && bytes > 1000]`, 21, `expected field name "status_code"`},
		{"missing operator in field", `[a b]`, 3, `expected an operator`},
		{"text after space-delimited", `[a, b] c`, 7, `expected end of pattern after "]"`},
		{"bad separator", `[a = 1 ; b]`, 7, `expected ",", "]", "&&" or "||"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.Error(t, err)
			assert.Nil(t, p)
			var se *filterpattern.SyntaxError
			require.True(t, errors.As(err, &se), "error %T is not a *SyntaxError", err)
			assert.Equal(t, tc.wantPos, se.Pos, "position; error: %v", err)
			assert.Contains(t, se.Msg, tc.wantMsg)
			assert.True(t, strings.HasPrefix(se.Msg, "expected"), "message should say what was expected: %q", se.Msg)
			assert.True(t, strings.HasPrefix(err.Error(), "filterpattern: at "), err.Error())
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	err := &filterpattern.SyntaxError{Pos: 12, Msg: `expected "]" to close the space-delimited pattern`}
	assert.Equal(t, `filterpattern: at 12: expected "]" to close the space-delimited pattern`, err.Error())
}

func TestParseMaxLength(t *testing.T) {
	tests := []struct {
		name, pattern string
	}{
		{"1024 bytes", strings.Repeat("a", filterpattern.MaxPatternLength)},
		{"1024 runes", `"` + strings.Repeat("é", filterpattern.MaxPatternLength-2) + `"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filterpattern.Parse(tc.pattern)
			assert.NoError(t, err)
		})
	}
}

func TestHasRegex(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{`ERROR`, false},
		{`%AUTHORIZED%`, true},
		{`{ $.a = 1 }`, false},
		{`{ $.a = 1 || $.b = %x% }`, true},
		{`[a, b]`, false},
		{`[a = %x%, b]`, true},
		// A "%" inside a quoted value is text, not a regex.
		{`{ $.a = "%x%" }`, false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.HasRegex())
		})
	}
}

// TestParseQuotaBoundaries accepts what the documented quotas allow: two
// regexes and three wildcard selectors per pattern, one wildcard per
// selector, and 1024 characters.
func TestParseQuotaBoundaries(t *testing.T) {
	for _, pattern := range []string{
		`{ $.a = %x% && $.b = %y% }`,
		`[a = %x%, b = %y%]`,
		`{ $.a[*] = 1 || $.b.* = 2 || $.*.c = 3 }`,
		`{ $.['a.b'][*].c = 1 }`,
	} {
		t.Run(pattern, func(t *testing.T) {
			_, err := filterpattern.Parse(pattern)
			assert.NoError(t, err)
		})
	}
}
