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

func TestFailedViewForgetsItsStrings(t *testing.T) {
	d := new(Decoder)
	data, err := Encode(&Payload{MessageType: MessageTypeData, LogGroup: "g", LogStream: "s",
		SubscriptionFilters: []string{"f"}, LogEvents: []LogEvent{{ID: "1", Timestamp: 1, Message: "m"}}})
	require.NoError(t, err)
	require.NoError(t, d.decode(&d.view, source{b64: data},
		func(b []byte) string { return string(b) }))
	require.Equal(t, "m", d.view.LogEvents[0].Message)
	d.view.forget()
	assert.Empty(t, d.view.LogEvents)
	assert.Empty(t, d.view.LogEvents[:1][0].Message, "the backing array lets go of the strings")
	assert.Empty(t, d.view.SubscriptionFilters[:1][0])
	assert.Empty(t, d.view.LogGroup)
}
