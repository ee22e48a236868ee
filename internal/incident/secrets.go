package incident

import "strings"

// This file holds the secret shapes that need no key before them: tokens
// recognised by a well-known prefix (the prefix rules of common secret
// scanners' default configurations), JSON Web Tokens, PEM private-key
// blocks, payment card numbers and credentials in URLs. Redact and the normaliser both call
// these functions, so they recognise exactly the same shapes.

// charset is a set of bytes, as a lookup table.
type charset [256]bool

// newCharset returns the set of the bytes in ranges, read as pairs of
// bounds ("azAZ09") followed by single bytes after a space ("az _-").
func newCharset(ranges string) *charset {
	var cs charset
	pairs, singles, _ := strings.Cut(ranges, " ")
	for i := 0; i+1 < len(pairs); i += 2 {
		for c := int(pairs[i]); c <= int(pairs[i+1]); c++ {
			cs[c] = true
		}
	}
	for i := 0; i < len(singles); i++ {
		cs[singles[i]] = true
	}
	return &cs
}

// The body alphabets of the prefix rules. None holds a byte that ends a
// normaliser token (white space, quotes, = : / + and the like), so a
// secret the rules find in a message lies inside one normaliser token.
var (
	alnum      = newCharset("azAZ09")
	word       = newCharset("azAZ09 _")
	wordDash   = newCharset("azAZ09 _-")
	wordDot    = newCharset("azAZ09 _-.")
	hexDigits  = newCharset("afAF09")
	upperDigit = newCharset("AZ09")
)

// A tokenRule recognises a secret that stands alone: prefix, then a run of
// at least min bytes of body (at most max when max > 0), not followed by a
// word byte.
type tokenRule struct {
	prefix   string
	body     *charset
	min, max int
}

