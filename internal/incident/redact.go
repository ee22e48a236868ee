package incident

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxSampleBytes bounds the sample message stored with an incident, so an
// item stays far below DynamoDB's 400 KB item limit.
const MaxSampleBytes = 2048

// redactions run in order; each keeps the key and replaces the secret.
// A regexp runs only on messages that contain one of its triggers (in lower
// case), or, for the secret-pair ones (pair), only on messages where
// secretPair finds a secret key with its separator: redaction stays cheap
// for the common message with no secret.
var redactions = []struct {
	triggers []string
	pair     bool
	re       *regexp.Regexp
	repl     string
}{
	// Values in escaped quotes, at any depth of escaping, as a quoted
	// message carries them: msg="login password=\"x\"", {\"token\":\"x\"},
	// "{\"body\":\"{\\\"password\\\":\\\"x\\\"}\"}".
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `(?:\\*["'])?\s*[:=]\s*)(\\+)"(?:[^"\\]|\\+[^"\\])*(\\+)"`), `${1}${2}"<redacted>${3}"`},
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `(?:\\*["'])?\s*[:=]\s*)(\\+)'(?:[^'\\]|\\+[^'\\])*(\\+)'`), `${1}${2}'<redacted>${3}'`},
	// Quoted values of secret keys, escaped quotes and all: "password":
	// "x\"y", token='x'.
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `["']?\s*[:=]\s*)"(?:[^"\\]|\\.)*"`), `${1}"<redacted>"`},
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `["']?\s*[:=]\s*)'(?:[^'\\]|\\.)*'`), `${1}'<redacted>'`},
	// Unquoted values of secret keys, a Bearer or Basic scheme included:
	// password=x, Authorization: Bearer x. A value starts with anything but
	// a quote or a backslash (the quoted forms above have run).
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `["']?\s*[:=]\s*)(?:(?:bearer|basic)\s+)?[^\s,;&"'})\]<\\][^\s,;&"'})\]<]*`), "${1}<redacted>"},
	// A value whose quote never closes (a cut line): up to the next blank.
	{nil, true, regexp.MustCompile(`(?i)(` + secretKey + `(?:\\*["'])?\s*[:=]\s*)\\*["'][^\s"'\\<][^\s"'\\]*`), "${1}<redacted>"},
	// Bearer tokens anywhere else.
	{[]string{"bearer"}, false, regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}<redacted>"},
}

// secretKeySuffixes are the key names, matched as case-insensitive suffixes
// (db_password, x-auth-token, githubToken, AWS_SECRET_ACCESS_KEY), whose
// values are secrets. Redact and the normaliser share them.
var secretKeySuffixes = []string{
	"password", "passwd", "pwd", "secret", "token", "authorization", "credential", "credentials",
	"apikey", "api_key", "api-key", "private_key", "private-key", "privatekey",
	"secret_key", "secret-key", "secretkey", "access_key", "access-key", "accesskey",
	"accountkey", // Azure storage connection strings: AccountKey=...
}

// secretKey matches a key name with one of secretKeySuffixes.
var secretKey = `[\w.-]*(?:` + strings.Join(quoteAll(secretKeySuffixes), "|") + `)`

// secretPair finds a secret key followed by its separator, the start of
// every secret pair the pair redactions replace.
var secretPair = regexp.MustCompile(`(?i)(?:` + strings.Join(quoteAll(secretKeySuffixes), "|") + `)(?:\\*["'])?\s*[:=]`)

// quoteAll returns ss with regexp.QuoteMeta applied to each.
func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}

// secretTriggers hold a substring of every one of secretKeySuffixes: a
// message without any of them (in lower case) has no secret pair.
var secretTriggers = []string{"pass", "pwd", "secret", "token", "authorization", "credential", "api", "private", "access", "accountkey"}

// Redact returns message with the secrets it recognises replaced by
// <redacted> (see the package documentation): the body of private-key
// blocks; credentials in URLs; the values of password=, secret:, "token":
// and similar pairs; bearer tokens; tokens of a well-known shape (AWS
// access key ids, JSON Web Tokens, GitHub, GitLab, Slack, Stripe, Google,
// npm and other prefixed keys); and payment card numbers that pass the
// Luhn check.
func Redact(message string) string {
	message = redactURLPasswords(redactPrivateKeys(message))
	lower := strings.ToLower(message)
	pairs := containsAny(lower, secretTriggers) && secretPair.MatchString(message)
	for _, r := range redactions {
		if r.pair && !pairs || !r.pair && !containsAny(lower, r.triggers) {
			continue
		}
		message = r.re.ReplaceAllString(message, r.repl)
	}
	return redactTokens(message)
}

// A Redactor redacts what Redact does and a deployment's own patterns.
// A nil *Redactor redacts what Redact does.
type Redactor struct {
	patterns []*regexp.Regexp
}

// NewRedactor compiles patterns, regular expressions in Go's RE2 syntax
// whose every match is a secret, into a Redactor. It reports every pattern
// that does not compile or that matches the empty string.
func NewRedactor(patterns []string) (*Redactor, error) {
	r := &Redactor{}
	var errs []error
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("pattern %q: %w", p, err))
		case re.MatchString(""):
			errs = append(errs, fmt.Errorf("pattern %q matches the empty string", p))
		default:
			r.patterns = append(r.patterns, re)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// Redact returns message with what Redact replaces, then every match of
// r's patterns, replaced by <redacted>.
func (r *Redactor) Redact(message string) string {
	return r.redactPatterns(Redact(message))
}

// redactPatterns returns s with every match of r's own patterns replaced
// by <redacted>.
func (r *Redactor) redactPatterns(s string) string {
	if r == nil {
		return s
	}
	for _, re := range r.patterns {
		s = re.ReplaceAllLiteralString(s, "<redacted>")
	}
	return s
}

// hasPatterns reports whether r has patterns of its own.
func (r *Redactor) hasPatterns() bool { return r != nil && len(r.patterns) > 0 }

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Truncate bounds s to at most n bytes without splitting a UTF-8 sequence,
// marking a cut with "…".
func Truncate(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n-len(ellipsis)) + ellipsis
}

// Sample is the stored form of a message: invalid UTF-8 replaced, secrets
// redacted, bounded to MaxSampleBytes. It reads at most twice
// MaxSampleBytes of the message, so its cost is bounded too; the margin lets
// a secret that straddles the cut still be recognised and redacted.
func Sample(message string) string {
	return (*Redactor)(nil).Sample(message)
}

// Sample is Sample, redacting with r.
func (r *Redactor) Sample(message string) string {
	message = truncateUTF8(message, 2*MaxSampleBytes)
	return Truncate(r.Redact(strings.ToValidUTF8(message, "\uFFFD")), MaxSampleBytes)
}
