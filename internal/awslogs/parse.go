package awslogs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxNestingDepth is encoding/json's limit on nested arrays and objects.
const maxNestingDepth = 10000

// field identifies an object key the parser knows.
type field uint8

// Known keys. The header fields come first, in the order of parser.header.
const (
	fieldUnknown field = iota
	fieldMessageType
	fieldOwner
	fieldLogGroup
	fieldLogStream
	fieldPolicyLevel
	fieldSubscriptionFilters
	fieldLogEvents
	fieldID
	fieldTimestamp
	fieldMessage
)

// numHeader is the number of string fields of the top-level object.
const numHeader = int(fieldPolicyLevel-fieldMessageType) + 1

// foldedKey is a key in encoding/json's case-folded form.
type foldedKey struct {
	name  string
	field field
}

// Folded forms of the keys, for encoding/json's case-insensitive fallback.
var (
	foldedTopKeys = []foldedKey{
		{foldName("messageType"), fieldMessageType},
		{foldName("owner"), fieldOwner},
		{foldName("logGroup"), fieldLogGroup},
		{foldName("logStream"), fieldLogStream},
		{foldName("policyLevel"), fieldPolicyLevel},
		{foldName("subscriptionFilters"), fieldSubscriptionFilters},
		{foldName("logEvents"), fieldLogEvents},
	}
	foldedEventKeys = []foldedKey{
		{foldName("id"), fieldID},
		{foldName("timestamp"), fieldTimestamp},
		{foldName("message"), fieldMessage},
	}
)

// Event keys with their colon, as CloudWatch Logs writes them.
var (
	keyID        = []byte(`"id":`)
	keyTimestamp = []byte(`"timestamp":`)
	keyMessage   = []byte(`"message":`)
)

// span locates an unescaped string in parser.arena.
type span struct{ off, n int }

// rawEvent is a log event whose strings are still spans of the arena.
type rawEvent struct {
	id, msg span
	ts      int64
}

// parser is a JSON parser for the one document shape of a subscription
// payload. It unescapes every string it keeps into one arena, so a whole
// document costs at most one string allocation (see fill), and it reproduces what
// json.Unmarshal into wirePayload accepts, rejects and yields.
//
// Arrays follow encoding/json's slice semantics: element i of a repeated
// key's array is decoded into element i of the earlier array, and elements
// past the current length survive truncation until an empty array or null
// replaces the slice. events and filters therefore hold every element
// decoded since the last reset (the slice's "high-water" contents), and
// nEvents and nFilters the current length.
type parser struct {
	data []byte
	pos  int
	lim  Limits

	arena  []byte
	key    []byte // scratch for keys that need unescaping
	stack  []byte // open containers while skipping a value
	header [numHeader]span

	array string // the array whose element is being parsed, for errors
	index int    // and the element's index

	events   []rawEvent
	nEvents  int
	filters  []span
	nFilters int
}

// parse parses data, checking lim.MaxEvents (for logEvents and
// subscriptionFilters), lim.MaxMessageBytes (for every string it keeps) and
// lim.MaxDecompressedBytes (for all the strings it keeps together).
func (p *parser) parse(data []byte, lim Limits) error {
	p.data, p.pos, p.lim = data, 0, lim
	if cap(p.arena) < len(data) {
		p.arena = make([]byte, 0, len(data))
	}
	p.arena = p.arena[:0]
	p.header = [numHeader]span{}
	p.events, p.nEvents = p.events[:0], 0
	p.filters, p.nFilters = p.filters[:0], 0
	p.array = ""

	p.skipWS()
	switch p.peek() {
	case '{':
		if err := p.readObject(nil); err != nil {
			return err
		}
	case 'n':
		// json.Unmarshal of null into a struct leaves it untouched.
		if err := p.literal("null"); err != nil {
			return err
		}
	default:
		return p.errorf("expected an object")
	}
	p.skipWS()
	if p.pos < len(p.data) {
		return p.errorf("invalid character %q after top-level value", p.data[p.pos])
	}
	return nil
}

