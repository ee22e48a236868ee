package incident

import (
	"strings"
	"unicode/utf8"
)

// MaxTemplateInput is how many bytes of a message Normalize reads.
const MaxTemplateInput = 4096

// Normalize returns the template of a message: the message with its
// variable parts replaced by placeholders (see the package documentation).
func Normalize(message string) string {
	return string(appendTemplate(nil, message))
}

// appendTemplate appends the template of message to dst. It allocates only
// when dst must grow, so the grouping loop can reuse one buffer.
func appendTemplate(dst []byte, message string) []byte {
	msg := truncateUTF8(message, MaxTemplateInput)
	json := isJSONObject(msg)
	var (
		lastWord string // the last word or JSON key, a candidate secret key
		valueOf  string // the key before the last = or :, whose value may follow
		pending  bool   // a secret key and its separator were seen: redact the next value
	)
	for i := 0; i < len(msg); {
		c := msg[i]
		if c == '-' {
			if header, body, ok := privateKeyAt(msg, i); ok { // the footer is normalised as text
				dst = append(dst, msg[i:header]...)
				dst = append(dst, "<redacted>"...)
				pending, lastWord, valueOf = false, "", ""
				i = body
				continue
			}
		}
		switch {
		case pending && c == '\\' && i+1 < len(msg) && (msg[i+1] == '"' || msg[i+1] == '\''):
			// A value in escaped quotes (password=\"x y\"): up to the
			// matching escaped quote, or the end of a cut line.
			q := msg[i : i+2]
			end := strings.Index(msg[i+2:], q)
			if end < 0 {
				end = len(msg)
			} else {
				end += i + 4
			}
			dst = append(dst, q...)
			dst = append(dst, "<redacted>"...)
			dst = append(dst, q...)
			pending, lastWord = false, ""
			i = end
		case pending && c != ' ' && c != '\t' && c != '"' && c != '\'':
			j := i
			for j < len(msg) && !isValueEnd(msg[j]) {
				j++
			}
			if isAuthScheme(msg[i:j]) { // "Authorization: Bearer <token>"
				dst = append(dst, msg[i:j]...)
			} else {
				dst = append(dst, "<redacted>"...)
				pending = false
			}
			lastWord = ""
			i = j
		case c == '"' || (c == '\'' && !json && (i == 0 || !isAlnum(msg[i-1]))):
			end := closingQuote(msg, i)
			if end < 0 {
				dst = append(dst, c)
				i++
				continue
			}
			content := msg[i+1 : end]
			switch {
			case pending:
				dst = append(dst, c)
				dst = append(dst, "<redacted>"...)
				dst = append(dst, c)
				pending, lastWord = false, ""
			case isSeparator(content) && isSecretKey(lastWord):
				// The closing quote of a key and the opening one of its
				// value, paired up after a stray quote: "password":"x".
				dst = append(dst, msg[i:end+1]...)
				pending = true
				i = end + 1
				continue
			case json && isKeyAt(msg, end+1) && !holdsSecret(content):
				dst = append(dst, msg[i:end+1]...)
				lastWord = content
			case json && isKeyAt(msg, end+1): // a secret as a key
				dst = append(dst, c)
				dst = append(dst, "<redacted>"...)
				dst = append(dst, c)
				lastWord = ""
			case json || isTextKey(valueOf):
				// JSON strings, and the quoted message of a logfmt line
				// (msg="payment failed"), are text: normalised, not
				// replaced, or every line of a logger would be one incident.
				// Escaped quotes inside are quotes again, so that a secret
				// quoted in the text (password=\"x\") is seen as one.
				dst = append(dst, c)
				dst = appendTemplate(dst, unescapeQuotes(content))
				dst = append(dst, c)
				lastWord = ""
			default:
				dst = append(dst, c)
				dst = append(dst, "<*>"...)
				dst = append(dst, c)
				lastWord = ""
			}
			// A quote that looked closing may have opened a value, after a
			// stray quote: ' password='x'.
			pending = endsWithSecretPair(content)
			valueOf = ""
			i = end + 1
		case isAlnum(c) || c == '_' || c == '-':
			j, all, any := tokenEnd(msg, i)
			tok := msg[i:j]
			// Trailing dots and dashes are punctuation, not part of the value.
			trimmed := trimPunct(tok)
			if len(trimmed) != len(tok) {
				all, any = classes(trimmed)
			}
			switch {
			case any&classDigit == 0 && hasSecretToken(tok) || any&classDigit != 0 && secretAt(tok, 0) > 0:
				// A word is kept, so any secret in it must go; a token with
				// a digit becomes a placeholder anyway, unless it starts
				// with a secret (an AWS access key id, a JWT).
				dst = append(dst, "<redacted>"...)
				lastWord, valueOf = "", ""
				i = j
				continue
			case len(trimmed) == len("bearer") && strings.EqualFold(trimmed, "bearer"): // a bearer token follows, anywhere
				dst = append(dst, trimmed...)
				pending = true
			default:
				dst = appendToken(dst, trimmed, all, any)
			}
			dst = append(dst, tok[len(trimmed):]...)
			lastWord, valueOf = trimmed, ""
			i = j
		case c == ':' && i+2 < len(msg) && msg[i+1] == '/' && msg[i+2] == '/' && !isSecretKey(lastWord):
			// scheme://user:password@host
			pass, at, ok := urlPasswordAt(msg, i)
			if !ok {
				dst = append(dst, "://"...)
				lastWord, valueOf = "", ""
				i += 3
				continue
			}
			dst = append(dst, "://"...)
			dst = appendTemplate(dst, msg[i+3:pass-1])
			dst = append(dst, ":<redacted>"...)
			pending, lastWord, valueOf = false, "", ""
			i = at
		default:
			dst = append(dst, c)
			switch {
			case (c == '=' || c == ':') && isSecretKey(lastWord):
				pending = true
			case c == '=':
				valueOf, lastWord = lastWord, "" // logfmt's key=value
			case c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '\\': // a key in escaped quotes: \"password\":
				lastWord, valueOf = "", ""
			}
			i++
		}
	}
	return dst
}

