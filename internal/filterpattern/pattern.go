package filterpattern

import (
	"fmt"
	"regexp"
	"unicode/utf8"
)

// MaxPatternLength is the longest filter pattern, in characters, that
// CloudWatch Logs accepts (the filterPattern length constraint of
// PutMetricFilter, PutSubscriptionFilter and FilterLogEvents).
const MaxPatternLength = 1024

// MaxRegexPerPattern is how many %regex% values one JSON or space-delimited
// pattern may contain (CloudWatch Logs quota, regex-expressions.html).
const MaxRegexPerPattern = 2

// MaxRegexPatternsPerLogGroup is how many metric filter and subscription
// filter patterns containing a regex one log group may have (CloudWatch
// Logs quota, regex-expressions.html). It spans patterns, so Parse cannot
// check it; count the patterns whose HasRegex is true.
const MaxRegexPatternsPerLogGroup = 5

// Kind is the family a filter pattern belongs to; it decides how a log event
// is read before the pattern is applied.
type Kind int

// The pattern families. The empty pattern, term patterns and a standalone
// %regex% are all Unstructured.
const (
	// Unstructured patterns match terms, quoted phrases or one regular
	// expression anywhere in the raw message.
	Unstructured Kind = iota
	// JSON patterns, { ... }, test fields of a message that is a JSON object.
	JSON
	// SpaceDelimited patterns, [ ... ], bind the message's space-delimited
	// fields to names and test them.
	SpaceDelimited
)

// String returns the family name: "unstructured", "json" or "space-delimited".
func (k Kind) String() string {
	switch k {
	case Unstructured:
		return "unstructured"
	case JSON:
		return "json"
	case SpaceDelimited:
		return "space-delimited"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// SyntaxError reports a pattern that Parse rejects: where, and what was
// expected there.
type SyntaxError struct {
	// Pos is the 0-based byte offset in the pattern where the problem is.
	Pos int
	// Msg says what was expected, e.g. `expected "]" to close the
	// space-delimited pattern`.
	Msg string
}

// Error formats the error as "filterpattern: at POS: MSG".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filterpattern: at %d: %s", e.Pos, e.Msg)
}

// Pattern is a compiled filter pattern. It is immutable, so Match and
// Evaluate are safe for concurrent use.
type Pattern struct {
	src   string
	kind  Kind
	terms termMatcher    // Unstructured, when re is nil
	re    *regexp.Regexp // Unstructured standalone %regex%
	json  *jsonPattern
	delim *delimPattern
}

// Parse compiles a CloudWatch Logs filter pattern once; matching is then safe
// for concurrent use. The family is chosen by the first non-blank character:
// "{" is a JSON pattern, "[" a space-delimited one, "%" a standalone regular
// expression, anything else (including nothing) a term pattern.
//
// Errors are always *SyntaxError.
func Parse(pattern string) (*Pattern, error) {
	if utf8.RuneCountInString(pattern) > MaxPatternLength {
		return nil, &SyntaxError{
			Pos: runeOffset(pattern, MaxPatternLength),
			Msg: fmt.Sprintf("expected at most %d characters in a filter pattern", MaxPatternLength),
		}
	}
	p := &Pattern{src: pattern}
	start := skipSpace(pattern, 0)
	if start == len(pattern) {
		return p, nil // the empty pattern matches every event
	}
	var err error
	switch pattern[start] {
	case '{':
		p.kind = JSON
		p.json, err = parseJSON(pattern, start)
	case '[':
		p.kind = SpaceDelimited
		p.delim, err = parseDelimited(pattern, start)
	case '%':
		p.re, err = parseStandaloneRegex(pattern, start)
	default:
		p.terms, err = parseTerms(pattern, start)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// String returns the source pattern, exactly as given to Parse.
func (p *Pattern) String() string { return p.src }

// Kind reports the pattern's family.
func (p *Pattern) Kind() Kind { return p.kind }

// HasRegex reports whether the pattern contains a %regex%, which makes it
// count toward MaxRegexPatternsPerLogGroup.
func (p *Pattern) HasRegex() bool {
	switch p.kind {
	case JSON:
		return p.json.regexes > 0
	case SpaceDelimited:
		return p.delim.regexes > 0
	default:
		return p.re != nil
	}
}

// Match reports whether the log event message matches the pattern.
//
// Unstructured patterns never allocate. JSON patterns match only messages
// that are a single JSON object; space-delimited patterns match only messages
// with the right number of fields.
func (p *Pattern) Match(message string) bool {
	switch p.kind {
	case JSON:
		doc, ok := decodeJSON(message)
		return ok && p.json.root.eval(doc)
	case SpaceDelimited:
		var buf [32]span
		_, ok := p.delim.match(message, buf[:0])
		return ok
	default:
		if p.re != nil {
			return p.re.MatchString(message)
		}
		return p.terms.match(message)
	}
}

// runeOffset returns the byte offset of the n-th rune (0-based) of s.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
