package incident_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/incident"
)

// fake returns prefix followed by n bytes of an obviously fake body.
func fake(prefix string, n int) string {
	return prefix + strings.Repeat("a1B2", n/4+1)[:n]
}

func TestRedactWellKnownTokens(t *testing.T) {
	hex := func(prefix string, n int) string { return prefix + strings.Repeat("0f", n)[:n] }
	tests := []struct{ name, secret string }{
		{"github classic", fake("ghp_", 36)},
		{"github oauth", fake("gho_", 36)},
		{"github user-to-server", fake("ghu_", 36)},
		{"github server-to-server", fake("ghs_", 36)},
		{"github refresh", fake("ghr_", 36)},
		{"github fine-grained", fake("github_pat_", 82)},
		{"gitlab", fake("glpat-", 20)},
		{"slack bot", "xoxb-1234567890-1234567890123-" + fake("", 24)},
		{"slack user", fake("xoxp-", 40)},
		{"slack app", fake("xapp-1-", 30)},
		{"stripe live", fake("sk_live_", 24)},
		{"stripe restricted", fake("rk_live_", 24)},
		{"stripe test", fake("sk_test_", 24)},
		{"google api key", fake("AIza", 35)},
		{"npm", fake("npm_", 36)},
		{"openai", fake("sk-proj-", 48)},
		{"anthropic", fake("sk-ant-api03-", 93)},
		{"sendgrid", "SG." + fake("", 22) + "." + fake("", 43)},
		{"twilio", hex("SK", 32)},
		{"heroku", fake("HRKU-", 60)},
		{"shopify", hex("shpat_", 32)},
		{"digitalocean", hex("dop_v1_", 64)},
		{"pypi", fake("pypi-AgEIcHlwaS5vcmc", 60)},
		{"age", "AGE-SECRET-KEY-1" + strings.Repeat("QPZRY9X8GF", 6)[:58]},
		{"vault", fake("hvs.", 90)},
		{"aws access key id", "AKIAIOSFODNN7EXAMPLE"},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, msg := range []string{
				"ERROR push rejected with " + tc.secret + " for repo",
				`{"level":"ERROR","msg":"auth failed","key":"` + tc.secret + `"}`,
				"ERROR auth failed (" + tc.secret + ")",
			} {
				want := strings.Replace(msg, tc.secret, "<redacted>", 1)
				assert.Equal(t, want, incident.Redact(msg))
				assert.NotContains(t, incident.Normalize(msg), tc.secret)
			}
		})
	}
}

func TestRedactLeavesLookalikes(t *testing.T) {
	for _, msg := range []string{
		"ERROR task-runner failed",                 // sk- needs 32 bytes after it
		"ERROR xghp_" + fake("", 36) + " rejected", // no word boundary before the prefix
		"ERROR " + fake("ghp_", 20) + " short",     // too short for a GitHub token
		"ERROR AKIAIOSFODNN7EXAMPLEX is 21 bytes",  // one byte too long for a key id
		"ERROR -----BEGIN CERTIFICATE----- is no private key",
		"ERROR order 1234567812345678 failed", // 16 digits, fails the Luhn check
		"ERROR order 4111111111111111999 and more digits 41111111111111119999",
		"ERROR at 2026-11-25 14:00:00 retry 1 of 3",
	} {
		assert.Equal(t, msg, incident.Redact(msg))
	}
}

