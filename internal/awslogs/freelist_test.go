package awslogs

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drainDecoders empties the free list, so a test sees only its own Decoders.
func drainDecoders() {
	for {
		select {
		case <-decoders:
		default:
			return
		}
	}
}

func TestFreeListKeepsDecodersAcrossGC(t *testing.T) {
	drainDecoders()
	d := getDecoder()
	d.raw = make([]byte, 0, 1<<20)
	putDecoder(d)
	runtime.GC()
	runtime.GC()
	assert.Same(t, d, getDecoder(), "the idle Decoder did not survive two collections")
}

func TestFreeListDropsOversizeDecoders(t *testing.T) {
	drainDecoders()
	big := &Decoder{raw: make([]byte, 0, maxIdleDecoderBytes)}
	big.p.arena = make([]byte, 0, 1)
	require.Greater(t, big.bufferBytes(), maxIdleDecoderBytes)
	putDecoder(big)
	assert.NotSame(t, big, getDecoder(), "a Decoder over maxIdleDecoderBytes was kept")
}

func TestFreeListIsBounded(t *testing.T) {
	drainDecoders()
	for range idleDecoders + 3 {
		putDecoder(new(Decoder))
	}
	assert.Len(t, decoders, idleDecoders)
	drainDecoders()
}
