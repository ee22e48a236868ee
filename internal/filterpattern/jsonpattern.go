package filterpattern

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonPattern is a compiled { ... } pattern.
type jsonPattern struct {
	root *jsonNode
	// selectors holds the canonical form of every selector in the pattern,
	// for ValidateTransformation.
	selectors []string
	regexes   int // how many %regex% values the pattern holds
}

// nodeOp is the kind of a JSON expression node.
type nodeOp int

const (
	nodeCond nodeOp = iota
	nodeAnd
	nodeOr
)

// jsonNode is a node of a JSON pattern's boolean expression.
type jsonNode struct {
	op          nodeOp
	left, right *jsonNode
	cond        jsonCond
}

// condKind is the test a JSON condition applies to its selected value.
type condKind int

const (
	condCompare condKind = iota
	condIsNull
	condIsTrue
	condIsFalse
	condNotExists
)

// jsonCond is one "SELECTOR test" condition.
type jsonCond struct {
	sel  selector
	kind condKind
	cmp  comparison
}

// selector is a parsed property selector such as $.objectList[1].id,
// $.users[*].name or $.['cluster.name'].
type selector struct {
	steps []selectorStep
	wild  int // index of the wildcard step, or -1; there is at most one
}

// stepKind is what one selector step selects.
type stepKind uint8

const (
	stepName  stepKind = iota // an object member
	stepIndex                 // an array element
	stepWild                  // every member of an object or element of an array
)

type selectorStep struct {
	kind  stepKind
	name  string
	index int
}

// MaxWildcardsPerSelector and MaxWildcardsPerPattern are the documented
// quotas on the JSON wildcard selector: "up to one wildcard selector in a
// property selector, and up to three wildcard selectors in a filter pattern
// with compound expressions".
const (
	MaxWildcardsPerSelector = 1
	MaxWildcardsPerPattern  = 3
)

// parseJSON parses "{ expr }" starting at the brace at start.
func parseJSON(src string, start int) (*jsonPattern, error) {
	p := &jsonParser{scanner: scanner{src: src, pos: start + 1}}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errorf(p.pos, `expected "}" to close the JSON pattern that starts at %d`, start)
	}
	if !p.consume("}") {
		return nil, p.errorf(p.pos, `expected "&&", "||" or "}", found %s`, p.found())
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf(p.pos, `expected end of pattern after "}", found %s`, p.found())
	}
	return &jsonPattern{root: root, selectors: p.selectors, regexes: p.regexes}, nil
}

type jsonParser struct {
	scanner
	regexes   int
	wildcards int
	selectors []string
}

// parseOr parses a || b || ...; && binds tighter, parentheses tightest.
func (p *jsonParser) parseOr() (*jsonNode, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.skipSpace(); p.consume("||"); p.skipSpace() {
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &jsonNode{op: nodeOr, left: left, right: right}
	}
	return left, nil
}

func (p *jsonParser) parseAnd() (*jsonNode, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.skipSpace(); p.consume("&&"); p.skipSpace() {
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &jsonNode{op: nodeAnd, left: left, right: right}
	}
	return left, nil
}

func (p *jsonParser) parseUnary() (*jsonNode, error) {
	p.skipSpace()
	if p.peek() == '(' {
		open := p.pos
		p.pos++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.consume(")") {
			return nil, p.errorf(p.pos, `expected ")" to close the "(" at %d, found %s`, open, p.found())
		}
		return n, nil
	}
	return p.parseCond()
}

// parseCond parses SELECTOR followed by an operator and value, IS NULL,
// IS TRUE, IS FALSE or NOT EXISTS. Keywords are matched case-insensitively.
func (p *jsonParser) parseCond() (*jsonNode, error) {
	if p.peek() != '$' {
		return nil, p.errorf(p.pos, `expected a selector starting with "$." or "(", found %s`, p.found())
	}
	selPos := p.pos
	sel, canon, err := readSelector(&p.scanner)
	if err != nil {
		return nil, err
	}
	if sel.wild >= 0 {
		if p.wildcards++; p.wildcards > MaxWildcardsPerPattern {
			return nil, p.errorf(selPos, "expected at most %d wildcard selectors in a JSON pattern", MaxWildcardsPerPattern)
		}
	}
	p.selectors = append(p.selectors, canon)
	p.skipSpace()
	n := &jsonNode{op: nodeCond, cond: jsonCond{sel: sel}}
	kwPos := p.pos
	switch kw := strings.ToUpper(p.readRun(isAlnum)); kw {
	case "":
		n.cond.cmp, err = readComparison(&p.scanner, &p.regexes)
		if err != nil {
			return nil, err
		}
	case "IS":
		p.skipSpace()
		argPos := p.pos
		switch strings.ToUpper(p.readRun(isAlnum)) {
		case "NULL":
			n.cond.kind = condIsNull
		case "TRUE":
			n.cond.kind = condIsTrue
		case "FALSE":
			n.cond.kind = condIsFalse
		case "NOT":
			return nil, p.errorf(argPos, "expected NULL, TRUE or FALSE after IS; IS NOT is not supported")
		default:
			return nil, p.errorf(argPos, "expected NULL, TRUE or FALSE after IS")
		}
	case "NOT":
		p.skipSpace()
		argPos := p.pos
		if strings.ToUpper(p.readRun(isAlnum)) != "EXISTS" {
			return nil, p.errorf(argPos, "expected EXISTS after NOT")
		}
		n.cond.kind = condNotExists
	case "EXISTS":
		return nil, p.errorf(kwPos, `expected an operator, IS or NOT EXISTS; EXISTS is not supported (use "= *")`)
	default:
		return nil, p.errorf(kwPos, "expected an operator, IS or NOT EXISTS after the selector, found %q", kw)
	}
	return n, nil
}