func TestRedactPrivateKeys(t *testing.T) {
	body := "MIIEowIBAAKCAQEA" + strings.Repeat("x7Yq", 16)
	tests := []struct{ name, in, want string }{
		{"rsa", "ERROR bad key -----BEGIN RSA PRIVATE KEY-----\n" + body + "\n" + body + "\n-----END RSA PRIVATE KEY----- loaded",
			"ERROR bad key -----BEGIN RSA PRIVATE KEY-----<redacted>-----END RSA PRIVATE KEY----- loaded"},
		{"escaped newlines in json", `{"msg":"key -----BEGIN PRIVATE KEY-----\n` + body + `\n-----END PRIVATE KEY-----\n"}`,
			`{"msg":"key -----BEGIN PRIVATE KEY-----<redacted>-----END PRIVATE KEY-----\n"}`},
		{"pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + body + "\n-----END PGP PRIVATE KEY BLOCK-----",
			"-----BEGIN PGP PRIVATE KEY BLOCK-----<redacted>-----END PGP PRIVATE KEY BLOCK-----"},
		{"cut before its end", "ERROR -----BEGIN OPENSSH PRIVATE KEY-----\n" + body, "ERROR -----BEGIN OPENSSH PRIVATE KEY-----<redacted>"},
		{"after a secret key", "private_key: -----BEGIN EC PRIVATE KEY-----\n" + body + "\n-----END EC PRIVATE KEY-----",
			"private_key: <redacted> EC PRIVATE KEY-----<redacted>-----END EC PRIVATE KEY-----"}, // the pair takes the header's first word
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.Redact(tc.in))
			assert.NotContains(t, incident.Normalize(tc.in), "x7Yq")
		})
	}
}

func TestRedactCardNumbers(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unbroken", "ERROR charge failed card=4111111111111111 amount=12", "ERROR charge failed card=<redacted> amount=12"},
		{"spaced", "ERROR card 4111 1111 1111 1111 declined", "ERROR card <redacted> declined"},
		{"dashed", "ERROR card 5500-0000-0000-0004 declined", "ERROR card <redacted> declined"},
		{"amex groups", "ERROR card 3782 822463 10005 declined", "ERROR card <redacted> declined"},
		{"13 digits", "ERROR card 4222222222222 declined", "ERROR card <redacted> declined"},
		{"then a number", "ERROR card 4111 1111 1111 1111 2 times", "ERROR card <redacted> 2 times"},
		{"in json", `{"card":"4111111111111111"}`, `{"card":"<redacted>"}`},
		{"order id without luhn stays", "ERROR order 4111111111111112 failed", "ERROR order 4111111111111112 failed"},
		{"spaced order id without luhn stays", "ERROR order 1234 5678 1234 5678 failed", "ERROR order 1234 5678 1234 5678 failed"},
		{"inside a word stays", "ERROR id ord4111111111111111 failed", "ERROR id ord4111111111111111 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.Redact(tc.in))
		})
	}
}

func TestRedactMoreKeys(t *testing.T) {
	assert.Equal(t,
		"ERROR DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=<redacted>;EndpointSuffix=core.windows.net",
		incident.Redact("ERROR DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=bm90IGEgcmVhbCBrZXk+/w==;EndpointSuffix=core.windows.net"))
	assert.Equal(t, "ERROR dial redis://cache:<redacted>@10.0.0.1:6379 and https://x:<redacted>@h",
		incident.Redact("ERROR dial redis://cache:s3cr3t@10.0.0.1:6379 and https://x:y@h"))
}

