package awslogs

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/klauspost/compress/gzip"
)

// minInflateBuffer is the smallest buffer Decoder inflates into when the
// gzip trailer gives no better size hint.
const minInflateBuffer = 64 << 10

// maxDeflateRatio bounds how far deflate can expand its input: a match
// copies at most 258 bytes and costs at least two bits, so no stream
// inflates to more than about 1032 times its size. It caps the size hint a
// lying trailer can ask for.
const maxDeflateRatio = 1032

// Decoder decodes subscription payloads, keeping its buffers and gzip state
// from one call to the next so that a warm Decoder allocates almost nothing
// besides the returned strings. The zero Decoder is ready to use with
// DefaultLimits. A Decoder is not safe for concurrent use; use one per
// goroutine, or the package-level Decode and View, which keep idle ones.
type Decoder struct {
	// Limits bounds each Decode; zero fields mean DefaultLimits.
	Limits Limits

	enc []byte // copy of the base64 text
	zip []byte // gzip stream decoded from enc
	gz  []byte // the gzip stream to inflate: zip, or the caller's (ViewGzip)
	raw []byte // inflated JSON document
	br  bytes.Reader
	zr  *gzip.Reader
	p   parser

	view Payload // View's payload, reused
}

// NewDecoder returns a Decoder that enforces lim.
func NewDecoder(lim Limits) *Decoder {
	return &Decoder{Limits: lim}
}

// Decode decodes and validates one awslogs.data string into p, as the
// package-level Decode does. It overwrites every field of *p and reuses the
// backing arrays of p.LogEvents and p.SubscriptionFilters, so a caller that
// keeps those slices across calls must pass a fresh Payload. On error the
// contents of *p are unspecified. The strings it stores in p never alias
// the Decoder's buffers and stay valid after later calls.
func (d *Decoder) Decode(data string, p *Payload) error {
	return d.decode(p, source{b64: data},
		func(b []byte) string { return string(b) })
}

// View decodes data with an idle Decoder, as Decode does, and calls fn
// with the payload. The payload and its strings alias the Decoder's
// buffers, which the next decode overwrites, so they are valid only while
// fn runs: fn must copy (strings.Clone) every string it keeps, and must not
// keep the payload. In exchange a warm View copies no string and allocates
// nothing per event; it is the processor's hot path. It returns the decode
// error, or else fn's.
func View(data string, lim Limits, fn func(*Payload) error) error {
	return view(lim, fn, source{b64: data})
}

// ViewGzip is View for a payload that is not base64-encoded: the gzip
// stream itself, as a CloudWatch Logs destination writes it into a Kinesis
// record (the Lambda event source hands the record's data over already
// decoded from base64). MaxEncodedBytes caps len(zip). zip is only read,
// and only while ViewGzip runs.
func ViewGzip(zip []byte, lim Limits, fn func(*Payload) error) error {
	return view(lim, fn, source{zip: zip, gz: true})
}

// source is the payload a decode starts from: base64 text, or (gz set) the
// gzip stream itself. It is a value, not a closure over the input, so that a
// warm View allocates nothing for it.
type source struct {
	b64 string
	zip []byte
	gz  bool
}

// load puts src's gzip stream in d (d.gz), base64-decoding it if need be,
// after checking its size.
func (d *Decoder) load(src source, lim Limits) error {
	if !src.gz {
		return d.unbase64(src.b64, lim)
	}
	if err := checkSize("gzip", len(src.zip), lim); err != nil {
		return err
	}
	d.gz = src.zip
	return nil
}

// view borrows an idle Decoder, has src's gzip stream put in it, and
// decodes the stream into the Decoder's view for fn.
func view(lim Limits, fn func(*Payload) error, src source) error {
	d := getDecoder()
	defer putDecoder(d)
	d.Limits = lim
	if err := d.decode(&d.view, src, func(b []byte) string {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}); err != nil {
		d.view.forget()
		return err
	}
	return fn(&d.view)
}

// forget drops the strings p holds, keeping the capacity of its slices: a
// failed View must not keep an arena the parser has since replaced alive
// through the strings of an earlier view.
func (p *Payload) forget() {
	events, filters := p.LogEvents[:cap(p.LogEvents)], p.SubscriptionFilters[:cap(p.SubscriptionFilters)]
	clear(events)
	clear(filters)
	*p = Payload{LogEvents: events[:0], SubscriptionFilters: filters[:0]}
}