// maxIndex bounds array indexes so that they fit an int everywhere.
const maxIndex = 1<<31 - 1

// readSelector reads a property selector at s.pos and returns it with its
// canonical text. As documented, a selector starts with "$." and array
// indexes follow a property. After "$." and after every ".", a step is a
// property name (letters, digits, '-', '_'), the wildcard "*" or a
// bracketed key ['cluster.name'] (for keys with periods or other
// characters); after a step may come [N], [*] or ['key']. At most
// MaxWildcardsPerSelector wildcard.
func readSelector(s *scanner) (selector, string, error) {
	start := s.pos
	s.pos++ // $
	if !s.consume(".") {
		return selector{}, "", s.errorf(s.pos, `expected "." after "$" in a selector, found %s`, s.found())
	}
	sel := selector{wild: -1}
	var canon strings.Builder
	canon.WriteByte('$')
	add := func(st selectorStep, pos int) error {
		if st.kind == stepWild {
			if sel.wild >= 0 {
				return s.errorf(pos, "expected at most %d wildcard (*) in the selector that starts at %d", MaxWildcardsPerSelector, start)
			}
			sel.wild = len(sel.steps)
		}
		sel.steps = append(sel.steps, st)
		writeStep(&canon, st)
		return nil
	}
	for {
		stepPos := s.pos
		var st selectorStep
		switch c := s.peek(); {
		case c == '*':
			s.pos++
			st = selectorStep{kind: stepWild}
		case c == '[':
			s.pos++
			key, err := readBracketKey(s, stepPos)
			if err != nil {
				return selector{}, "", err
			}
			st = selectorStep{kind: stepName, name: key}
		case isNameChar(c):
			st = selectorStep{kind: stepName, name: s.readRun(isNameChar)}
		default:
			return selector{}, "", s.errorf(stepPos, `expected a property name (letters, digits, '-', '_'), "*" or ['key'] in the selector that starts at %d, found %s`, start, s.found())
		}
		if err := add(st, stepPos); err != nil {
			return selector{}, "", err
		}
		for s.peek() == '[' {
			open := s.pos
			s.pos++
			st, err := readBracketStep(s, open)
			if err != nil {
				return selector{}, "", err
			}
			if err := add(st, open); err != nil {
				return selector{}, "", err
			}
		}
		if !s.consume(".") {
			return sel, canon.String(), nil
		}
	}
}

// readBracketStep reads what follows a "[" after a step: an array index,
// "*" or a quoted key, and the closing "]".
func readBracketStep(s *scanner, open int) (selectorStep, error) {
	switch c := s.peek(); {
	case c == '*':
		s.pos++
		if !s.consume("]") {
			return selectorStep{}, s.errorf(s.pos, `expected "]" after "[*", found %s`, s.found())
		}
		return selectorStep{kind: stepWild}, nil
	case c == '\'' || c == '"':
		key, err := readBracketKey(s, open)
		return selectorStep{kind: stepName, name: key}, err
	}
	idxPos := s.pos
	digits := s.readRun(isDigit)
	idx, err := strconv.Atoi(digits)
	if digits == "" || err != nil || idx > maxIndex {
		return selectorStep{}, s.errorf(idxPos, `expected an array index (a non-negative integer), "*" or a 'quoted key' after "["`)
	}
	if !s.consume("]") {
		return selectorStep{}, s.errorf(s.pos, `expected "]" to close the array index, found %s`, s.found())
	}
	return selectorStep{kind: stepIndex, index: idx}, nil
}

