package filterpattern

import "strings"

// termMatcher is a term pattern: a disjunction of term groups. A pattern
// without "?" is one group. Each "?" starts a new alternative group, and the
// terms that follow it without a prefix join that group; this is how the AWS
// CDK renders FilterPattern.anyTermGroup (`?"ERROR" "MainThread" ?"WARN"
// "Deadlock"` matches events with both ERROR and MainThread, or both WARN and
// Deadlock). Terms before the first "?" form a group of their own; the
// CloudWatch docs never mix the two, so that reading is our choice.
//
// No groups at all is the empty pattern, which matches every event.
type termMatcher struct {
	groups []termGroup
}

// termGroup matches when every include term is present and no exclude term
// is. Terms are case-sensitive substrings ("ERROR" matches "ERRORCODE", as
// the docs show).
type termGroup struct {
	include []string
	exclude []string
}

func (m termMatcher) match(msg string) bool {
	if len(m.groups) == 0 {
		return true
	}
	for i := range m.groups {
		if m.groups[i].match(msg) {
			return true
		}
	}
	return false
}

func (g *termGroup) match(msg string) bool {
	for _, t := range g.include {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	for _, t := range g.exclude {
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
	var cur termGroup
	started := false // cur holds, or was opened by, at least one term
	for s.skipSpace(); !s.eof(); s.skipSpace() {
		termPos := s.pos
		exclude := false
		switch s.peek() {
		case '?':
			s.pos++
			if started {
				m.groups = append(m.groups, cur)
			}
			cur = termGroup{}
		case '-':
			s.pos++
			exclude = true
			// The older docs write `"ERROR" - "Exiting"`, with a blank after
			// the minus; accept it.
			s.skipSpace()
		}
		started = true
		text, err := readTerm(s, termPos)
		if err != nil {
			return termMatcher{}, err
		}
		if exclude {
			cur.exclude = append(cur.exclude, text)
		} else {
			cur.include = append(cur.include, text)
		}
	}
	if started {
		m.groups = append(m.groups, cur)
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