// fill stores the parsed document in out, reusing the capacity of its
// slices. s holds the arena's bytes; every string is a substring of it.
func (p *parser) fill(out *Payload, s string) {
	out.MessageType = substr(s, *p.headerField(fieldMessageType))
	out.Owner = substr(s, *p.headerField(fieldOwner))
	out.LogGroup = substr(s, *p.headerField(fieldLogGroup))
	out.LogStream = substr(s, *p.headerField(fieldLogStream))
	out.PolicyLevel = substr(s, *p.headerField(fieldPolicyLevel))

	filters := out.SubscriptionFilters[:0]
	if cap(filters) < p.nFilters {
		filters = make([]string, 0, p.nFilters)
	}
	for _, f := range p.filters[:p.nFilters] {
		filters = append(filters, substr(s, f))
	}
	out.SubscriptionFilters = filters

	events := out.LogEvents[:0]
	if cap(events) < p.nEvents {
		events = make([]LogEvent, 0, p.nEvents)
	}
	events = events[:p.nEvents]
	for i := range events {
		// Field by field: cheaper under the GC's write barrier than
		// storing whole structs.
		e, ev := &p.events[i], &events[i]
		ev.ID = substr(s, e.id)
		ev.Timestamp = e.ts
		ev.Message = substr(s, e.msg)
	}
	out.LogEvents = events
}

// bufferBytes is the memory the parser's buffers hold.
func (p *parser) bufferBytes() int {
	return cap(p.arena) + cap(p.key) + cap(p.stack) +
		cap(p.events)*int(unsafe.Sizeof(rawEvent{})) + cap(p.filters)*int(unsafe.Sizeof(span{}))
}

// headerField is where the top-level string field f is kept.
func (p *parser) headerField(f field) *span { return &p.header[f-fieldMessageType] }

// substr returns the part of s that sp locates.
func substr(s string, sp span) string {
	if sp.n == 0 {
		return ""
	}
	return s[sp.off : sp.off+sp.n]
}

// readObject parses an object; p.pos is at its '{'. With ev nil it is the
// top-level object, else a log event parsed into ev.
func (p *parser) readObject(ev *rawEvent) error {
	p.pos++
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for {
		f, err := p.readKey(ev != nil)
		if err != nil {
			return err
		}
		if err := p.readField(f, ev); err != nil {
			return err
		}
		if done, err := p.next('}'); done || err != nil {
			return err
		}
	}
}

// readField parses the value of key f, with ev as for readObject.
func (p *parser) readField(f field, ev *rawEvent) error {
	switch f {
	case fieldMessageType, fieldOwner, fieldLogGroup, fieldLogStream, fieldPolicyLevel:
		return p.readStringField(&p.header[f-fieldMessageType])
	case fieldSubscriptionFilters:
		return readArray(p, "subscriptionFilters", "subscription filters", &p.filters, &p.nFilters, (*parser).readStringField)
	case fieldLogEvents:
		return readArray(p, "logEvents", "log events", &p.events, &p.nEvents, (*parser).readEvent)
	case fieldID:
		return p.readStringField(&ev.id)
	case fieldTimestamp:
		return p.readTimestamp(&ev.ts)
	case fieldMessage:
		return p.readStringField(&ev.msg)
	}
	if ev == nil {
		return p.skipValue(1)
	}
	return p.skipValue(3)
}

// readEvent parses one element of logEvents: a log event object into ev,
// or null, which leaves ev untouched.
func (p *parser) readEvent(ev *rawEvent) error {
	switch p.peek() {
	case '{':
		return p.readObject(ev)
	case 'n':
		return p.literal("null")
	}
	return p.errorf("log event is not an object")
}

// readArray parses the value of the array key name (logEvents or
// subscriptionFilters) into *elems with readElem, keeping encoding/json's
// slice semantics (see parser): null and [] empty the slice, and elements
// past the new length *n survive. It fails past lim.MaxEvents elements,
// naming them what.
func readArray[T any](p *parser, name, what string, elems *[]T, n *int, readElem func(*parser, *T) error) error {
	switch p.peek() {
	case 'n':
		*elems, *n = (*elems)[:0], 0
		return p.literal("null")
	case '[':
	default:
		return p.errorf("%s is not an array", name)
	}
	p.pos++
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		*elems, *n = (*elems)[:0], 0
		return nil
	}
	i := 0
	for {
		if i >= p.lim.MaxEvents {
			return fmt.Errorf("%w: json: more than %d %s (MaxEvents)", ErrTooLarge, p.lim.MaxEvents, what)
		}
		if i == len(*elems) {
			var zero T
			*elems = append(*elems, zero)
		}
		p.array, p.index = name, i
		err := readElem(p, &(*elems)[i])
		p.array = ""
		if err != nil {
			return err
		}
		i++
		done, err := p.next(']')
		if err != nil {
			return err
		}
		if done {
			*n = i
			return nil
		}
	}
}

