package filterpattern

import (
	"regexp"
	"strings"
)

// cmpOp is a comparison operator of a JSON or space-delimited condition.
type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

// readOp reads one of = != < <= > >= at s.pos.
func readOp(s *scanner) (cmpOp, string, bool) {
	for _, o := range [...]struct {
		tok string
		op  cmpOp
	}{{"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"=", opEq}, {"<", opLt}, {">", opGt}} {
		if s.consume(o.tok) {
			return o.op, o.tok, true
		}
	}
	return 0, "", false
}

// litKind is the type of a comparison value.
type litKind int

const (
	litString litKind = iota // text, possibly with leading/trailing * wildcards
	litNumber
	litRegex
)

// comparison tests one value against a literal.
type comparison struct {
	op   cmpOp
	kind litKind
	text string // litString: text without wildcard stars
	any  bool   // litString: the value is "*": anything matches
	lead bool   // litString: a leading * (match a suffix)
	tail bool   // litString: a trailing * (match a prefix)
	num  float64
	re   *regexp.Regexp
}

// readComparison reads an operator and its value at s.pos; regexes counts
// the %regex% values read so far in the pattern.
func readComparison(s *scanner, regexes *int) (comparison, error) {
	opPos := s.pos
	op, tok, ok := readOp(s)
	if !ok {
		return comparison{}, s.errorf(opPos, "expected an operator (=, !=, <, <=, >, >=), found %s", s.found())
	}
	s.skipSpace()
	valPos := s.pos
	c := comparison{op: op}
	switch ch := s.peek(); {
	case ch == '"':
		text, err := s.readQuoted()
		if err != nil {
			return comparison{}, err
		}
		c.setString(text)
	case ch == '%':
		*regexes++
		if *regexes > MaxRegexPerPattern {
			return comparison{}, s.errorf(valPos, "expected at most %d regular expressions in a JSON or space-delimited pattern", MaxRegexPerPattern)
		}
		re, err := readRegex(s)
		if err != nil {
			return comparison{}, err
		}
		c.kind, c.re = litRegex, re
	case isValueChar(ch):
		text := s.readRun(isValueChar)
		if v, ok := parseNumber(text); ok {
			c.kind, c.num, c.text = litNumber, v, text
		} else {
			c.setString(text)
		}
	default:
		return comparison{}, s.errorf(valPos, `expected a number, a string or a %%regex%% after %q, found %s; quote strings with other characters`, tok, s.found())
	}
	if op != opEq && op != opNe && c.kind != litNumber {
		return comparison{}, s.errorf(valPos, "expected a number after %q", tok)
	}
	return c, nil
}

// setString records a string value. As documented, "*" is a wildcard only at
// the start or the end ("*Event", "Event*"); "Ev*ent" matches the literal
// text "Ev*ent". A lone "*" matches any value.
func (c *comparison) setString(text string) {
	c.kind = litString
	if text == "*" {
		c.any = true
		return
	}
	if strings.HasPrefix(text, "*") {
		c.lead = true
		text = text[1:]
	}
	if strings.HasSuffix(text, "*") {
		c.tail = true
		text = text[:len(text)-1]
	}
	c.text = text
}

// test applies the comparison to a field's text. Numbers compare
// numerically when the text is a number; "!=" with a number holds for text
// that is not a number; ordering operators need a number.
func (c *comparison) test(text string) bool {
	switch c.kind {
	case litRegex:
		return c.re.MatchString(text) == (c.op == opEq)
	case litString:
		return c.matchText(text) == (c.op == opEq)
	}
	v, ok := parseNumber(text)
	switch c.op {
	case opEq:
		return ok && v == c.num
	case opNe:
		return !ok || v != c.num
	case opLt:
		return ok && v < c.num
	case opLe:
		return ok && v <= c.num
	case opGt:
		return ok && v > c.num
	default: // opGe
		return ok && v >= c.num
	}
}

func (c *comparison) matchText(s string) bool {
	switch {
	case c.any:
		return true
	case c.lead && c.tail:
		return strings.Contains(s, c.text)
	case c.lead:
		return strings.HasSuffix(s, c.text)
	case c.tail:
		return strings.HasPrefix(s, c.text)
	default:
		return s == c.text
	}
}