func TestNormalizeWellKnownTokens(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"prefixed token without digits", "ERROR push with ghp_" + strings.Repeat("abcdefghij", 4)[:36] + " denied", "ERROR push with <redacted> denied"},
		{"token after a dot", "ERROR key cfg.AIza" + strings.Repeat("aBcD", 9)[:35] + " rejected", "ERROR key <redacted> rejected"},
		{"token with a digit after a dot is an id", "ERROR key cfg." + fake("AIza", 35) + " rejected", "ERROR key <id> rejected"},
		{"token with a digit", "ERROR key " + fake("AIza", 35) + " rejected", "ERROR key <redacted> rejected"},
		{"token with a trailing dash", "ERROR " + fake("glpat-", 20) + "- rejected", "ERROR <redacted> rejected"},
		{"url credentials", "ERROR dial postgres://app:opensesame@db:5432/x", "ERROR dial postgres://app:<redacted>@db:<num>/x"},
		{"url without credentials", "ERROR GET https://example.com/a failed", "ERROR GET https://example.com/a failed"},
		{"private key", "ERROR -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY----- bad", "ERROR -----BEGIN PRIVATE KEY-----<redacted>-----END PRIVATE KEY----- bad"},
		{"secret as a json key", `{"` + fake("ghp_", 36) + `":1}`, `{"<redacted>":<num>}`},
		{"pair after a stray quote", `ERROR " "db_password":"letmein" 0`, `ERROR "<*>"db_password":"<redacted>" <num>`},
		{"value after a stray single quote", `ERROR ' password='letmein' 0`, `ERROR '<*>'<redacted>' <num>`},
		{"escaped json at the top", `ERROR body {\"password\":\"letmein\"}`, `ERROR body {\"password\":\"<redacted>\"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.Normalize(tc.in))
		})
	}
}

func TestNewRedactor(t *testing.T) {
	r, err := incident.NewRedactor([]string{`acme-[a-z]{8}`, `(?i)internal secret \w+`})
	require.NoError(t, err)
	assert.Equal(t, "ERROR key <redacted> and <redacted> with password=<redacted>",
		r.Redact("ERROR key acme-abcdefgh and Internal Secret sesame with password=x"))
	assert.Equal(t, "ERROR key <redacted>", r.Sample("ERROR key acme-abcdefgh"))
	assert.Equal(t, "ERROR key acme-abcdefgh", incident.Redact("ERROR key acme-abcdefgh"), "no pattern of its own")
	var none *incident.Redactor
	assert.Equal(t, "password=<redacted>", none.Redact("password=x"))

	_, err = incident.NewRedactor([]string{`ok-[0-9]+`, `(unclosed`, `a*`, `[z-a]`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `pattern "(unclosed"`)
	assert.Contains(t, err.Error(), `pattern "a*" matches the empty string`)
	assert.Contains(t, err.Error(), `pattern "[z-a]"`)
	assert.NotContains(t, err.Error(), "ok-")
}

// A deployment's own patterns apply to templates before they are
// fingerprinted: two events that differ only in such a secret are one
// incident, and neither the template nor the sample holds it.
func TestGroupRedactsOwnPatterns(t *testing.T) {
	r, err := incident.NewRedactor([]string{`acme-[a-z]{8}`})
	require.NoError(t, err)
	p := &awslogs.Payload{LogGroup: "/app/a", LogEvents: []awslogs.LogEvent{
		{ID: "1", Timestamp: 1, Message: "ERROR key acme-abcdefgh refused"},
		{ID: "2", Timestamp: 3, Message: "ERROR key acme-zyxwvuts refused"},
		{ID: "3", Timestamp: 2, Message: "ERROR disk full"},
	}}
	g := r.Group(p, containsMatcher("ERROR"))
	require.Len(t, g.Deltas, 2)
	byTemplate := map[string]incident.Delta{}
	for _, d := range g.Deltas {
		byTemplate[d.Template] = d
	}
	d, ok := byTemplate["ERROR key <redacted> refused"]
	require.True(t, ok, "templates: %v", byTemplate)
	assert.Equal(t, int64(2), d.Count)
	assert.Equal(t, "ERROR key <redacted> refused", d.Sample)
	assert.Equal(t, incident.Fingerprint("ERROR key <redacted> refused"), d.Fingerprint)
	assert.Equal(t, int64(3), d.LastSeen.UnixMilli())
	assert.Equal(t, int64(1), d.FirstSeen.UnixMilli())

	// Without patterns of its own, fingerprints are those of the templates.
	plain := incident.Group(p, containsMatcher("ERROR"))
	require.Len(t, plain.Deltas, 3)
	for _, d := range plain.Deltas {
		assert.Equal(t, incident.Fingerprint(d.Template), d.Fingerprint)
	}
}
