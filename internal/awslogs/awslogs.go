package awslogs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klauspost/compress/gzip"
)

// Message types of a subscription payload.
const (
	// MessageTypeData marks a payload that carries log events.
	MessageTypeData = "DATA_MESSAGE"
	// MessageTypeControl marks a payload CloudWatch Logs sends to check that
	// the destination is reachable; it carries no log events to process.
	MessageTypeControl = "CONTROL_MESSAGE"
)

// ErrMalformed reports a payload that is not valid base64, gzip or JSON, or
// that lacks a required field.
var ErrMalformed = errors.New("awslogs: malformed payload")

// ErrTooLarge reports a payload that exceeds one of the Limits.
var ErrTooLarge = errors.New("awslogs: payload over limit")

// LogEvent is one log event of a subscription payload.
type LogEvent struct {
	// ID is the event's unique id, a decimal string of about 56 digits.
	ID string
	// Timestamp is the event time in milliseconds since the Unix epoch.
	Timestamp int64
	// Message is the log line.
	Message string
}

// Payload is a decoded subscription payload.
type Payload struct {
	// MessageType is MessageTypeData or MessageTypeControl.
	MessageType string
	// Owner is the AWS account id of the log group's owner.
	Owner string
	// LogGroup is the name of the log group the events come from.
	LogGroup string
	// LogStream is the name of the log stream the events come from.
	LogStream string
	// SubscriptionFilters names the subscription filters that matched.
	SubscriptionFilters []string
	// LogEvents are the delivered events, in delivery order.
	LogEvents []LogEvent
	// PolicyLevel is set on deliveries of account-level subscription
	// policies (for example "ACCOUNT_LEVEL_POLICY") and empty otherwise.
	PolicyLevel string
	// DecompressedBytes is the size of the inflated JSON document, set by
	// Decode (for metrics); Encode ignores it.
	DecompressedBytes int
}

// Limits bounds the resources one Decode may use: its memory stays under
// about 4 × MaxDecompressedBytes + 2 × MaxEncodedBytes whatever the input.
// A zero or negative field takes its value from DefaultLimits, so the zero
// Limits is DefaultLimits.
type Limits struct {
	// MaxEncodedBytes caps the length of the base64 data string.
	MaxEncodedBytes int
	// MaxDecompressedBytes caps the size of the inflated JSON document,
	// and the total size of the strings decoded from it. It is enforced
	// while inflating, so memory stays bounded whatever the gzip stream
	// claims.
	MaxDecompressedBytes int
	// MaxEvents caps the number of log events in one payload, and the
	// number of its subscription filters.
	MaxEvents int
	// MaxMessageBytes caps the size of one message, in bytes of UTF-8
	// after JSON unescaping, and of every other string in the payload
	// (names and ids are far shorter in genuine payloads).
	MaxMessageBytes int
}

// DefaultLimits are limits that every genuine delivery fits with room to
// spare, while keeping the memory of one decode at a few tens of MiB:
//
//   - MaxEncodedBytes, 1 MiB: Lambda caps an asynchronous invocation
//     payload at 1 MB (256 KB until late 2025), and the data string is part
//     of that payload, so nothing larger can come from a real delivery.
//   - MaxDecompressedBytes, 16 MiB: a delivery holds events of one
//     PutLogEvents-sized batch (at most 1 MiB of messages, 10,000 events);
//     with ids, timestamps and JSON framing that is about 2–3 MiB, and even
//     messages made only of control characters (escaped six-fold as
//     \u00XX) stay under 8 MiB. 16 MiB keeps twice that margin and stops a
//     decompression bomb after 16 MiB.
//   - MaxEvents, 10,000: the most events one PutLogEvents call accepts.
//   - MaxMessageBytes, 1 MiB: the largest event CloudWatch Logs accepts
//     (1 MB since April 2025; 256 KB before).
//
// A payload over a limit fails with ErrTooLarge, so it is retried and then
// lands in the dead-letter queue rather than being dropped; raise a limit
// with a custom Limits value if a real source needs it.
var DefaultLimits = Limits{
	MaxEncodedBytes:      1 << 20,
	MaxDecompressedBytes: 16 << 20,
	MaxEvents:            10_000,
	MaxMessageBytes:      1 << 20,
}