// bufferBytes is the memory d's buffers hold, besides the gzip state.
func (d *Decoder) bufferBytes() int {
	return cap(d.enc) + cap(d.zip) + cap(d.raw) + d.p.bufferBytes() +
		cap(d.view.LogEvents)*int(unsafe.Sizeof(LogEvent{}))
}

// decode loads src's gzip stream into d (d.gz), inflates and parses it,
// then fills p with strings that are substrings of strs(the unescaped
// strings): a fresh copy for Decode, the arena itself for View.
func (d *Decoder) decode(p *Payload, src source, strs func([]byte) string) error {
	lim := d.Limits.orDefault()
	if err := d.load(src, lim); err != nil {
		return err
	}
	if err := d.inflate(lim); err != nil {
		return err
	}
	if err := d.p.parse(d.raw, lim); err != nil {
		return err
	}
	d.p.fill(p, strs(d.p.arena))
	p.DecompressedBytes = len(d.raw)
	return validate(p)
}

// unbase64 base64-decodes data into d.zip, after checking its size, and
// makes it the stream to inflate.
func (d *Decoder) unbase64(data string, lim Limits) error {
	if err := checkSize("base64", len(data), lim); err != nil {
		return err
	}
	d.enc = append(d.enc[:0], data...)
	if n := base64.StdEncoding.DecodedLen(len(d.enc)); cap(d.zip) < n {
		d.zip = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.zip[:cap(d.zip)], d.enc)
	if err != nil {
		return fmt.Errorf("%w: base64: %w", ErrMalformed, err)
	}
	d.gz = d.zip[:n]
	return nil
}

// checkSize checks the size of an encoded payload of n bytes, at stage
// (base64 or gzip), against lim.MaxEncodedBytes.
func checkSize(stage string, n int, lim Limits) error {
	if n > lim.MaxEncodedBytes {
		return fmt.Errorf("%w: %s: %d bytes, over %d (MaxEncodedBytes)", ErrTooLarge, stage, n, lim.MaxEncodedBytes)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s: empty data", ErrMalformed, stage)
	}
	return nil
}

// inflate inflates d.gz into d.raw, never letting d.raw grow past
// lim.MaxDecompressedBytes bytes, and forgets d.gz.
func (d *Decoder) inflate(lim Limits) (err error) {
	zip := d.gz
	defer func() { d.gz = nil; d.br.Reset(nil) }() // it may be the caller's
	d.br.Reset(zip)
	if d.zr == nil {
		d.zr, err = gzip.NewReader(&d.br)
	} else {
		err = d.zr.Reset(&d.br)
	}
	if err != nil {
		return fmt.Errorf("%w: gzip header: %w", ErrMalformed, noEOF(err))
	}

	// The trailer's ISIZE (the last member's size mod 2^32) sizes the
	// buffer in one go for honest streams. It is only a hint: the bound is
	// the buffer, which never grows past the limit, and one byte more than
	// the limit is a bomb.
	limit := lim.MaxDecompressedBytes
	want := minInflateBuffer
	if len(zip) >= 18 {
		want = max(want, int(binary.LittleEndian.Uint32(zip[len(zip)-4:]))+1)
	}
	want = min(want, limit, maxDeflateRatio*len(zip)+minInflateBuffer)
	buf := d.raw[:0]
	if cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	end := min(cap(buf), limit) // never inflate past end
	for {
		if len(buf) == end {
			if end == limit {
				done, err := d.atEOF()
				d.raw = buf
				if err != nil || done {
					return err
				}
				return fmt.Errorf("%w: gzip: inflates past %d bytes (MaxDecompressedBytes)", ErrTooLarge, limit)
			}
			// Quadruple, so that a stream without a usable size hint
			// allocates at most 4/3 of the limit in all.
			if end > limit/4 {
				end = limit
			} else {
				end *= 4
			}
			if end > cap(buf) {
				grown := make([]byte, len(buf), end)
				copy(grown, buf)
				buf = grown
			}
		}
		n, err := d.zr.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			d.raw = buf
			return nil
		}
		if err != nil {
			d.raw = buf[:0]
			return fmt.Errorf("%w: gzip: %w", ErrMalformed, noEOF(err))
		}
	}
}

// atEOF reports whether the gzip stream has ended, reading at most one
// more byte of it.
func (d *Decoder) atEOF() (bool, error) {
	var probe [1]byte
	n, err := d.zr.Read(probe[:])
	switch {
	case n > 0:
		return false, nil
	case err == io.EOF:
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%w: gzip: %w", ErrMalformed, noEOF(err))
	}
	return false, nil
}

// noEOF turns a premature io.EOF into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
