// Package awslogstest builds CloudWatch Logs subscription payloads for tests
// and benchmarks: realistic batches of log events, raw gzip+base64 wrapping
// of arbitrary documents, and decompression bombs. Everything it builds is
// deterministic.
package awslogstest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/logalert/logalert/internal/awslogs"
)

// Names used in the payloads RealisticBatch builds.
const (
	// Owner is the account id of the batch's log group.
	Owner = "123456789012"
	// LogGroup is the batch's log group.
	LogGroup = "/aws/lambda/checkout-api"
	// SubscriptionFilter is the name of the batch's subscription filter.
	SubscriptionFilter = "logalert-errors"
	// StartMillis is the timestamp of the batch's first event,
	// 2024-05-01T00:00:00Z.
	StartMillis = 1714521600000
)

// RealisticBatch returns a DATA_MESSAGE payload of events log events shaped
// like a busy Lambda function's log stream: Lambda START/END/REPORT lines,
// access logs and JSON-structured INFO lines, and among them error lines
// drawn from fingerprints templates whose
// variable parts (numbers, hex and UUID ids, IPs, durations, quoted values,
// timestamps) change from line to line. Some messages carry tabs, quotes or
// non-ASCII text, so they exercise JSON escaping.
//
// Every error line, and no other line, contains one of the words ERROR,
// FATAL or CRITICAL (upper case). Exactly round(events × errorFraction)
// events are error lines, spread
// evenly; the k-th error line (from 0) uses template k mod fingerprints, so
// every fingerprint gets the same share. Templates are distinct for any
// fingerprints ≥ 1. Timestamps increase from StartMillis. The same
// arguments always give the same payload. 10,000 events make about 2 MB of
// JSON.
func RealisticBatch(events int, errorFraction float64, fingerprints int, seed int64) *awslogs.Payload {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c6f67616c657274))
	events = max(events, 0)
	fingerprints = max(fingerprints, 1)
	errorFraction = min(max(errorFraction, 0), 1)
	nErr := int(float64(events)*errorFraction + 0.5)

	p := &awslogs.Payload{
		MessageType:         awslogs.MessageTypeData,
		Owner:               Owner,
		LogGroup:            LogGroup,
		LogStream:           "2024/05/01/[$LATEST]" + hexString(rng, 32),
		SubscriptionFilters: []string{SubscriptionFilter},
		LogEvents:           make([]awslogs.LogEvent, events),
	}
	ts := int64(StartMillis)
	k := 0
	for i := range events {
		ts += int64(rng.IntN(40))
		var msg string
		if (i+1)*nErr/events > i*nErr/events {
			msg = errorLine(rng, k%fingerprints, ts)
			k++
		} else {
			msg = infoLine(rng, ts)
		}
		p.LogEvents[i] = awslogs.LogEvent{ID: EventID(rng), Timestamp: ts, Message: msg}
	}
	return p
}

// EventID returns a random CloudWatch-style event id: 56 decimal digits.
func EventID(rng *rand.Rand) string {
	var b [56]byte
	b[0] = byte('1' + rng.IntN(9))
	for i := 1; i < len(b); i++ {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b[:])
}

