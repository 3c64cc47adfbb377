package gen

import "math/rand/v2"

// Payload tuning: fresh chunks of random hexadecimal digits (which gzip
// halves) interleaved with copies of recent chunks (which it nearly
// removes), so that the whole compresses about 3:1.
const (
	payloadChunk    = 256
	payloadFresh    = 0.6   // share of fresh chunks
	payloadWindow   = 30000 // copies come from this far back at most (gzip's window is 32 KiB)
	payloadWarmup   = 2048  // bytes before the first copy
	payloadAlphabet = "0123456789abcdef"
)

// Payload returns n bytes from r that compress about 3:1 with gzip.
func Payload(r *rand.Rand, n int) []byte {
	buf := make([]byte, 0, n)
	for len(buf) < n {
		m := min(payloadChunk, n-len(buf))
		if len(buf) >= payloadWarmup && r.Float64() >= payloadFresh {
			win := min(len(buf), payloadWindow)
			off := len(buf) - win + r.IntN(win-m+1)
			buf = append(buf, buf[off:off+m]...)
			continue
		}
		for m > 0 {
			x := r.Uint64()
			for k := 0; k < 16 && m > 0; k++ {
				buf = append(buf, payloadAlphabet[x&15])
				x >>= 4
				m--
			}
		}
	}
	return buf
}

func newRand(a, b uint64) *rand.Rand { return rand.New(rand.NewPCG(a, b)) }
