//go:build gc && !purego

package chachastream

import (
	"crypto/subtle"

	"golang.org/x/sys/cpu"
)

var useAsm = cpu.X86.HasAVX2

// batchSize is what one pass of xorBlocksAVX2 covers: eight 64-byte
// blocks.
const batchSize = 8 * 64

// xorBlocksAVX2 XORs n*512 bytes of src with the keystream of state into
// dst (see chachastream_amd64.s). n must be at least 1.
//
//go:noescape
func xorBlocksAVX2(dst, src *byte, n int, state *[16]uint32)

// xorKeyStreamAsm is XORKeyStream's assembly path, for non-empty src with
// len(dst) == len(src) and no overflow of the counter.
func xorKeyStreamAsm(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	state := initialState(key, nonce, counter)
	full := len(src) / batchSize
	if full > 0 {
		xorBlocksAVX2(&dst[0], &src[0], full, &state)
	}
	tail := len(src) - full*batchSize
	if tail == 0 {
		return
	}
	counter += uint32(full * 8)
	if tail <= 64 {
		// One block is cheaper in Go than a whole batch of assembly.
		var ks [64]byte
		state[12] = counter
		block(&ks, &state)
		subtle.XORBytes(dst[full*batchSize:], src[full*batchSize:], ks[:tail])
		return
	}
	// The last partial batch: a whole batch of keystream on the stack, of
	// which only the blocks up to len(src) have counters that XORKeyStream
	// checked; the lanes past them may wrap, and are thrown away.
	state[12] = counter
	var ks [batchSize]byte
	xorBlocksAVX2(&ks[0], &ks[0], 1, &state)
	subtle.XORBytes(dst[full*batchSize:], src[full*batchSize:], ks[:tail])
}
