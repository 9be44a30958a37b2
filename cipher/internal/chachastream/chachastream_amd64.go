//go:build gc && !purego

package chachastream

import (
	"crypto/subtle"
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

var useAsm = cpu.X86.HasAVX2

// batchSize is what one pass of xorBlocksAVX2 covers: eight 64-byte
// blocks.
const batchSize = 8 * 64

// genericMax is the longest tail that x/crypto/chacha20 encrypts faster
// than a whole batch of xorBlocksAVX2 does: one block (about 150 ns
// against 220 ns on an AMD EPYC).
const genericMax = 64

// xorBlocksAVX2 XORs n*512 bytes of src with the keystream of state into
// dst (see chachastream_amd64.s). n must be at least 1.
//
//go:noescape
func xorBlocksAVX2(dst, src *byte, n int, state *[16]uint32)

// xorKeyStreamAsm is XORKeyStream's assembly path, for non-empty src with
// len(dst) == len(src) and no overflow of the counter.
func xorKeyStreamAsm(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	// key and nonce may be in dst: copy them before anything is written,
	// for the generic tail.
	k, n := *key, *nonce
	key, nonce = &k, &n
	state := [16]uint32{
		0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, // "expand 32-byte k"
		binary.LittleEndian.Uint32(key[0:4]),
		binary.LittleEndian.Uint32(key[4:8]),
		binary.LittleEndian.Uint32(key[8:12]),
		binary.LittleEndian.Uint32(key[12:16]),
		binary.LittleEndian.Uint32(key[16:20]),
		binary.LittleEndian.Uint32(key[20:24]),
		binary.LittleEndian.Uint32(key[24:28]),
		binary.LittleEndian.Uint32(key[28:32]),
		counter,
		binary.LittleEndian.Uint32(nonce[0:4]),
		binary.LittleEndian.Uint32(nonce[4:8]),
		binary.LittleEndian.Uint32(nonce[8:12]),
	}
	full := len(src) / batchSize
	if full > 0 {
		xorBlocksAVX2(&dst[0], &src[0], full, &state)
	}
	tail := len(src) - full*batchSize
	if tail == 0 {
		return
	}
	counter += uint32(full * 8)
	if tail <= genericMax {
		xorKeyStreamGeneric(dst[full*batchSize:], src[full*batchSize:], key, nonce, counter)
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