// appendToken appends tok or the placeholder that stands for it. Numbers
// and hex ids share one placeholder: a random hex id is now and then all
// digits (2% of 8-digit ids) or all letters, and one error quoting random
// ids must stay one incident.
// all and any are the intersection and union of its bytes' classes.
func appendToken(dst []byte, tok string, all, any byte) []byte {
	if tok == "" {
		return dst
	}
	hexID := len(tok) >= 8 && all&classHex != 0 || len(tok) > 2 && tok[0] == '0' && tok[1] == 'x' && isHex(tok[2:])
	switch {
	case any&classDigit == 0 && !hexID:
		// A word: the common case.
		return append(dst, tok...)
	case hexID || isNumber(tok):
		return append(dst, "<num>"...)
	case isIPv4(tok):
		return append(dst, "<ip>"...)
	case isUUID(tok):
		return append(dst, "<uuid>"...)
	case isTimestamp(tok):
		return append(dst, "<ts>"...)
	default:
		return append(dst, "<id>"...)
	}
}

// Byte classes, as bit sets in byteClass.
const (
	classDigit = 1 << iota // 0-9
	classHex               // 0-9 a-f A-F
	classWord              // letters, digits, _ . -: continue a token
)

var byteClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case isDigit(b):
			t[c] = classDigit | classHex | classWord
		case isHexDigit(b):
			t[c] = classHex | classWord
		case isLetter(b), b == '_', b == '.', b == '-':
			t[c] = classWord
		}
	}
	return t
}()

// tokenEnd returns the end of the token starting at i — letters, digits
// and _ . - and, once the token holds a digit, : between alphanumerics
// (times, IPv4 ports, IPv6) — and the intersection and union of its bytes'
// classes.
func tokenEnd(s string, i int) (end int, all, any byte) {
	all = 0xff
	for ; i < len(s); i++ {
		c := byteClass[s[i]]
		switch {
		case c&classWord != 0:
		case s[i] == ':' && any&classDigit != 0 && i+1 < len(s) && isAlnum(s[i+1]):
		default:
			return i, all, any
		}
		all &= c
		any |= c
	}
	return i, all, any
}

// classes returns the intersection and union of the classes of tok's bytes.
func classes(tok string) (all, any byte) {
	all = 0xff
	for i := 0; i < len(tok); i++ {
		all &= byteClass[tok[i]]
		any |= byteClass[tok[i]]
	}
	return all, any
}

// closingQuote returns the index of the quote that closes the one at i,
// skipping backslash escapes, or -1.
func closingQuote(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return -1
}