// errorTemplates render error lines; each is one fingerprint.
var errorTemplates = []func(r *rand.Rand, ts int64) string{
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("%s\t%s\tERROR\tpayment declined for order %d: card issuer returned code %d", iso(ts), uuid(r), r.IntN(1e7), 5000+r.IntN(99))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR database timeout after %dms on host %s:5432 (attempt %d/5)", 1000+r.IntN(9000), ip(r, "10"), 1+r.IntN(5))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR failed to fetch user %s: upstream returned HTTP 503 after %d retries", uuid(r), r.IntN(4))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf(`{"level":"ERROR","time":"%s","msg":"cache miss storm","keys":%d,"node":"redis-%d","request_id":"%s"}`, iso(ts), r.IntN(1e5), r.IntN(12), uuid(r))
	},
	func(r *rand.Rand, ts int64) string {
		n := 1 + r.IntN(64)
		return fmt.Sprintf("FATAL panic: runtime error: index out of range [%d] with length %d\n\ngoroutine %d [running]:\nmain.handler(...)", n, r.IntN(n), r.IntN(500))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("CRITICAL disk usage at %d%% on /dev/nvme%dn1 (%d GiB free)", 90+r.IntN(10), r.IntN(4), r.IntN(20))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR s3 GetObject s3://orders-archive/exports/%s.csv failed: AccessDenied (request id %s)", hexString(r, 16), strings.ToUpper(hexString(r, 16)))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR connection reset by peer %s:%d while writing %d bytes", ip(r, "172.16"), 1024+r.IntN(60000), r.IntN(1<<16))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf(`ERROR order %d rejected: insufficient stock for sku "SKU-%d" in warehouse "eu-west-%d"`, r.IntN(1e7), r.IntN(1e5), 1+r.IntN(3))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("%s %s ERROR Task timed out after %d.%02d seconds", iso(ts), uuid(r), 3+r.IntN(27), r.IntN(100))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR RequestId: %s Error: Runtime exited with error: exit status %d\nRuntime.ExitError", uuid(r), 1+r.IntN(2))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR dynamodb PutItem on table incidents: ConditionalCheckFailedException for incident %s (version %d)", hexString(r, 24), r.IntN(40))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR retry budget exhausted for queue https://sqs.us-east-1.amazonaws.com/123456789012/jobs-%d after %d attempts", r.IntN(8), 3+r.IntN(5))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR invalid JWT for client 0x%s: token expired at %s", hexString(r, 12), iso(ts-int64(r.IntN(86400000))))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("FATAL out of memory: allocated %d MB of %d MB, last allocation %d bytes", 400+r.IntN(112), 512, r.IntN(1<<24))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR\tjava.lang.NullPointerException: Cannot invoke \"Cart.total()\"\n\tat com.example.Checkout.price(Checkout.java:%d)\n\tat com.example.Handler.handleRequest(Handler.java:%d)", 100+r.IntN(300), 20+r.IntN(80))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR rate limited by partner API (HTTP 429), retry after %d s, trace id %s", 1+r.IntN(60), hexString(r, 32))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("CRITICAL TLS certificate for api-%d.example.com expires in %d days", r.IntN(20), r.IntN(7))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR unexpected EOF reading request body from %s after %d of %d bytes", ip(r, "192.168"), r.IntN(4096), 4096+r.IntN(1<<20))
	},
	func(r *rand.Rand, ts int64) string {
		return fmt.Sprintf("ERROR échec de l’envoi de la facture n°%d au client « %s » — délai dépassé (%d ms)", r.IntN(1e6), hexString(r, 8), 5000+r.IntN(5000))
	},
}

// errorLine renders an error line of fingerprint template t (any t ≥ 0; past
// the built-in templates a distinct alphabetic component name keeps them
// apart) for an event at ts.
func errorLine(rng *rand.Rand, t int, ts int64) string {
	line := errorTemplates[t%len(errorTemplates)](rng, ts)
	if extra := t / len(errorTemplates); extra > 0 {
		line += " [component " + letters(extra) + "]"
	}
	return line
}