// orDefault returns l with zero or negative fields replaced by DefaultLimits.
func (l Limits) orDefault() Limits {
	if l.MaxEncodedBytes <= 0 {
		l.MaxEncodedBytes = DefaultLimits.MaxEncodedBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = DefaultLimits.MaxDecompressedBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultLimits.MaxEvents
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultLimits.MaxMessageBytes
	}
	return l
}

// idleDecoders is how many idle Decoders Decode and View keep.
const idleDecoders = 4

// maxIdleDecoderBytes is the most buffer memory an idle Decoder may keep:
// several times what a genuine delivery needs (2–3 MiB of JSON, its copy
// and its events). A Decoder that grew past it, on a hostile or unusual
// payload near MaxDecompressedBytes, is dropped after use.
const maxIdleDecoderBytes = 16 << 20

// decoders is the free list of idle Decoders behind Decode and View. It is
// a bounded channel rather than a sync.Pool, because every garbage
// collection empties a sync.Pool, and in a Lambda function, which
// allocates a few MB per delivery, that is nearly every invocation: the
// buffers would be allocated afresh each time. Idle memory stays under
// idleDecoders × maxIdleDecoderBytes.
var decoders = make(chan *Decoder, idleDecoders)

// getDecoder returns an idle Decoder, or a new one.
func getDecoder() *Decoder {
	select {
	case d := <-decoders:
		return d
	default:
		return new(Decoder)
	}
}

// putDecoder keeps d for a later call, unless its buffers are too large or
// enough Decoders are idle already.
func putDecoder(d *Decoder) {
	if d.bufferBytes() > maxIdleDecoderBytes {
		return
	}
	select {
	case decoders <- d:
	default:
	}
}

// Decode decodes one awslogs.data string under lim and validates it: a
// DATA_MESSAGE needs a messageType, logGroup, logStream and at least one
// event, each with an id, a positive timestamp and a non-empty message; a
// CONTROL_MESSAGE needs only its messageType. Every error wraps ErrMalformed
// or ErrTooLarge. Decode is safe for concurrent use; it borrows an idle
// Decoder, and the returned Payload shares no memory with it.
func Decode(data string, lim Limits) (*Payload, error) {
	d := getDecoder()
	d.Limits = lim
	p := new(Payload)
	err := d.Decode(data, p)
	putDecoder(d)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// wirePayload is the JSON form of a Payload, in the field order CloudWatch
// Logs uses.
type wirePayload struct {
	MessageType         string      `json:"messageType"`
	Owner               string      `json:"owner"`
	LogGroup            string      `json:"logGroup"`
	LogStream           string      `json:"logStream"`
	SubscriptionFilters []string    `json:"subscriptionFilters"`
	LogEvents           []wireEvent `json:"logEvents"`
	PolicyLevel         string      `json:"policyLevel,omitempty"`
}

// wireEvent is the JSON form of a LogEvent.
type wireEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// Encode returns the awslogs.data string for p: its JSON document (fields
// in CloudWatch Logs' order, nil slices as [], policyLevel only when set),
// gzipped at the default level with a header that has no name and no
// modification time, then base64-encoded. The output depends only on p.
// Encode does not validate p, so it can also build malformed payloads for
// tests. Invalid UTF-8 in p's strings is replaced by U+FFFD. It is meant
// for tests, samples and the local twin, not for a hot path.
func Encode(p *Payload) (string, error) {
	z, err := EncodeGzip(p)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(z), nil
}

// EncodeGzip is Encode without the base64: the gzip stream a CloudWatch
// Logs destination writes into a Kinesis record (see ViewGzip).
func EncodeGzip(p *Payload) ([]byte, error) {
	w := wirePayload{
		MessageType:         p.MessageType,
		Owner:               p.Owner,
		LogGroup:            p.LogGroup,
		LogStream:           p.LogStream,
		SubscriptionFilters: p.SubscriptionFilters,
		LogEvents:           make([]wireEvent, len(p.LogEvents)),
		PolicyLevel:         p.PolicyLevel,
	}
	if w.SubscriptionFilters == nil {
		w.SubscriptionFilters = []string{}
	}
	for i, e := range p.LogEvents {
		w.LogEvents[i] = wireEvent(e)
	}
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, fmt.Errorf("encode awslogs json: %w", err)
	}
	raw := bytes.TrimSuffix(doc.Bytes(), []byte("\n"))

	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip awslogs json: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip awslogs json: %w", err)
	}
	return z.Bytes(), nil
}