// readKey parses an object key and the colon after it, leaving p.pos at
// the value. It matches the key as encoding/json does: exactly first, then
// case-insensitively.
func (p *parser) readKey(event bool) (field, error) {
	if p.peek() != '"' {
		return 0, p.errorf("expected a string key")
	}
	data := p.data
	if event {
		// Fast path for the keys as CloudWatch Logs writes them (the
		// value may still follow white space).
		rest := data[p.pos:]
		switch {
		case bytes.HasPrefix(rest, keyID):
			p.pos += len(keyID)
			p.skipWS()
			return fieldID, nil
		case bytes.HasPrefix(rest, keyTimestamp):
			p.pos += len(keyTimestamp)
			p.skipWS()
			return fieldTimestamp, nil
		case bytes.HasPrefix(rest, keyMessage):
			p.pos += len(keyMessage)
			p.skipWS()
			return fieldMessage, nil
		}
	}
	start := p.pos + 1
	end := start + scanPlain(data[start:])
	var key []byte
	if end < len(data) && data[end] == '"' {
		key = data[start:end]
		p.pos = end + 1
	} else {
		var err error
		if p.key, err = p.appendString(p.key[:0]); err != nil {
			return 0, err
		}
		key = p.key
	}
	if err := p.colon(); err != nil {
		return 0, err
	}
	if event {
		switch string(key) {
		case "id":
			return fieldID, nil
		case "timestamp":
			return fieldTimestamp, nil
		case "message":
			return fieldMessage, nil
		}
		return matchFolded(key, foldedEventKeys), nil
	}
	switch string(key) {
	case "messageType":
		return fieldMessageType, nil
	case "owner":
		return fieldOwner, nil
	case "logGroup":
		return fieldLogGroup, nil
	case "logStream":
		return fieldLogStream, nil
	case "policyLevel":
		return fieldPolicyLevel, nil
	case "subscriptionFilters":
		return fieldSubscriptionFilters, nil
	case "logEvents":
		return fieldLogEvents, nil
	}
	return matchFolded(key, foldedTopKeys), nil
}

// matchFolded returns the field whose folded name equals key's, or
// fieldUnknown.
func matchFolded(key []byte, keys []foldedKey) field {
	var buf [64]byte
	folded := appendFolded(buf[:0], key)
	for _, k := range keys {
		if string(folded) == k.name {
			return k.field
		}
	}
	return fieldUnknown
}

// foldName returns name in folded form.
func foldName(name string) string {
	return string(appendFolded(nil, []byte(name)))
}

// appendFolded appends the folded form of key to dst, as encoding/json
// folds names: ASCII letters to upper case, any other rune to the smallest
// rune of its Unicode simple-folding orbit (so "ſ" folds like "s", and the
// Kelvin sign like "k").
func appendFolded(dst, key []byte) []byte {
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

// foldRune returns the smallest rune of r's simple-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// readStringField parses a string or null; a string is stored in the arena
// and located by *dst, null leaves *dst untouched.
func (p *parser) readStringField(dst *span) error {
	switch p.peek() {
	case '"':
		off := len(p.arena)
		var err error
		if p.arena, err = p.appendString(p.arena); err != nil {
			return err
		}
		if len(p.arena) > p.lim.MaxDecompressedBytes {
			return fmt.Errorf("%w: json: %sstrings unescape to more than %d bytes (MaxDecompressedBytes)", ErrTooLarge, p.where(), p.lim.MaxDecompressedBytes)
		}
		*dst = span{off, len(p.arena) - off}
		return nil
	case 'n':
		return p.literal("null")
	}
	return p.errorf("expected a string")
}

// readTimestamp parses an integer that fits int64, or null (which leaves
// *dst untouched).
func (p *parser) readTimestamp(dst *int64) error {
	data := p.data
	i := p.pos
	if p.peek() == 'n' {
		return p.literal("null")
	}
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	start := i
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		return p.errorf("timestamp is not a number")
	}
	if i < len(data) && (data[i] == '.' || data[i] == 'e' || data[i] == 'E') {
		return p.errorf("timestamp is not an integer")
	}
	digits := data[start:i]
	if len(digits) > 19 {
		return p.errorf("timestamp overflows int64")
	}
	var u uint64
	if len(digits) >= 8 {
		u = eightDigits(binary.LittleEndian.Uint64(digits))
		digits = digits[8:]
	}
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u > 1<<63:
		return p.errorf("timestamp overflows int64")
	case !neg && u > 1<<63-1:
		return p.errorf("timestamp overflows int64")
	case neg:
		*dst = -int64(u)
	default:
		*dst = int64(u)
	}
	p.pos = i
	return nil
}