// isKeyAt reports whether a JSON key/value colon follows position i.
func isKeyAt(s string, i int) bool { return nextNonSpace(s, i) == ':' }

// isJSONObject reports whether s starts, after white space, with '{'.
func isJSONObject(s string) bool { return nextNonSpace(s, 0) == '{' }

// nextNonSpace returns the first byte of s from i on that is not white
// space, or 0 when there is none.
func nextNonSpace(s string, i int) byte {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return s[i]
		}
	}
	return 0
}

func isSecretKey(word string) bool {
	if len(word) < 3 || len(word) > 64 {
		return false
	}
	for _, suf := range secretKeySuffixes {
		if len(word) >= len(suf) && strings.EqualFold(word[len(word)-len(suf):], suf) {
			return true
		}
	}
	return false
}

// unescapeQuotes returns s with the backslash escapes of quotes and
// backslashes undone (\" \' \\); it allocates only when s has one.
func unescapeQuotes(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'' || s[i+1] == '\\') {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

// textKeys are the logfmt keys whose quoted values are text to normalise,
// not values to replace: the message and the level.
var textKeys = []string{
	"msg", "message", "error", "err", "reason", "cause", "exception", "event",
	"detail", "details", "description", "summary", "level", "lvl", "severity",
}

// isTextKey reports whether key is one of textKeys, in any case.
func isTextKey(key string) bool {
	if key == "" {
		return false
	}
	for _, k := range textKeys {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

// isAuthScheme reports whether tok is an HTTP authentication scheme that
// comes before the credentials in an Authorization value: Bearer or Basic.
func isAuthScheme(tok string) bool {
	return (len(tok) == len("bearer") && strings.EqualFold(tok, "bearer")) ||
		(len(tok) == len("basic") && strings.EqualFold(tok, "basic"))
}

// isSeparator reports whether s is a key/value separator, = or :, with
// white space around it.
func isSeparator(s string) bool {
	s = strings.TrimSpace(s)
	return s == ":" || s == "="
}

// endsWithSecretPair reports whether s ends with a secret key and its
// separator (password=, "token": ), so that what follows s is a secret.
func endsWithSecretPair(s string) bool {
	j := len(s)
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j == 0 || s[j-1] != '=' && s[j-1] != ':' {
		return false
	}
	s = strings.TrimRight(s[:j-1], " \t\"'\\")
	j = len(s)
	for j > 0 && byteClass[s[j-1]]&classWord != 0 {
		j--
	}
	return isSecretKey(s[j:])
}

// isValueEnd reports whether c ends an unquoted secret value.
func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', '&', '"', '\'', '}', ')', ']':
		return true
	}
	return false
}

func isNumber(tok string) bool {
	tok = strings.TrimPrefix(tok, "-")
	dot := false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case isDigit(c):
		case c == '.' && !dot && i > 0 && i < len(tok)-1:
			dot = true
		default:
			return false
		}
	}
	return tok != ""
}

// isIPv4 accepts a dotted quad with an optional :port.
func isIPv4(tok string) bool {
	if host, port, ok := strings.Cut(tok, ":"); ok {
		if !isNumber(port) {
			return false
		}
		tok = host
	}
	parts := 0
	for tok != "" {
		part, rest, _ := strings.Cut(tok, ".")
		if len(part) == 0 || len(part) > 3 || !isNumber(part) {
			return false
		}
		parts++
		tok = rest
	}
	return parts == 4
}

func isUUID(tok string) bool {
	if len(tok) != 36 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		switch i {
		case 8, 13, 18, 23:
			if tok[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(tok[i]) {
				return false
			}
		}
	}
	return true
}

// isTimestamp accepts dates and times: digits joined by - : . and the
// ISO 8601 letters T and Z, with at least one - or :.
func isTimestamp(tok string) bool {
	if !isDigit(tok[0]) {
		return false
	}
	separator := false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c == '-', c == ':':
			separator = true
		case isDigit(c), c == '.', c == 'T', c == 'Z':
		default:
			return false
		}
	}
	return separator
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool    { return isDigit(c) || isLetter(c) }
func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// truncateUTF8 returns the longest prefix of s of at most n bytes that does
// not split a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// trimPunct drops trailing dots and dashes.
func trimPunct(tok string) string {
	n := len(tok)
	for n > 0 && (tok[n-1] == '.' || tok[n-1] == '-') {
		n--
	}
	return tok[:n]
}
