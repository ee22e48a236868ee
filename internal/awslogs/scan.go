package awslogs

import (
	"encoding/binary"
	"math/bits"
)

// The scanners below test eight bytes at a time (SWAR). For a word x,
// hasZero(x ^ c*ones) flags the bytes equal to c and (x - 0x20*ones) flags
// the bytes below 0x20; a borrow can only flag a byte above a byte that is
// truly flagged, so the lowest flag in the word is always exact.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// scanPlain returns the index of the first byte of b that ends a plain run
// of string contents: '"', '\\', a control character or a non-ASCII byte;
// or len(b) if there is none.
func scanPlain(b []byte) int {
	i := 0
	for ; i+16 <= len(b); i += 16 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := binary.LittleEndian.Uint64(b[i+8:])
		if plainMask(x)|plainMask(y) != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if m := plainMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < ' ' || c >= 0x80 {
			return i
		}
	}
	return len(b)
}

// plainMask flags, in the high bit of each byte, the bytes of x that end a
// plain run (see scanPlain); the lowest flag is exact.
func plainMask(x uint64) uint64 {
	q := x ^ ('"' * ones)
	s := x ^ ('\\' * ones)
	return (((q - ones) &^ q) | ((s - ones) &^ s) | (x - ' '*ones) | x) & highs
}

// scanString returns the index of the first '"', '\\' or control character
// in b, or len(b) if there is none. Unlike scanPlain it passes non-ASCII
// bytes, for strings that are checked but not kept.
func scanString(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)
		s := x ^ ('\\' * ones)
		m := ((q - ones) &^ q) | ((s - ones) &^ s) | ((x - ' '*ones) &^ x)
		if m &= highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < ' ' {
			return i
		}
	}
	return len(b)
}

// eightDigits returns the value of the eight ASCII decimal digits in x,
// first digit in the lowest byte, combining them pairwise (2, 4, then 8
// digits at a time) instead of one by one.
func eightDigits(x uint64) uint64 {
	x -= '0' * ones
	x = x*10 + x>>8 // pairs: each 16-bit lane's low byte holds 10*a+b
	x = ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return x
}
