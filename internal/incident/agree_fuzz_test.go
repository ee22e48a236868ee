package incident

import (
	"strings"
	"testing"
)

// secretShape builds one secret of a shape that Redact and the normaliser
// both promise to redact, from a body of random bytes: the text to put in
// a message and the part of it that must not reach a template or a sample.
type secretShape struct {
	name  string
	build func(body func(cs *charset, n int) string) (text, secret string)
}

// secretShapes are every shape the package documentation (and the README)
// promises: each prefixed token rule, JSON Web Tokens, secret pairs in
// their forms, the Bearer and Basic schemes, URL credentials, private-key
// blocks and payment card numbers.
func secretShapes() []secretShape {
	var shapes []secretShape
	for _, r := range tokenRules {
		shapes = append(shapes, secretShape{r.prefix, func(body func(*charset, int) string) (string, string) {
			s := r.prefix + body(r.body, r.min)
			return s, s
		}})
	}
	shapes = append(shapes, secretShape{"jwt", func(body func(*charset, int) string) (string, string) {
		s := "eyJ" + body(wordDash, 12) + "." + body(wordDash, 16) + "." + body(wordDash, 16)
		return s, s
	}})
	for _, key := range []string{"password", "db_password", "x-auth-token", "client_secret", "api_key", "AccountKey", "AWS_SECRET_ACCESS_KEY"} {
		for _, form := range []string{"%k=%v", "%k: %v", `"%k":"%v"`, `"%k": "%v"`, "%k='%v'", `%k=\"%v\"`, `{\"%k\":\"%v\"}`} {
			shapes = append(shapes, secretShape{form + " " + key, func(body func(*charset, int) string) (string, string) {
				v := body(alnum, 16)
				return strings.NewReplacer("%k", key, "%v", v).Replace(form), v
			}})
		}
	}
	for _, scheme := range []string{"Authorization: Bearer ", "Authorization: Basic ", "authorization=bearer ", "sent bearer "} {
		shapes = append(shapes, secretShape{scheme, func(body func(*charset, int) string) (string, string) {
			v := body(alnum, 24)
			return scheme + v, v
		}})
	}
	shapes = append(shapes,
		secretShape{"url credentials", func(body func(*charset, int) string) (string, string) {
			v := body(alnum, 16)
			return "postgres://app:" + v + "@db.internal:5432/orders", v
		}},
		secretShape{"private key", func(body func(*charset, int) string) (string, string) {
			v := body(alnum, 64)
			return "-----BEGIN RSA PRIVATE KEY-----\n" + v[:32] + "\n" + v[32:] + "\n-----END RSA PRIVATE KEY-----", v[:32]
		}},
		secretShape{"cut private key", func(body func(*charset, int) string) (string, string) {
			v := body(alnum, 48)
			return "-----BEGIN OPENSSH PRIVATE KEY-----\\n" + v, v
		}},
	)
	for _, sep := range []string{"", " ", "-"} {
		shapes = append(shapes, secretShape{"card " + sep, func(body func(*charset, int) string) (string, string) {
			v := luhnComplete(body(digitsOnly, 15))
			return v[:4] + sep + v[4:8] + sep + v[8:12] + sep + v[12:], v[4:12]
		}})
	}
	return shapes
}

var digitsOnly = newCharset("09")

// luhnComplete appends the Luhn check digit to digits.
func luhnComplete(digits string) string {
	b := []byte(digits + "0")
	for i := range b {
		b[i] -= '0'
	}
	for d := byte(0); d < 10; d++ {
		b[len(b)-1] = d
		if luhn(b) {
			return digits + string('0'+d)
		}
	}
	panic("unreachable")
}

// bodyFrom returns a generator of random bodies drawn from seed.
func bodyFrom(seed []byte) func(cs *charset, n int) string {
	k := 0
	return func(cs *charset, n int) string {
		var members []byte
		for c := range cs {
			if cs[c] {
				members = append(members, byte(c))
			}
		}
		b := make([]byte, n)
		for i := range b {
			x := k*7 + 13
			if len(seed) > 0 {
				x += int(seed[k%len(seed)])
			}
			b[i] = members[x%len(members)]
			k++
		}
		return string(b)
	}
}

// FuzzRedactionAgrees proves that the normaliser and Redact agree on every
// secret shape: whatever text surrounds a secret (each side bounded so that
// the secret lies in the bytes the normaliser reads), neither the template
// nor the stored template nor the sample holds it. The one exception, left
// out, is a shape that the text before makes the value of another secret
// pair: in token= "password":"x", Redact takes "password" for token's value
// and the key of x is gone.
func FuzzRedactionAgrees(f *testing.F) {
	shapes := secretShapes()
	for i := range shapes {
		f.Add(uint16(i), []byte("k3y-s33d"), "ERROR login failed", "user=bob")
	}
	f.Add(uint16(0), []byte{}, `{"level":"ERROR","msg":"`, `"}`)
	f.Add(uint16(1), []byte{1}, `level=ERROR msg="deploy`, `failed"`)
	f.Add(uint16(2), []byte{2}, "token=", "")
	f.Fuzz(func(t *testing.T, shape uint16, seed []byte, before, after string) {
		if len(before) > 1024 || len(after) > 1024 {
			return
		}
		sh := shapes[int(shape)%len(shapes)]
		text, secret := sh.build(bodyFrom(seed))
		if strings.Contains(before, secret[:len(secret)/2]) || strings.Contains(after, secret[len(secret)/2:]) ||
			strings.Contains(before+after, secret[len(secret)/4:len(secret)*3/4]) {
			return // the surrounding text quotes the secret itself
		}
		if endsWithSecretPair(before) {
			return // the shape is the value of another pair
		}
		msg := before + " " + text + " " + after
		template := Normalize(msg)
		for what, got := range map[string]string{
			"template":        template,
			"stored template": Redact(template),
			"redacted":        Redact(msg),
			"sample":          Sample(msg),
		} {
			if strings.Contains(got, secret) {
				t.Fatalf("%s: the %s holds the secret %q:\nmessage: %q\ngot:     %q", sh.name, what, secret, msg, got)
			}
		}
	})
}
