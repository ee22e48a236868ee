package incident

import (
	"regexp"
	"strings"
)

// MaxSampleBytes bounds the sample message stored with an incident, so an
// item stays far below DynamoDB's 400 KB item limit.
const MaxSampleBytes = 2048

// redactions run in order; each keeps the key and replaces the secret.
var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Credentials in URLs: scheme://user:secret@host.
	{regexp.MustCompile(`(://[^:/\s@]+:)[^@/\s]+@`), "${1}<redacted>@"},
	// Quoted values of secret keys: "password": "x", token='x'.
	{regexp.MustCompile(`(?i)(` + secretKey + `["']?\s*[:=]\s*)(["'])[^"']*["']`), "${1}${2}<redacted>${2}"},
	// Unquoted values of secret keys, a bearer token included:
	// password=x, Authorization: Bearer x.
	{regexp.MustCompile(`(?i)(` + secretKey + `["']?\s*[:=]\s*)(?:bearer\s+)?[^\s,;&"'})\]<]+`), "${1}<redacted>"},
	// Bearer tokens anywhere else.
	{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}<redacted>"},
	// JSON Web Tokens.
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`), "<redacted>"},
	// AWS access key ids.
	{regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA)[A-Z0-9]{16}\b`), "<redacted>"},
}

// secretKey matches key names whose values are secrets (db_password,
// x-auth-token, client_secret, ...).
const secretKey = `[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|credentials|private[_-]?key)`

// Redact returns message with the secrets it recognises replaced by
// <redacted>: AWS access key ids, bearer tokens, JWTs, credentials in URLs
// and the values of password=, secret:, "token": and similar pairs.
func Redact(message string) string {
	for _, r := range redactions {
		message = r.re.ReplaceAllString(message, r.repl)
	}
	return message
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
// redacted, bounded to MaxSampleBytes.
func Sample(message string) string {
	return Truncate(Redact(strings.ToValidUTF8(message, "\uFFFD")), MaxSampleBytes)
}
