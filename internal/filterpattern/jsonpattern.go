package filterpattern

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// jsonPattern is a compiled { ... } pattern.
type jsonPattern struct {
	root *jsonNode
	// selectors holds the canonical form of every selector in the pattern,
	// for ValidateTransformation.
	selectors []string
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

// selector is a parsed property selector such as $.objectList[1].id.
type selector []selectorStep

type selectorStep struct {
	name  string
	index int // >= 0 for an array index step
}

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
	return &jsonPattern{root: root, selectors: p.selectors}, nil
}

type jsonParser struct {
	scanner
	regexes   int
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
	sel, canon, err := readSelector(&p.scanner)
	if err != nil {
		return nil, err
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

// readSelector reads $.name(.name|[N])* at s.pos and returns it with its
// canonical text. As documented, a selector starts with "$." and array
// indexes must follow a property.
func readSelector(s *scanner) (selector, string, error) {
	start := s.pos
	s.pos++ // $
	if !s.consume(".") {
		return nil, "", s.errorf(s.pos, `expected "." after "$" in a selector, found %s`, s.found())
	}
	var sel selector
	var canon strings.Builder
	canon.WriteByte('$')
	for {
		namePos := s.pos
		name := s.readRun(isNameChar)
		if name == "" {
			return nil, "", s.errorf(namePos, "expected a property name (letters, digits, '-', '_') in the selector that starts at %d, found %s", start, s.found())
		}
		sel = append(sel, selectorStep{name: name, index: -1})
		canon.WriteString("." + name)
		for s.peek() == '[' {
			s.pos++
			idxPos := s.pos
			digits := s.readRun(isDigit)
			idx, err := strconv.Atoi(digits)
			if digits == "" || err != nil || idx > maxIndex {
				return nil, "", s.errorf(idxPos, "expected an array index (a non-negative integer) after \"[\"")
			}
			if !s.consume("]") {
				return nil, "", s.errorf(s.pos, `expected "]" to close the array index, found %s`, s.found())
			}
			sel = append(sel, selectorStep{index: idx})
			canon.WriteString("[" + strconv.Itoa(idx) + "]")
		}
		if !s.consume(".") {
			return sel, canon.String(), nil
		}
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

// resolve follows the selector; ok is false when a step is missing, indexes
// past the end, or walks into something that is not an object or array.
func (sel selector) resolve(doc map[string]any) (any, bool) {
	var cur any = doc
	for _, st := range sel {
		if st.index >= 0 {
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
	v, found := n.cond.sel.resolve(doc)
	switch n.cond.kind {
	case condNotExists:
		return !found
	case condIsNull:
		return found && v == nil
	case condIsTrue:
		return found && v == true
	case condIsFalse:
		return found && v == false
	}
	if !found {
		return false
	}
	text, ok := scalarText(v)
	return ok && n.cond.cmp.test(text)
}