// appendString appends the unescaped contents of the string literal at
// p.pos to dst and moves p.pos past it. Escapes are decoded, a \uXXXX
// surrogate that is not part of a valid pair becomes U+FFFD, and each byte
// of invalid UTF-8 becomes U+FFFD, as in encoding/json. It fails once the
// string grows past lim.MaxMessageBytes.
func (p *parser) appendString(dst []byte) ([]byte, error) {
	data := p.data
	start, open := len(dst), p.pos
	i := p.pos + 1
	for {
		j := i + scanPlain(data[i:])
		dst = append(dst, data[i:j]...)
		if len(dst)-start > p.lim.MaxMessageBytes {
			p.pos = j
			return dst, fmt.Errorf("%w: json: %sstring at offset %d is over %d bytes (MaxMessageBytes)", ErrTooLarge, p.where(), open, p.lim.MaxMessageBytes)
		}
		if j >= len(data) {
			p.pos = j
			return dst, p.errorf("unexpected end of JSON input in string")
		}
		switch c := data[j]; {
		case c == '"':
			p.pos = j + 1
			return dst, nil
		case c == '\\':
			var err error
			if dst, i, err = p.appendEscape(dst, j); err != nil {
				return dst, err
			}
		case c < ' ':
			p.pos = j
			return dst, p.errorf("invalid character %q in string literal", c)
		default:
			// A run of non-ASCII runes.
			for j < len(data) && data[j] >= utf8.RuneSelf && len(dst)-start <= p.lim.MaxMessageBytes {
				r, size := utf8.DecodeRune(data[j:])
				if r == utf8.RuneError && size == 1 {
					dst = append(dst, "\uFFFD"...)
				} else {
					dst = append(dst, data[j:j+size]...)
				}
				j += size
			}
			i = j
		}
	}
}

// appendEscape appends the character the escape sequence at data[j] (a
// backslash) stands for and returns the index after the sequence.
func (p *parser) appendEscape(dst []byte, j int) ([]byte, int, error) {
	data := p.data
	if j+1 >= len(data) {
		p.pos = len(data)
		return dst, j, p.errorf("unexpected end of JSON input in string")
	}
	switch c := data[j+1]; c {
	case '"', '\\', '/':
		return append(dst, c), j + 2, nil
	case 'b':
		return append(dst, '\b'), j + 2, nil
	case 'f':
		return append(dst, '\f'), j + 2, nil
	case 'n':
		return append(dst, '\n'), j + 2, nil
	case 'r':
		return append(dst, '\r'), j + 2, nil
	case 't':
		return append(dst, '\t'), j + 2, nil
	case 'u':
		r := hex4(data, j+2)
		if r < 0 {
			p.pos = j
			return dst, j, p.errorf("invalid \\u escape in string")
		}
		k := j + 6
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if k+1 < len(data) && data[k] == '\\' && data[k+1] == 'u' {
				r2 = hex4(data, k+2)
			}
			if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
				return utf8.AppendRune(dst, dec), k + 6, nil
			}
			// A lone surrogate; what follows it is decoded on its own.
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(dst, r), k, nil
	}
	p.pos = j
	return dst, j, p.errorf("invalid escape %q in string", data[j+1])
}

