// Package incident turns matching log events into incidents: it grades
// severity, fingerprints messages, redacts secrets and groups the events of
// one delivery so that each incident is written once per delivery.
//
// # Fingerprints
//
// Two events belong to the same incident when they come from the same log
// group and their messages differ only in variable parts. Normalize rewrites
// a message into its template, replacing every variable part with a
// placeholder:
//
//	<num>   numbers (integers, decimals, signed) and hex ids (8 or more
//	        hex digits, or 0x...), in one placeholder since a random hex
//	        id may be all digits or all letters
//	<ip>    IPv4 addresses
//	<uuid>  UUIDs
//	<ts>    timestamps and dates (tokens of digits joined by - : . T Z)
//	<id>    any other token that contains a digit (user42, req-7f3a)
//	"<*>"   quoted values ('...' or "..."), outside JSON messages and
//	        except after a logfmt text key (msg=, message=, error=, level=
//	        and a few more)
//	<redacted>  secrets: the value after a secret key (password=,
//	        token: ...), bearer tokens, URL passwords, prefixed tokens
//	        (AWS access key ids, JWTs, ghp_, glpat-, xoxb-, sk_live_,
//	        AIza, npm_ and the rest of tokenRules) and the bodies of
//	        private-key blocks, as Redact recognises them
//
// A message that is a JSON object keeps its structure: keys stay, and string
// values are normalised token by token instead of replaced whole, so that
// {"msg":"db timeout"} and {"msg":"disk full"} stay apart. So do the quoted
// messages of logfmt lines (Go's slog text handler, logrus, zap's console
// encoder): level=ERROR msg="db timeout" and level=ERROR msg="disk full"
// are two incidents.
//
// Normalize reads at most MaxTemplateInput bytes of a message, so memory
// and time stay bounded on oversize lines; two messages that agree on that
// prefix form one incident. The fingerprint is a hash of the template and the
// incident ID a hash of log group and fingerprint, so the same error in two
// log groups is two incidents.
//
// # Redaction
//
// Redact removes secrets (password=/secret=/token=-style pairs in
// key=value, key: value and JSON form, bearer and basic credentials,
// credentials in URLs, tokens of a well-known prefix such as AWS access key
// ids, JWTs, GitHub, GitLab, Slack, Stripe, Google and npm tokens, PEM
// private-key blocks and Luhn-valid payment card numbers) from the sample
// message before anything is stored or published; Truncate bounds it to a
// valid UTF-8 prefix. A Redactor (NewRedactor) adds a deployment's own
// regular expressions.
//
// The normaliser and Redact share the recognisers of the shapes that need
// no key (secrets.go); FuzzRedactionAgrees checks that neither lets any
// promised shape through.
package incident
