package filterpattern

import "strings"

// termMatcher is a term pattern. Without "?" terms it matches when every
// include term is present and no exclude term is. A pattern made of "?"
// terms only matches when any of them is present. As documented, "?" does
// not combine with other terms: when a pattern mixes "?" terms with include
// or exclude terms, the "?" terms are ignored, so `?ERROR ?ARGUMENTS
// REQUEST` is REQUEST alone. Terms are case-sensitive substrings ("ERROR"
// matches "ERRORCODE", as the docs show).
//
// The zero termMatcher is the empty pattern, which matches every event.
type termMatcher struct {
	include []string
	exclude []string
	anyOf   []string // the "?" terms of a pattern that has nothing else
}

func (m termMatcher) match(msg string) bool {
	if len(m.anyOf) > 0 {
		for _, t := range m.anyOf {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}
	for _, t := range m.include {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range m.exclude {
		if strings.Contains(msg, t) {
			return false
		}
	}
	return true
}

// parseTerms parses a term pattern starting at start: whitespace-separated
// terms, each optionally prefixed with "?" (alternative) or "-" (exclusion),
// each a bare term of letters, digits and underscores or a "quoted phrase".
func parseTerms(src string, start int) (termMatcher, error) {
	s := &scanner{src: src, pos: start}
	var m termMatcher
	var optional []string
	for s.skipSpace(); !s.eof(); s.skipSpace() {
		termPos := s.pos
		prefix := s.peek()
		switch prefix {
		case '?':
			s.pos++
		case '-':
			s.pos++
			// The older docs write `"ERROR" - "Exiting"`, with a blank after
			// the minus; accept it.
			s.skipSpace()
		}
		text, err := readTerm(s, termPos)
		if err != nil {
			return termMatcher{}, err
		}
		switch prefix {
		case '?':
			optional = append(optional, text)
		case '-':
			m.exclude = append(m.exclude, text)
		default:
			m.include = append(m.include, text)
		}
	}
	if len(m.include) == 0 && len(m.exclude) == 0 {
		m.anyOf = optional
	}
	return m, nil
}

// readTerm reads one bare term or quoted phrase and checks that a blank or
// the end of the pattern follows it.
func readTerm(s *scanner, termPos int) (string, error) {
	var text string
	switch c := s.peek(); {
	case c == '"':
		q, err := s.readQuoted()
		if err != nil {
			return "", err
		}
		// The docs' "Match everything" example is `" "`: a phrase of blanks
		// (or "") matches every event, so it is kept as the empty string,
		// which every message contains.
		if strings.TrimSpace(q) == "" {
			q = ""
		}
		text = q
	case isTermChar(c):
		text = s.readRun(isTermChar)
	case c == '%':
		return "", s.errorf(s.pos, "expected a term; a %%regex%% must be the whole pattern")
	case s.eof() || isSpace(c):
		return "", s.errorf(s.pos, "expected a term after %q", s.src[termPos:s.pos])
	default:
		return "", s.errorf(s.pos, `expected a term (letters, digits, underscore) or a "quoted phrase", found %s; quote terms with other characters`, s.found())
	}
	if !s.eof() && !isSpace(s.peek()) {
		return "", s.errorf(s.pos, `expected a blank after term %q, found %s; quote terms with other characters`, text, s.found())
	}
	return text, nil
}