// hex4 returns the value of the four hex digits at data[i:], or -1.
func hex4(data []byte, i int) rune {
	if i+4 > len(data) {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skipValue checks and skips one JSON value of any kind; depth is the
// number of arrays and objects enclosing it.
func (p *parser) skipValue(depth int) error {
	data := p.data
	stack := p.stack[:0]
	defer func() { p.stack = stack[:0] }()
	for {
		// A value is expected at p.pos.
		switch c := p.peek(); c {
		case '{', '[':
			if depth+len(stack)+1 > maxNestingDepth {
				return p.errorf("exceeded max depth")
			}
			p.pos++
			p.skipWS()
			if (c == '{' && p.peek() == '}') || (c == '[' && p.peek() == ']') {
				p.pos++
				break
			}
			stack = append(stack, c)
			if c == '{' {
				if err := p.skipKey(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if err := p.skipString(); err != nil {
				return err
			}
		case 't':
			if err := p.literal("true"); err != nil {
				return err
			}
		case 'f':
			if err := p.literal("false"); err != nil {
				return err
			}
		case 'n':
			if err := p.literal("null"); err != nil {
				return err
			}
		default:
			if err := p.skipNumber(); err != nil {
				return err
			}
		}
		// A value ended: close containers until one has a next element.
		for {
			if len(stack) == 0 {
				return nil
			}
			p.skipWS()
			top := stack[len(stack)-1]
			if p.pos >= len(data) {
				return p.errorf("unexpected end of JSON input")
			}
			c := data[p.pos]
			if c == ',' {
				p.pos++
				p.skipWS()
				if top == '{' {
					if err := p.skipKey(); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				p.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			return p.errorf("invalid character %q after %s element", c, containerName(top))
		}
	}
}

// containerName names the container an open bracket starts.
func containerName(open byte) string {
	if open == '{' {
		return "object"
	}
	return "array"
}

// skipKey checks and skips an object key and its colon.
func (p *parser) skipKey() error {
	if p.peek() != '"' {
		return p.errorf("expected a string key")
	}
	if err := p.skipString(); err != nil {
		return err
	}
	return p.colon()
}

// skipString checks and skips the string literal at p.pos. Like
// encoding/json's scanner it checks escapes and control characters but not
// UTF-8.
func (p *parser) skipString() error {
	data := p.data
	i := p.pos + 1
	for {
		i += scanString(data[i:])
		if i >= len(data) {
			p.pos = i
			return p.errorf("unexpected end of JSON input in string")
		}
		switch c := data[i]; c {
		case '"':
			p.pos = i + 1
			return nil
		case '\\':
			if i+1 >= len(data) {
				p.pos = i + 1
				return p.errorf("unexpected end of JSON input in string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(data, i+2) < 0 {
					p.pos = i
					return p.errorf("invalid \\u escape in string")
				}
				i += 6
			default:
				p.pos = i
				return p.errorf("invalid escape %q in string", data[i+1])
			}
		default:
			p.pos = i
			return p.errorf("invalid character %q in string literal", c)
		}
	}
}

// skipNumber checks and skips the number literal at p.pos.
func (p *parser) skipNumber() error {
	data := p.data
	i := p.pos
	digits := func() {
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		digits()
	default:
		p.pos = i
		return p.errorf("expected a value")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			p.pos = i
			return p.errorf("expected a digit after the decimal point")
		}
		digits()
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			p.pos = i
			return p.errorf("expected a digit in the exponent")
		}
		digits()
	}
	p.pos = i
	return nil
}

// literal checks and skips the literal lit (true, false or null) at p.pos.
func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		return p.errorf("expected %s", lit)
	}
	p.pos += len(lit)
	return nil
}

// colon skips white space, a colon and white space.
func (p *parser) colon() error {
	p.skipWS()
	if p.peek() != ':' {
		return p.errorf("expected ':' after object key")
	}
	p.pos++
	p.skipWS()
	return nil
}

// next skips white space and then either a comma and white space (false)
// or the closing bracket end (true).
func (p *parser) next(end byte) (bool, error) {
	if p.pos+1 < len(p.data) && p.data[p.pos] == ',' && p.data[p.pos+1] == '"' {
		p.pos++ // the common case: no white space
		return false, nil
	}
	p.skipWS()
	switch p.peek() {
	case ',':
		p.pos++
		p.skipWS()
		return false, nil
	case end:
		p.pos++
		return true, nil
	}
	if p.pos >= len(p.data) {
		return false, p.errorf("unexpected end of JSON input")
	}
	return false, p.errorf("invalid character %q, want ',' or %q", p.data[p.pos], end)
}

// skipWS skips JSON white space.
func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the byte at p.pos, or 0 at the end of the input (0 is
// invalid wherever peek is used, like the end).
func (p *parser) peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// errorf returns an ErrMalformed error located at p.pos.
func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: json: %soffset %d: %s", ErrMalformed, p.where(), p.pos, fmt.Sprintf(format, args...))
}

// where names the array element being parsed ("logEvents[3]: "), if any.
func (p *parser) where() string {
	if p.array == "" {
		return ""
	}
	return fmt.Sprintf("%s[%d]: ", p.array, p.index)
}
