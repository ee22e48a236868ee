package filterpattern_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

// FuzzParseMatch parses arbitrary patterns and applies the valid ones to
// arbitrary messages: nothing may panic, every parse error must be a
// *SyntaxError pointing into the pattern, and Evaluate must agree with Match.
func FuzzParseMatch(f *testing.F) {
	patterns := []string{
		``, `ERROR`, `?ERROR ?WARN -DEBUG`, `"INTERNAL SERVER ERROR"`, `" "`, `"a\"b" - "c"`,
		`%AUTHORIZED%`, `%\d{1,3}\.\d{1,3}%`, `%[Ee]rror|[Ff]ail%`, `%a(b)%`,
		`{ $.eventType = "UpdateTrail" }`, `{ $.a[0].b != 1e-3 || ($.c IS NULL && $.d NOT EXISTS) }`,
		`{ $.latency = * }`, `{ $.f IS TRUE }`, `{ $.m = %x\sy% }`, `{ $.a > +1000 }`,
		`[ip, user, ..., status_code = 4* && status_code != 403, bytes > 1000]`,
		`[..., request=*.html*, status_code=4*,]`, `[w1=ERROR || W1=WARNING, w2]`, `[a = %^5%, b]`,
		`[`, `{`, `%`, `"`, `{ ($.a = 1 }`, `[a, ..., b, ...]`,
		`?ERROR ?ARGUMENTS REQUEST`, `%^starting|^shutting down%`, `%\x3A%`, `%a{,2}b%`, `%[]a]{,2}%`,
		`{ $.arrayKey[*] = %val.{2}% }`, `{ $.* = %111\.111% }`, `{ $.['cluster.name'] = "c" }`,
		`{ $.a['b\'c'][*].d NOT EXISTS }`, `{ $.a[*].* = 1 }`,
	}
	messages := []string{
		"", evBadRequest, evJSON, evCompound, evApacheProd, `{"a": [{"b": 0.001}], "c": null}`,
		`"unclosed [bracket`, "\xff\xfe", `{"latency": 50}`, "ERROR\tWARN\tDEBUG",
	}
	for i, p := range patterns {
		f.Add(p, messages[i%len(messages)])
	}
	f.Fuzz(func(t *testing.T, pattern, message string) {
		p, err := filterpattern.Parse(pattern)
		if err != nil {
			var se *filterpattern.SyntaxError
			require.True(t, errors.As(err, &se), "error %T is not a *SyntaxError", err)
			require.GreaterOrEqual(t, se.Pos, 0)
			require.LessOrEqual(t, se.Pos, len(pattern))
			return
		}
		require.Equal(t, pattern, p.String())
		matched := p.Match(message)
		for _, tr := range []filterpattern.Transformation{
			{MetricValue: "1"},
			{MetricValue: "$.a", Dimensions: map[string]string{"d": "$.c"}},
			{MetricValue: "$.['a']", Dimensions: map[string]string{"d": "$.a[*]"}},
			{MetricValue: "$2", Dimensions: map[string]string{"d": "$1", "e": "$bytes"}},
		} {
			_ = p.ValidateTransformation(tr)
			res, ok := p.Evaluate(message, tr)
			if ok {
				assert.True(t, matched, "Evaluate produced a datapoint but Match is false")
			}
			assert.False(t, res.Default, "Default without a DefaultValue")
		}
		if _, ok := p.Evaluate(message, filterpattern.Transformation{MetricValue: "1"}); ok != matched {
			t.Fatalf("Evaluate with a literal value = %v, Match = %v", ok, matched)
		}
	})
}