// infoLine renders a line that is not an error.
func infoLine(r *rand.Rand, ts int64) string {
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("START RequestId: %s Version: $LATEST", uuid(r))
	case 1:
		return fmt.Sprintf("END RequestId: %s", uuid(r))
	case 2:
		return fmt.Sprintf("REPORT RequestId: %s\tDuration: %d.%02d ms\tBilled Duration: %d ms\tMemory Size: 512 MB\tMax Memory Used: %d MB\t", uuid(r), r.IntN(900), r.IntN(100), 1+r.IntN(900), 60+r.IntN(200))
	case 3:
		return fmt.Sprintf(`%s - - [%s] "GET /api/orders/%d HTTP/1.1" 200 %d "-" "Mozilla/5.0 (X11; Linux x86_64)" %dms`, ip(r, "203.0.113"), iso(ts), r.IntN(1e7), r.IntN(1e5), r.IntN(300))
	case 4:
		return fmt.Sprintf(`{"level":"info","time":"%s","msg":"request completed","method":"POST","path":"/api/carts/%d/items","status":201,"latency_ms":%d}`, iso(ts), r.IntN(1e6), r.IntN(500))
	default:
		return fmt.Sprintf("%s\t%s\tINFO\tcache hit ratio 0.%02d for shard %d, %d keys warm", iso(ts), uuid(r), r.IntN(100), r.IntN(64), r.IntN(1e6))
	}
}

// iso formats a millisecond timestamp as Lambda does.
func iso(ms int64) string {
	const day = 86_400_000
	d := ms % day
	return fmt.Sprintf("2024-05-%02dT%02d:%02d:%02d.%03dZ", 1+(ms-StartMillis)/day%28, d/3_600_000, d/60_000%60, d/1000%60, d%1000)
}

// uuid returns a random version-4-shaped UUID.
func uuid(r *rand.Rand) string {
	h := hexString(r, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// ip returns a random address with the given leading octets.
func ip(r *rand.Rand, prefix string) string {
	s := prefix
	for range 4 - strings.Count(prefix, ".") - 1 {
		s += fmt.Sprintf(".%d", r.IntN(256))
	}
	return s
}

// hexString returns n random lower-case hex digits.
func hexString(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// letters spells n ≥ 1 with the letters g to z, which no normaliser mistakes
// for digits or hex.
func letters(n int) string {
	const alphabet = "ghijklmnopqrstuvwxyz"
	var b []byte
	for ; n > 0; n /= len(alphabet) {
		b = append(b, alphabet[n%len(alphabet)])
	}
	return string(b)
}

// Compress returns doc gzipped (default level, no name or modification
// time) and base64-encoded: an awslogs.data string for any bytes, valid
// JSON or not.
func Compress(doc []byte) string {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(doc) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

// Inflate is the inverse of Compress: it base64-decodes data and inflates
// it, without limits (for tests and benchmarks that need the document).
func Inflate(data string) ([]byte, error) {
	zip, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(zip))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// Bomb returns an awslogs.data string whose gzip stream inflates to
// inflated bytes: the start of a valid DATA_MESSAGE whose first message is
// an endless run of "A". It compresses about a thousandfold, so a 64 MiB
// bomb is about 90 KiB of base64.
func Bomb(inflated int) string {
	return base64.StdEncoding.EncodeToString(bombGzip(inflated))
}

// BombWithLyingTrailer is Bomb with the gzip trailer's size field set to
// 1 KiB, so that a decoder cannot rely on it to size its buffer. (The
// stream then fails its size check, but only after inflating all of it.)
func BombWithLyingTrailer(inflated int) string {
	z := bombGzip(inflated)
	copy(z[len(z)-4:], []byte{0, 4, 0, 0})
	return base64.StdEncoding.EncodeToString(z)
}

// bombGzip returns the gzip stream of Bomb.
func bombGzip(inflated int) []byte {
	prefix := `{"messageType":"DATA_MESSAGE","owner":"` + Owner + `","logGroup":"` + LogGroup +
		`","logStream":"bomb","subscriptionFilters":["` + SubscriptionFilter +
		`"],"logEvents":[{"id":"1","timestamp":` + fmt.Sprint(StartMillis) + `,"message":"`
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // a valid level cannot fail
	_, _ = zw.Write([]byte(prefix[:min(len(prefix), inflated)]))
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for left := inflated - len(prefix); left > 0; left -= len(chunk) {
		_, _ = zw.Write(chunk[:min(left, len(chunk))])
	}
	_ = zw.Close()
	return z.Bytes()
}
