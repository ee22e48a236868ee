package filterpattern

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// scanner walks a pattern; every position it reports is a byte offset in the
// whole pattern so that SyntaxError.Pos points into what the user wrote.
type scanner struct {
	src string
	pos int
}

func (s *scanner) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) skipSpace() { s.pos = skipSpace(s.src, s.pos) }

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

// peek returns the current byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// consume advances past tok if the input continues with it.
func (s *scanner) consume(tok string) bool {
	if strings.HasPrefix(s.src[s.pos:], tok) {
		s.pos += len(tok)
		return true
	}
	return false
}

// found describes the current input for error messages.
func (s *scanner) found() string {
	if s.eof() {
		return "end of pattern"
	}
	return strconv.QuoteRune(rune(s.src[s.pos]))
}

// readQuoted reads a double-quoted string at s.pos. A backslash escapes a
// double quote or a backslash (as the AWS CDK writes them); any other
// backslash is kept as it is.
func (s *scanner) readQuoted() (string, error) {
	start := s.pos
	s.pos++ // opening quote
	var b strings.Builder
	seg := s.pos
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case '\\':
			if s.pos+1 < len(s.src) && (s.src[s.pos+1] == '"' || s.src[s.pos+1] == '\\') {
				b.WriteString(s.src[seg:s.pos])
				b.WriteByte(s.src[s.pos+1])
				s.pos += 2
				seg = s.pos
				continue
			}
		case '"':
			text := s.src[seg:s.pos]
			if b.Len() > 0 || seg != start+1 {
				b.WriteString(text)
				text = b.String()
			}
			s.pos++
			return text, nil
		}
		s.pos++
	}
	return "", s.errorf(len(s.src), `expected '"' to close the quoted string that starts at %d`, start)
}

// readRun reads bytes while ok holds.
func (s *scanner) readRun(ok func(byte) bool) string {
	start := s.pos
	for s.pos < len(s.src) && ok(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// isTermChar reports the characters an unquoted term may hold: "terms that
// include characters other than alphanumeric or underscore must be placed
// inside double quotes".
func isTermChar(c byte) bool { return isAlnum(c) || c == '_' }

// isNameChar reports the characters of JSON property names and
// space-delimited field names: alphanumerics, hyphen and underscore.
func isNameChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// isValueChar reports the characters an unquoted comparison value may hold:
// alphanumerics and underscore as documented, plus the characters of the
// documented unquoted examples (123.123.*, 4*, *.html*, +1000, 1e-3) and ':'
// and '/' for times and paths. Anything else must be quoted.
func isValueChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("_.*+-:/", c) >= 0
}

// isNumberLiteral reports whether s is a number as the docs define it: an
// integer or decimal with an optional sign, optionally followed by e and a
// signed integer.
func isNumberLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseNumber parses a finite number literal. It does not allocate for valid
// input.
func parseNumber(s string) (float64, bool) {
	if !isNumberLiteral(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}