// tokenRules are the prefixed secret shapes, most after gitleaks' default
// rules. Every prefix starts with a letter.
var tokenRules = []tokenRule{
	// AWS access key ids: long-term (AKIA), temporary (ASIA) and the other
	// unique-id kinds.
	{"AKIA", upperDigit, 16, 16}, {"ASIA", upperDigit, 16, 16}, {"ABIA", upperDigit, 16, 16},
	{"ACCA", upperDigit, 16, 16}, {"AGPA", upperDigit, 16, 16}, {"AIDA", upperDigit, 16, 16},
	{"AIPA", upperDigit, 16, 16}, {"ANPA", upperDigit, 16, 16}, {"ANVA", upperDigit, 16, 16},
	{"AROA", upperDigit, 16, 16},
	// GitHub: personal, OAuth, user-to-server, server-to-server, refresh,
	// fine-grained.
	{"ghp_", alnum, 36, 0}, {"gho_", alnum, 36, 0}, {"ghu_", alnum, 36, 0}, {"ghs_", alnum, 36, 0},
	{"ghr_", alnum, 36, 0}, {"github_pat_", word, 60, 0},
	// GitLab tokens.
	{"glpat-", wordDash, 20, 0}, {"gldt-", wordDash, 20, 0}, {"glrt-", wordDash, 20, 0},
	{"glptt-", wordDash, 20, 0}, {"glcbt-", wordDash, 20, 0}, {"glft-", wordDash, 20, 0},
	{"glimt-", wordDash, 20, 0}, {"glagent-", wordDash, 20, 0}, {"gloas-", wordDash, 20, 0},
	{"glsoat-", wordDash, 20, 0}, {"glffct-", wordDash, 20, 0}, {"GR1348941", wordDash, 20, 0},
	// Slack tokens: bot, user, app, refresh, legacy and configuration.
	{"xoxa-", wordDash, 10, 0}, {"xoxb-", wordDash, 10, 0}, {"xoxe-", wordDash, 10, 0},
	{"xoxo-", wordDash, 10, 0}, {"xoxp-", wordDash, 10, 0}, {"xoxr-", wordDash, 10, 0},
	{"xoxs-", wordDash, 10, 0}, {"xapp-", wordDash, 10, 0},
	// Stripe secret, restricted and webhook keys, live and test.
	{"sk_live_", alnum, 10, 0}, {"sk_test_", alnum, 10, 0}, {"sk_prod_", alnum, 10, 0},
	{"rk_live_", alnum, 10, 0}, {"rk_test_", alnum, 10, 0}, {"rk_prod_", alnum, 10, 0},
	{"whsec_", alnum, 24, 0},
	// Google API keys, OAuth client secrets and access tokens.
	{"AIza", wordDash, 35, 0}, {"GOCSPX-", wordDash, 24, 0}, {"ya29.", wordDash, 30, 0},
	// npm and PyPI.
	{"npm_", alnum, 36, 0}, {"pypi-AgEIcHlwaS5vcmc", wordDash, 50, 0},
	// OpenAI (sk-, sk-proj-), Anthropic (sk-ant-) and other sk- API keys.
	{"sk-", wordDash, 32, 0},
	// SendGrid, Twilio API keys, Heroku.
	{"SG.", wordDot, 60, 0}, {"SK", hexDigits, 32, 32}, {"HRKU-", wordDash, 40, 0},
	// Shopify, DigitalOcean.
	{"shpat_", hexDigits, 32, 0}, {"shpca_", hexDigits, 32, 0}, {"shppa_", hexDigits, 32, 0},
	{"shpss_", hexDigits, 32, 0},
	{"dop_v1_", hexDigits, 64, 0}, {"doo_v1_", hexDigits, 64, 0}, {"dor_v1_", hexDigits, 64, 0},
	// age secret keys.
	{"AGE-SECRET-KEY-1", upperDigit, 58, 0},
	// Other prefixed tokens of gitleaks' default rules.
	{"dapi", hexDigits, 32, 0},                           // Databricks
	{"hvs.", wordDash, 24, 0}, {"hvb.", wordDash, 24, 0}, // HashiCorp Vault
	{"dp.pt.", alnum, 40, 0}, {"dp.st.", alnum, 40, 0}, // Doppler
	{"dt0c01.", wordDot, 80, 0},                       // Dynatrace
	{"PMAK-", wordDash, 50, 0},                        // Postman
	{"lin_api_", alnum, 40, 0},                        // Linear
	{"hf_", alnum, 34, 0}, {"api_org_", alnum, 34, 0}, // Hugging Face
	{"glc_", alnum, 32, 0}, {"glsa_", word, 40, 0}, // Grafana
	{"sntrys_", word, 40, 0}, {"sntryu_", hexDigits, 64, 0}, // Sentry
	{"pul-", hexDigits, 40, 0},                                      // Pulumi
	{"pnu_", alnum, 36, 0},                                          // Prefect
	{"rubygems_", hexDigits, 48, 0},                                 // RubyGems
	{"rdme_", alnum, 70, 0},                                         // ReadMe
	{"tk-us-", wordDash, 48, 0},                                     // Scalingo
	{"pscale_tkn_", wordDot, 32, 0}, {"pscale_pw_", wordDot, 32, 0}, // PlanetScale
	{"pscale_oauth_", wordDot, 32, 0},
	{"shippo_live_", hexDigits, 40, 0}, {"shippo_test_", hexDigits, 40, 0}, // Shippo
	{"xkeysib-", wordDash, 64, 0},                  // Brevo (Sendinblue)
	{"EZAK", alnum, 54, 0}, {"EZTK", alnum, 54, 0}, // EasyPost
	{"duffel_live_", wordDash, 43, 0}, {"duffel_test_", wordDash, 43, 0}, // Duffel
	{"FLWSECK-", wordDash, 12, 0}, {"FLWSECK_TEST-", wordDash, 12, 0}, // Flutterwave
	{"fo1_", wordDash, 43, 0},                                  // Fly.io
	{"fio-u-", wordDash, 64, 0},                                // Frame.io
	{"ico-", alnum, 32, 0},                                     // Infracost
	{"p8e-", alnum, 32, 0},                                     // Adobe
	{"LTAI", alnum, 20, 0},                                     // Alibaba Cloud
	{"ops_eyJ", word, 64, 0},                                   // 1Password
	{"sq0atp-", wordDash, 22, 0}, {"sq0csp-", wordDash, 22, 0}, // Square
	{"EAAA", wordDash, 60, 0},
	{"EAAC", alnum, 100, 0}, {"EAAM", alnum, 100, 0}, // Facebook
	{"CLOJARS_", alnum, 60, 0},   // Clojars
	{"ATATT3", wordDash, 100, 0}, // Atlassian
	{"sha256~", wordDash, 43, 0}, // OpenShift
	{"sgp_", word, 40, 0},        // Sourcegraph
	{"tfp_", wordDot, 59, 0},     // Typeform
}

