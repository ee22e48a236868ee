// Package awslogs decodes and encodes CloudWatch Logs subscription payloads:
// the awslogs.data string a Lambda function receives when a subscription
// filter delivers log events to it.
//
// The data string is base64 (standard alphabet, padded) of a gzip stream of
// one JSON document:
//
//	{
//	  "messageType": "DATA_MESSAGE",
//	  "owner": "123456789012",
//	  "logGroup": "/aws/lambda/checkout",
//	  "logStream": "2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef",
//	  "subscriptionFilters": ["logalert-errors"],
//	  "logEvents": [
//	    {"id": "3862…", "timestamp": 1714521600000, "message": "ERROR payment declined"}
//	  ]
//	}
//
// CloudWatch Logs also sends CONTROL_MESSAGE documents (to check that the
// destination is reachable; their logGroup and logStream are empty), and
// deliveries from account-level subscription policies may carry a
// "policyLevel" field. Decode accepts both; callers normally acknowledge a
// control message and record nothing.
//
// # Bounded decoding
//
// Decode never trusts its input. Every stage runs under a Limits value:
// the encoded length is checked before decoding, the gzip stream is inflated
// into a buffer that can never grow past MaxDecompressedBytes (a
// decompression bomb stops there, in bounded memory), the number of events
// is checked while parsing and every message is checked after unescaping.
// Each error wraps ErrMalformed or ErrTooLarge and names the stage and the
// reason, for example
//
//	awslogs: malformed payload: gzip: unexpected EOF
//	awslogs: payload over limit: gzip: inflates past 16777216 bytes (MaxDecompressedBytes)
//	awslogs: malformed payload: logEvents[3]: missing field "timestamp"
//
// # The JSON parser
//
// The JSON document is parsed by a hand-written parser specialised for this
// one shape, because encoding/json is several times slower than inflating
// the gzip stream. The parser accepts and rejects exactly what
// json.Unmarshal into the equivalent struct accepts and rejects, and yields
// the same values, including the quirks of encoding/json: object keys match
// field names case-insensitively (with Unicode simple folding), the last of
// duplicate keys wins, null leaves a string or number untouched and empties
// an array, a timestamp must be an integer that fits int64, escapes
// (including \uXXXX surrogate pairs) are decoded and invalid UTF-8 is
// replaced by U+FFFD. FuzzDecodeAgreesWithEncodingJSON checks this.
//
// # Ownership
//
// The strings in a decoded Payload never share memory with a Decoder's
// buffers: all the strings of one Payload are substrings of a single string
// allocated for it, so they stay valid and unchanged after later decodes and
// may be kept for as long as needed (keeping any one of them keeps that
// whole string alive).
//
// View is the exception, made for the processor's hot path: its payload's
// strings alias the Decoder's buffers and are valid only during its
// callback, which copies what it keeps. It copies no string at all, so a
// warm View allocates nothing however many events a payload holds.
//
// View earns its keep in measurements of BenchmarkDecodeMatchGroup
// (internal/pipeline), with Decode (one string per payload) in its place,
// on a shared 2-core machine. With a sync.Pool instead of the free list,
// the ratio to gunzip fell from View's 0.55–0.60 to 0.46–0.55 in
// interleaved runs, and the pool, emptied by two collections between
// deliveries, allocated 2.5–6.5 MB per batch against View's 0.1–0.9 MB (a
// cold Decoder costs about 7 MB). With the free list kept, Decode matched
// View in interleaved runs (0.57–0.62 against 0.58–0.60) but gave 0.50–0.58
// in five runs of its own, two under the 0.55 that View keeps, for 2.1 MB
// allocated per batch.
//
// Decode and View borrow Decoders from a small bounded free list, which,
// unlike a sync.Pool, survives garbage collections; a Decoder whose buffers
// grew past the largest genuine delivery is dropped instead of kept.
package awslogs