// readBracketKey reads 'key'] at s.pos (the "[" at open is already read).
// Inside the single quotes a backslash escapes a quote or a backslash.
func readBracketKey(s *scanner, open int) (string, error) {
	if s.peek() != '\'' {
		return "", s.errorf(s.pos, `expected a key in single quotes after "[", as in $.['cluster.name'], found %s`, s.found())
	}
	s.pos++
	var key strings.Builder
	for {
		if s.eof() {
			return "", s.errorf(s.pos, `expected "'" to close the key at %d`, open)
		}
		c := s.src[s.pos]
		if c == '\'' {
			break
		}
		if c == '\\' && s.pos+1 < len(s.src) && (s.src[s.pos+1] == '\'' || s.src[s.pos+1] == '\\') {
			s.pos++
			c = s.src[s.pos]
		}
		key.WriteByte(c)
		s.pos++
	}
	s.pos++ // closing quote
	if !s.consume("]") {
		return "", s.errorf(s.pos, `expected "]" after the key at %d, found %s`, open, s.found())
	}
	return key.String(), nil
}

// writeStep appends a step's canonical text: .name for plain names,
// .['key'] for other keys, [N] for indexes and [*] for wildcards, so that
// $.a, $.['a'] and $.a['a'] compare as they select.
func writeStep(b *strings.Builder, st selectorStep) {
	switch st.kind {
	case stepWild:
		b.WriteString("[*]")
	case stepIndex:
		b.WriteString("[" + strconv.Itoa(st.index) + "]")
	default:
		if st.name != "" && strings.IndexFunc(st.name, func(r rune) bool { return r >= utf8.RuneSelf || !isNameChar(byte(r)) }) < 0 {
			b.WriteString("." + st.name)
			return
		}
		b.WriteString(".['" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(st.name) + "']")
	}
}

// decodeJSON decodes a message that is exactly one JSON object (blanks
// around it allowed). Numbers keep their text.
func decodeJSON(msg string) (map[string]any, bool) {
	i := skipSpace(msg, 0)
	if i == len(msg) || msg[i] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(msg[i:]))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data: not a JSON log event
	}
	return doc, true
}

// walk follows steps from cur; ok is false when a step is missing, indexes
// past the end, or walks into something that is not an object or array.
// steps holds no wildcard.
func walk(cur any, steps []selectorStep) (any, bool) {
	for _, st := range steps {
		if st.kind == stepIndex {
			arr, ok := cur.([]any)
			if !ok || st.index >= len(arr) {
				return nil, false
			}
			cur = arr[st.index]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[st.name]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// some reports whether test holds for some value the selector selects. A
// wildcard step selects every member of an object and every element of an
// array (JSONPath's .* and [*] alike); without one the selector selects at
// most one value.
func (sel *selector) some(doc map[string]any, test func(any) bool) bool {
	if sel.wild < 0 {
		v, ok := walk(doc, sel.steps)
		return ok && test(v)
	}
	parent, ok := walk(doc, sel.steps[:sel.wild])
	if !ok {
		return false
	}
	rest := sel.steps[sel.wild+1:]
	switch p := parent.(type) {
	case map[string]any:
		for _, child := range p {
			if v, ok := walk(child, rest); ok && test(v) {
				return true
			}
		}
	case []any:
		for _, child := range p {
			if v, ok := walk(child, rest); ok && test(v) {
				return true
			}
		}
	}
	return false
}

// scalarText returns the text of a value node: a string's value, a number's
// source text, or "true"/"false". Null, objects and arrays are not value
// nodes: "If a property selector points to an array or object, the metric
// filter won't match", for = and != alike.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		return "", false
	}
}

func (n *jsonNode) eval(doc map[string]any) bool {
	switch n.op {
	case nodeAnd:
		return n.left.eval(doc) && n.right.eval(doc)
	case nodeOr:
		return n.left.eval(doc) || n.right.eval(doc)
	}
	c := &n.cond
	if c.sel.wild < 0 {
		v, found := walk(doc, c.sel.steps)
		if c.kind == condNotExists {
			return !found
		}
		return found && c.holds(v)
	}
	// With a wildcard the condition holds when it holds for any selected
	// value; NOT EXISTS holds when the selector selects nothing.
	if c.kind == condNotExists {
		return !c.sel.some(doc, selected)
	}
	return c.sel.some(doc, c.holds)
}

func selected(any) bool { return true }

// holds applies the condition's test to one selected value.
func (c *jsonCond) holds(v any) bool {
	switch c.kind {
	case condIsNull:
		return v == nil
	case condIsTrue:
		return v == true
	case condIsFalse:
		return v == false
	}
	text, ok := scalarText(v)
	return ok && c.cmp.test(text)
}