// rulesByFirst indexes tokenRules by their prefix's first byte, and
// shortestFrom holds, per first byte, the shortest secret that starts with
// it (jwtMin for the e of eyJ), so that most positions are rejected by two
// table lookups. shortestRule is the shortest secret of any rule.
var rulesByFirst, shortestFrom, shortestRule = func() (by [256][]tokenRule, shortest [256]int, all int) {
	for _, r := range tokenRules {
		c := r.prefix[0]
		by[c] = append(by[c], r)
		n := len(r.prefix) + r.min
		if shortest[c] == 0 || n < shortest[c] {
			shortest[c] = n
		}
		if all == 0 || n < all {
			all = n
		}
	}
	shortest['e'] = jwtMin
	return by, shortest, all
}()

// jwtMin is the length of the shortest token secretAt takes for a JSON Web
// Token: eyJ and two dots.
const jwtMin = len("eyJ..")

// isWordByte reports whether c is a regexp word byte: [A-Za-z0-9_].
func isWordByte(c byte) bool { return word[c] }

// secretAt returns the end of the prefixed secret or JSON Web Token that
// starts at s[i], or -1. A secret starts at a word boundary.
func secretAt(s string, i int) int {
	c := s[i]
	if shortestFrom[c] == 0 || len(s)-i < shortestFrom[c] || i > 0 && isWordByte(s[i-1]) {
		return -1
	}
	if c == 'e' {
		return jwtAt(s, i)
	}
	for _, r := range rulesByFirst[c] {
		if !strings.HasPrefix(s[i:], r.prefix) {
			continue
		}
		j := i + len(r.prefix)
		for j < len(s) && r.body[s[j]] {
			j++
		}
		n := j - i - len(r.prefix)
		if n >= r.min && (r.max == 0 || n <= r.max) && (j == len(s) || !isWordByte(s[j])) {
			return j
		}
	}
	return -1
}

// jwtAt returns the end of the JSON Web Token at s[i], or -1: eyJ ('{"'
// base64url-encoded) and three base64url parts joined by dots.
func jwtAt(s string, i int) int {
	if !strings.HasPrefix(s[i:], "eyJ") {
		return -1
	}
	j, dots := i+3, 0
	for ; j < len(s); j++ {
		if s[j] == '.' {
			if dots == 2 {
				break
			}
			dots++
		} else if !wordDash[s[j]] {
			break
		}
	}
	if dots < 2 {
		return -1
	}
	return j
}

// hasSecretToken reports whether s holds a prefixed secret or a JSON Web
// Token. It looks only at the start of each run of word bytes, and in a
// string shorter than every prefixed secret only for a JSON Web Token at
// its start.
func hasSecretToken(s string) bool {
	if len(s) < shortestRule {
		return strings.HasPrefix(s, "eyJ") && jwtAt(s, 0) > 0
	}
	for i := 0; i < len(s); {
		if secretAt(s, i) > 0 {
			return true
		}
		for i++; i < len(s) && isWordByte(s[i]); i++ {
		}
		for ; i < len(s) && !isWordByte(s[i]); i++ {
		}
	}
	return false
}

// pemBegin starts every PEM block.
const pemBegin = "-----BEGIN "

// privateKeyAt returns the bounds of the body of the PEM private-key block
// (-----BEGIN RSA PRIVATE KEY-----, -----BEGIN PGP PRIVATE KEY
// BLOCK-----, ...) whose header starts at s[i]: s[header:body], up to its
// footer, or to the end of s when the footer is missing (a cut message).
// ok is false when no private-key header starts at i.
func privateKeyAt(s string, i int) (header, body int, ok bool) {
	if !strings.HasPrefix(s[i:], pemBegin) {
		return 0, 0, false
	}
	label := i + len(pemBegin)
	n := strings.Index(s[label:min(len(s), label+100)], "-----")
	if n < 0 {
		return 0, 0, false
	}
	kind := s[label : label+n]
	if !strings.HasSuffix(kind, "PRIVATE KEY") && !strings.HasSuffix(kind, "PRIVATE KEY BLOCK") {
		return 0, 0, false
	}
	header = label + n + len("-----")
	footer := strings.Index(s[header:], "-----END ")
	if footer < 0 {
		return header, len(s), true
	}
	return header, header + footer, true
}

