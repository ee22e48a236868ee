package filterpattern

import "strings"

// delimPattern is a compiled [ ... ] pattern.
type delimPattern struct {
	fields   []delimField
	ellipsis int // index of the "..." field, or -1
	regexes  int // how many %regex% values the pattern holds
}

// delimField is one comma-separated entry of a space-delimited pattern.
type delimField struct {
	name string // "" for the unnamed trailing field of "[a, b,]"
	// cond is an OR of ANDs of comparisons on this field ("&&" binds
	// tighter than "||"); nil means any value.
	cond [][]comparison
}

// span is a field of a message: the bytes [start, end).
type span struct{ start, end int }

// parseDelimited parses "[field, field, ...]" starting at the bracket.
//
// A field is a name, "...", or conditions on that field joined with && and
// ||: "status_code = 4*", "w1=ERROR || w1=WARN". Every condition in a field
// tests that field; its name may differ in letter case only, because the
// docs write [w1=ERROR || W1=WARNING, w2]. At most one "..." is allowed (as
// in every documented example and in the AWS CDK). A trailing comma adds an
// unnamed field, as in the docs' [..., request=*.html*, status_code=4*,].
func parseDelimited(src string, start int) (*delimPattern, error) {
	s := &scanner{src: src, pos: start + 1}
	d := &delimPattern{ellipsis: -1}
	names := map[string]bool{}
	for {
		s.skipSpace()
		fieldPos := s.pos
		switch {
		case s.consume("..."):
			if d.ellipsis >= 0 {
				return nil, s.errorf(fieldPos, `expected at most one "..." in a space-delimited pattern`)
			}
			d.ellipsis = len(d.fields)
			d.fields = append(d.fields, delimField{})
		case s.peek() == ']' && len(d.fields) > 0:
			// "[a, b,]": an unnamed last field.
			d.fields = append(d.fields, delimField{})
		default:
			f, err := readField(s, &d.regexes)
			if err != nil {
				return nil, err
			}
			if names[f.name] {
				return nil, s.errorf(fieldPos, "expected a new field name, %q is already used", f.name)
			}
			names[f.name] = true
			d.fields = append(d.fields, f)
		}
		s.skipSpace()
		if s.consume(",") {
			continue
		}
		if s.consume("]") {
			break
		}
		if s.eof() {
			return nil, s.errorf(s.pos, `expected "]" to close the space-delimited pattern that starts at %d`, start)
		}
		return nil, s.errorf(s.pos, `expected ",", "]", "&&" or "||", found %s`, s.found())
	}
	s.skipSpace()
	if !s.eof() {
		return nil, s.errorf(s.pos, `expected end of pattern after "]", found %s`, s.found())
	}
	return d, nil
}

// readField reads "name" or "name op value (&&|| name op value)*".
func readField(s *scanner, regexes *int) (delimField, error) {
	namePos := s.pos
	name := s.readRun(isNameChar)
	if name == "" {
		return delimField{}, s.errorf(namePos, `expected a field name (letters, digits, '-', '_') or "...", found %s`, s.found())
	}
	f := delimField{name: name}
	s.skipSpace()
	if c := s.peek(); c == ',' || c == ']' || s.eof() {
		return f, nil
	}
	var and []comparison
	for {
		c, err := readComparison(s, regexes)
		if err != nil {
			return delimField{}, err
		}
		and = append(and, c)
		s.skipSpace()
		switch {
		case s.consume("&&"):
		case s.consume("||"):
			f.cond = append(f.cond, and)
			and = nil
		default:
			f.cond = append(f.cond, and)
			return f, nil
		}
		s.skipSpace()
		refPos := s.pos
		ref := s.readRun(isNameChar)
		if !strings.EqualFold(ref, name) {
			return delimField{}, s.errorf(refPos, "expected field name %q: a condition can only test its own field", name)
		}
		s.skipSpace()
	}
}

// match splits msg into fields and applies the pattern; it returns the
// message's fields (appended to buf) when it matches.
func (d *delimPattern) match(msg string, buf []span) ([]span, bool) {
	toks := splitFields(msg, buf)
	n := len(d.fields)
	if d.ellipsis < 0 {
		if len(toks) != n {
			return nil, false
		}
	} else if len(toks) < n-1 {
		return nil, false
	}
	for i := range d.fields {
		if d.fields[i].cond == nil || i == d.ellipsis {
			continue
		}
		t := toks[d.tokenIndex(i, len(toks))]
		if !d.fields[i].test(msg[t.start:t.end]) {
			return nil, false
		}
	}
	return toks, true
}

// tokenIndex maps field i to the index of the message field it binds: fields
// before "..." bind from the start, fields after it from the end.
func (d *delimPattern) tokenIndex(i, ntoks int) int {
	if d.ellipsis >= 0 && i > d.ellipsis {
		return ntoks - (len(d.fields) - i)
	}
	return i
}

// lookup returns the value of the field named name in a matched message.
func (d *delimPattern) lookup(msg string, toks []span, name string) (string, bool) {
	for i := range d.fields {
		if d.fields[i].name == name && i != d.ellipsis {
			t := toks[d.tokenIndex(i, len(toks))]
			return msg[t.start:t.end], true
		}
	}
	return "", false
}

func (f *delimField) test(v string) bool {
	for _, and := range f.cond {
		ok := true
		for i := range and {
			if !and[i].test(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// splitFields splits a message into space-delimited fields. Blanks (spaces,
// tabs, line breaks) separate fields; the characters between a pair of
// square brackets or double quotes are one field, without the brackets or
// quotes (so [10/Oct/2000:13:55:36 -0700] is one field). An opening bracket
// or quote without its closing partner is an ordinary character. A field
// that ends with its closing bracket or quote is followed by a new field
// even when no blank comes first. Inside quotes a backslash escapes the
// next byte. Splitting is linear in the message length.
func splitFields(msg string, dst []span) []span {
	// Once a search for a closing ']' or '"' fails, none remains further on
	// either: remember it so that many unclosed openers stay linear.
	noBracket, noQuote := false, false
	i := 0
	for {
		i = skipSpace(msg, i)
		if i >= len(msg) {
			return dst
		}
		end := -1
		switch {
		case msg[i] == '[' && !noBracket:
			if end = closeBracket(msg, i); end < 0 {
				noBracket = true
			}
		case msg[i] == '"' && !noQuote:
			if end = closeQuote(msg, i); end < 0 {
				noQuote = true
			}
		}
		if end >= 0 {
			dst = append(dst, span{i + 1, end})
			i = end + 1
			continue
		}
		j := i
		for j < len(msg) && !isSpace(msg[j]) {
			j++
		}
		dst = append(dst, span{i, j})
		i = j
	}
}

// closeBracket returns the index of the first ']' after msg[open], or -1.
func closeBracket(msg string, open int) int {
	if k := strings.IndexByte(msg[open+1:], ']'); k >= 0 {
		return open + 1 + k
	}
	return -1
}

// closeQuote returns the index of the unescaped '"' that closes the one at
// msg[open], or -1. A failed search from one field start also rules out
// every later field start: a later '"' that starts a field follows a blank
// or a closing character, so this scan would have stopped there.
func closeQuote(msg string, open int) int {
	for k := open + 1; k < len(msg); k++ {
		switch msg[k] {
		case '\\':
			k++
		case '"':
			return k
		}
	}
	return -1
}
