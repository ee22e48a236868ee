package filterpattern

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Characters a CloudWatch Logs regex may contain besides ASCII letters and
// digits (regex-expressions.html): the supported symbols and the supported
// operators, plus the blank, which the list omits but the page's own
// example %^starting|^initializing|^shutting down% contains. Parentheses,
// tabs, other punctuation and multi-byte characters are rejected; \xhh
// writes any ASCII character, as documented ("%\x28%" matches "(").
const (
	regexSymbols   = ":_#=@/;,-"
	regexOperators = `^$?[]{}|\*+.`
	// regexClasses are the letters that may follow a backslash: \d \D \s \S
	// \w \W. A backslash before a symbol or operator makes it literal.
	regexClasses = "dDsSwW"
)

// MaxRegexProgram bounds the size of a regular expression, in RE2
// instructions (as estimated before compiling). Matching costs up to
// (message length x program size) steps, and {m,n} counts multiply the
// program: 100 x \w{1000} fits in the 1024 characters of a pattern but takes
// minutes on a 100 KB event. CloudWatch documents no such limit; this is our
// guard, and it keeps the worst case near a second for a 256 KB event.
// Practical regexes are far smaller: the documented IP address example,
// %\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%, is about 40.
const MaxRegexProgram = 512

// parseStandaloneRegex parses a pattern that is one %regex% and nothing else.
func parseStandaloneRegex(src string, start int) (*regexp.Regexp, error) {
	s := &scanner{src: src, pos: start}
	re, err := readRegex(s)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if !s.eof() {
		return nil, s.errorf(s.pos, "expected end of pattern after the regular expression, found %s; a %%regex%% must be the whole pattern", s.found())
	}
	return re, nil
}

// readRegex reads %...% at s.pos, checks it against the documented
// restrictions and compiles it with Go's regexp (RE2), whose syntax is a
// superset of the supported subset. Matching is unanchored, as in the docs'
// %AUTHORIZED% example that matches "UNAUTHORIZED".
func readRegex(s *scanner) (*regexp.Regexp, error) {
	open := s.pos
	s.pos++ // opening %
	end := strings.IndexByte(s.src[s.pos:], '%')
	if end < 0 {
		return nil, s.errorf(len(s.src), "expected '%%' to close the regular expression that starts at %d", open)
	}
	body := s.src[s.pos : s.pos+end]
	base := s.pos
	s.pos += end + 1
	if body == "" {
		return nil, s.errorf(base, "expected a regular expression between '%%' and '%%'")
	}
	if err := checkRegex(body, base); err != nil {
		return nil, err
	}
	body = openMinimum(body)
	// Estimate the size on the parse tree first: compiling expands every
	// {m,n}, which is slow for the oversized ones we reject anyway.
	tree, err := syntax.Parse(body, syntax.Perl)
	if err != nil {
		return nil, s.errorf(base, "expected a valid regular expression: %v", err)
	}
	if programSize(tree) > MaxRegexProgram {
		return nil, s.errorf(base, "expected a smaller regular expression: it needs more than %d RE2 instructions; lower its {m,n} counts", MaxRegexProgram)
	}
	re, err := regexp.Compile(body)
	if err != nil {
		return nil, s.errorf(base, "expected a valid regular expression: %v", err)
	}
	return re, nil
}

// checkRegex enforces the documented character set; base is the offset of
// body in the pattern.
func checkRegex(body string, base int) error {
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 0x80:
			return &SyntaxError{Pos: base + i, Msg: "expected ASCII in a regular expression; multi-byte characters are not supported"}
		case c == '(' || c == ')':
			return &SyntaxError{Pos: base + i, Msg: "expected no parentheses in a regular expression; subpatterns are not supported"}
		case c == '\\':
			if i+1 == len(body) {
				return &SyntaxError{Pos: base + i, Msg: `expected a character after '\' in a regular expression`}
			}
			next := body[i+1]
			if next == 'x' {
				if err := checkHexEscape(body, i, base); err != nil {
					return err
				}
				i += 3
				continue
			}
			escapable := strings.IndexByte(regexClasses, next) >= 0 ||
				strings.IndexByte(regexSymbols, next) >= 0 ||
				strings.IndexByte(regexOperators, next) >= 0
			if !escapable {
				return &SyntaxError{Pos: base + i, Msg: `expected \d, \D, \s, \S, \w, \W or an escaped operator after '\', or \x and two hexadecimal digits`}
			}
			i++
		case isAlnum(c) || c == ' ' || strings.IndexByte(regexSymbols, c) >= 0 || strings.IndexByte(regexOperators, c) >= 0:
		default:
			return &SyntaxError{Pos: base + i, Msg: "expected a supported regular expression character (letters, digits, blank, " +
				`":_#=@/;,-" or "^$?[]{}|\*+."), found ` + quoteByte(c)}
		}
	}
	return nil
}

// openMinimum rewrites each {,n} repetition as {0,n}: the docs say "either
// m or n can be omitted", and RE2 reads "{,n}" as literal text. Escaped
// braces and braces inside a character class are left alone.
func openMinimum(body string) string {
	if !strings.Contains(body, "{,") {
		return body
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		b.WriteByte(c)
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			b.WriteByte(body[i])
		case c == '[' && !inClass:
			inClass = true
			// A "]" first in a class ("[]a]", "[^]a]") is literal.
			if i+1 < len(body) && body[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(body) && body[i+1] == ']' {
				i++
				b.WriteByte(']')
			}
		case c == ']':
			inClass = false
		case c == '{' && !inClass && isRepeatMax(body[i+1:]):
			b.WriteByte('0')
		}
	}
	return b.String()
}

// isRepeatMax reports whether s starts with ",n}" (one or more digits).
func isRepeatMax(s string) bool {
	if len(s) < 3 || s[0] != ',' {
		return false
	}
	i := 1
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > 1 && i < len(s) && s[i] == '}'
}

// checkHexEscape checks the \xhh escape at body[i]: exactly two hexadecimal
// digits naming an ASCII character (00 to 7F), "the ASCII mapping for a
// two-digit hexadecimal character".
func checkHexEscape(body string, i, base int) error {
	if i+3 >= len(body) || !isHexDigit(body[i+2]) || !isHexDigit(body[i+3]) {
		return &SyntaxError{Pos: base + i, Msg: `expected two hexadecimal digits after \x in a regular expression, as in \x3A`}
	}
	if body[i+2] > '7' {
		return &SyntaxError{Pos: base + i, Msg: `expected an ASCII character (\x00 to \x7F) after \x; multi-byte characters are not supported`}
	}
	return nil
}

func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func quoteByte(c byte) string {
	switch {
	case c == '\t':
		return `a tab (use \s or \x09)`
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character %#02x (use \\x%02X)", c, c)
	}
	return "'" + string(rune(c)) + "'"
}

// programSize estimates how many instructions re compiles to: an upper
// bound, close to what regexp.Compile builds. It stops counting once past
// the limit.
func programSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpConcat, syntax.OpAlternate, syntax.OpCapture:
		n := len(re.Sub)
		for _, sub := range re.Sub {
			if n += programSize(sub); n > MaxRegexProgram {
				return n
			}
		}
		return n
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return programSize(re.Sub[0]) + 1
	case syntax.OpRepeat:
		copies := re.Max
		if copies < 0 {
			copies = re.Min + 1
		}
		copies = max(copies, 1)
		return (programSize(re.Sub[0]) + 1) * copies
	default:
		return 1
	}
}