// cardAt returns the end of the payment card number that starts at s[i],
// or -1: 13 to 19 digits that pass the Luhn check, either unbroken or in
// groups (the first of 4 digits, the others of 3 to 6) joined by one space
// or one dash throughout, with no word byte on either side.
func cardAt(s string, i int) int {
	if i > 0 && isWordByte(s[i-1]) || !isDigit(s[i]) {
		return -1
	}
	var (
		digits       [19]byte
		n, group     int
		sep          byte // the group separator, once seen
		end          = i
		groupedEnd   = -1 // the end and digits of the groups before the last one
		groupedCount int
	)
	for j := i; j < len(s); j++ {
		c := s[j]
		if isDigit(c) {
			if n == len(digits) {
				return -1
			}
			digits[n] = c - '0'
			n, group, end = n+1, group+1, j+1
			continue
		}
		if (c == ' ' || c == '-') && j+1 < len(s) && isDigit(s[j+1]) &&
			(sep == 0 && n == 4 || sep == c && group >= 3 && group <= 6) {
			sep, group, groupedEnd, groupedCount = c, 0, end, n
			continue
		}
		break
	}
	if sep != 0 && group < 3 { // a short last group is not the card's
		end, n = groupedEnd, groupedCount
	}
	if end < len(s) && isWordByte(s[end]) || n < 13 || !luhn(digits[:n]) {
		return -1
	}
	return end
}

// luhn reports whether digits pass the Luhn checksum.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i])
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// redactEach returns s with s[from:to] replaced by <redacted> for every
// span that find reports at an occurrence of marker; it allocates only when
// find reports one.
func redactEach(s, marker string, find func(s string, i int) (from, to int, ok bool)) string {
	var b []byte
	last := 0 // s[:last] is in b
	for i := strings.Index(s, marker); i >= 0; {
		next := i + len(marker)
		if from, to, ok := find(s, i); ok {
			b = append(append(b, s[last:from]...), "<redacted>"...)
			last, next = to, max(to, next)
		}
		n := strings.Index(s[next:], marker)
		if n < 0 {
			break
		}
		i = next + n
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// redactPrivateKeys returns message with the body of every private-key
// block redacted.
func redactPrivateKeys(message string) string {
	return redactEach(message, pemBegin, privateKeyAt)
}

// redactTokens returns message with every prefixed secret, JSON Web Token
// and payment card number redacted; it allocates only when it finds one.
func redactTokens(message string) string {
	var b []byte
	last := 0 // message[:last] is in b
	for i := 0; i < len(message); {
		end := -1
		if c := message[i]; isDigit(c) {
			end = cardAt(message, i)
		} else if shortestFrom[c] != 0 {
			end = secretAt(message, i)
		}
		if end > 0 {
			b = append(append(b, message[last:i]...), "<redacted>"...)
			i, last = end, end
			continue
		}
		// Only the first byte of a run of word bytes may start a secret.
		for i++; i < len(message) && isWordByte(message[i]) && isWordByte(message[i-1]); i++ {
		}
	}
	if b == nil {
		return message
	}
	return string(append(b, message[last:]...))
}

// holdsSecret reports whether s holds a prefixed secret, a JSON Web Token
// or a payment card number.
func holdsSecret(s string) bool { return redactTokens(s) != s }

// urlPasswordAt returns the bounds of the password of the URL credentials
// (scheme://user:password@host) whose "://" starts at s[i]: s[pass:at],
// with s[at] == '@'. ok is false when there are none.
func urlPasswordAt(s string, i int) (pass, at int, ok bool) {
	if !strings.HasPrefix(s[i:], "://") {
		return 0, 0, false
	}
	j := i + 3
	for j < len(s) && !isURLUserEnd(s[j]) {
		j++
	}
	if j == i+3 || j == len(s) || s[j] != ':' {
		return 0, 0, false
	}
	pass = j + 1
	for at = pass; at < len(s) && s[at] != '@' && s[at] != '/' && !isSpace(s[at]); at++ {
	}
	if at == pass || at == len(s) || s[at] != '@' {
		return 0, 0, false
	}
	return pass, at, true
}

// isURLUserEnd reports whether c ends the user name of URL credentials.
func isURLUserEnd(c byte) bool { return c == ':' || c == '/' || c == '@' || isSpace(c) }

// isSpace reports whether c is white space as RE2's \s: \t \n \f \r or a
// space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// redactURLPasswords returns message with the password of every URL
// credentials redacted.
func redactURLPasswords(message string) string {
	return redactEach(message, "://", urlPasswordAt)
}
