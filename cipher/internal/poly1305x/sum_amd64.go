//go:build gc && !purego

package poly1305x

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/poly1305"
	"golang.org/x/sys/cpu"
)

// useAVX2 reports whether the AVX2 bulk loop may be used. cpu.X86.HasAVX2
// already accounts for OS support of the YMM state and for GODEBUG=cpu.avx2=off.
var useAVX2 = cpu.X86.HasAVX2

// avx2Threshold is the message length below which the fixed setup cost of
// the vector path (computing r^2..r^4 and the lane tables) is not worth it
// and x/crypto's scalar assembly is used instead. Measured crossover on the
// development machine (AMD EPYC, Go 1.26): about 512-576 bytes.
const avx2Threshold = 640

func sum(out *[16]byte, msg []byte, key *[32]byte) {
	if !useAVX2 || len(msg) < avx2Threshold {
		poly1305.Sum(out, msg, key)
		return
	}
	sumAVX2(out, msg, key)
}

// blocksAVX2 processes len(msg)/64 chunks of four 16-byte blocks. acc holds
// four lane accumulators in radix 2^26: acc[4*i+p] is limb i of lane p. For
// every chunk it computes acc[lane] = (acc[lane] + m[lane]) * R[lane], with a
// partial carry reduction, where tbl holds the multipliers: tbl[4*k+p] is, for
// k = 0..4, limb k of R[lane p], and for k = 5..8, 5 * limb (k-4) of R[lane p].
// Within a chunk, lanes 0, 1, 2, 3 hold blocks 0, 2, 1, 3.
//
//go:noescape
func blocksAVX2(acc *[20]uint64, tbl *[36]uint64, msg []byte)

const mask26 = 1<<26 - 1

// sumAVX2 computes the Poly1305 tag of msg using the vector loop for the
// largest multiple of 64 bytes and the same radix-2^26 arithmetic, one
// block at a time, for the remainder. It is correct for any length.
func sumAVX2(out *[16]byte, msg []byte, key *[32]byte) {
	// RFC 8439 §2.5: r is the first half of the key, clamped.
	var r1 [5]uint64
	toLimbs(&r1, binary.LittleEndian.Uint64(key[0:8])&0x0ffffffc0fffffff,
		binary.LittleEndian.Uint64(key[8:16])&0x0ffffffc0ffffffc)

	var h [5]uint64
	n := len(msg) &^ 63
	if n > 0 {
		// Powers r^1..r^4 in radix 2^26 (limbs below 2^26 + 2^12).
		var r2, r3, r4 [5]uint64
		mul26(&r2, &r1, &r1)
		mul26(&r3, &r2, &r1)
		mul26(&r4, &r2, &r2)

		var acc [20]uint64
		var tbl [36]uint64
		if n > 64 {
			setLane(&tbl, 0, &r4)
			setLane(&tbl, 1, &r4)
			setLane(&tbl, 2, &r4)
			setLane(&tbl, 3, &r4)
			blocksAVX2(&acc, &tbl, msg[:n-64])
		}
		// Last chunk: block j must end up multiplied by r^(4-j). Lanes
		// hold blocks 0, 2, 1, 3 (VPUNPCK{L,H}QDQ interleaving).
		setLane(&tbl, 0, &r4)
		setLane(&tbl, 1, &r2)
		setLane(&tbl, 2, &r3)
		setLane(&tbl, 3, &r1)
		blocksAVX2(&acc, &tbl, msg[n-64:n])

		fold(&h, &acc)
	}
	// The remaining blocks: h = (h + block) * r, where a full block gets
	// 2^128 added and the last partial one a 1 byte after its end.
	for rest := msg[n:]; len(rest) > 0; {
		var b [16]byte
		high := uint64(1 << 24) // 2^128 in limb 4 (bit 104 on)
		if len(rest) >= 16 {
			copy(b[:], rest[:16])
			rest = rest[16:]
		} else {
			copy(b[:], rest)
			b[len(rest)] = 1
			high = 0
			rest = nil
		}
		var m [5]uint64
		toLimbs(&m, binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16]))
		m[4] |= high
		for i := range h {
			h[i] += m[i] // limbs stay below 2^27, as mul26 needs
		}
		mul26(&h, &h, &r1)
	}
	finish(out, &h, key)
}

// setLane stores multiplier r (and 5*r[1..4]) into lane p of tbl.
func setLane(tbl *[36]uint64, p int, r *[5]uint64) {
	t := tbl[p&3:]
	_ = t[32]
	t[0] = r[0]
	t[4] = r[1]
	t[8] = r[2]
	t[12] = r[3]
	t[16] = r[4]
	t[20] = 5 * r[1]
	t[24] = 5 * r[2]
	t[28] = 5 * r[3]
	t[32] = 5 * r[4]
}

// toLimbs splits a clamped r = r1:r0 (< 2^124) into five 26-bit limbs.
func toLimbs(l *[5]uint64, r0, r1 uint64) {
	l[0] = r0 & mask26
	l[1] = (r0 >> 26) & mask26
	l[2] = (r0>>52 | r1<<12) & mask26
	l[3] = (r1 >> 14) & mask26
	l[4] = r1 >> 40
}

// mul26 sets d = a * b mod 2^130 - 5 (partially reduced) in radix 2^26.
// Input limbs must be below 2^27; output limbs are below 2^26 + 2^12 (all
// but d[1] are below 2^26).
func mul26(d, a, b *[5]uint64) {
	a0, a1, a2, a3, a4 := a[0], a[1], a[2], a[3], a[4]
	b0, b1, b2, b3, b4 := b[0], b[1], b[2], b[3], b[4]
	s1, s2, s3, s4 := 5*b1, 5*b2, 5*b3, 5*b4

	d0 := a0*b0 + a1*s4 + a2*s3 + a3*s2 + a4*s1
	d1 := a0*b1 + a1*b0 + a2*s4 + a3*s3 + a4*s2
	d2 := a0*b2 + a1*b1 + a2*b0 + a3*s4 + a4*s3
	d3 := a0*b3 + a1*b2 + a2*b1 + a3*b0 + a4*s4
	d4 := a0*b4 + a1*b3 + a2*b2 + a3*b1 + a4*b0

	d1 += d0 >> 26
	d0 &= mask26
	d2 += d1 >> 26
	d1 &= mask26
	d3 += d2 >> 26
	d2 &= mask26
	d4 += d3 >> 26
	d3 &= mask26
	d0 += 5 * (d4 >> 26)
	d4 &= mask26
	d1 += d0 >> 26
	d0 &= mask26

	d[0], d[1], d[2], d[3], d[4] = d0, d1, d2, d3, d4
}

// fold adds the four lanes into h, in radix 2^26 with limbs below 2^26
// (h[1] below 2^26 + 1), carrying with 2^130 = 5 modulo 2^130 - 5.
func fold(h *[5]uint64, acc *[20]uint64) {
	var l [5]uint64
	for i := range 5 {
		l[i] = acc[4*i] + acc[4*i+1] + acc[4*i+2] + acc[4*i+3]
	}
	for range 2 {
		for i := range 4 {
			l[i+1] += l[i] >> 26
			l[i] &= mask26
		}
		l[0] += 5 * (l[4] >> 26)
		l[4] &= mask26
	}
	l[1] += l[0] >> 26
	l[0] &= mask26
	*h = l
}

// finish reduces h (limbs below 2^27) modulo p = 2^130 - 5 and writes
// the tag (h + s) mod 2^128, s being the second half of the key (RFC 8439
// §2.5). Its running time does not depend on h.
func finish(out *[16]byte, h *[5]uint64, key *[32]byte) {
	// h as a 3-word integer (below 2^132): h0 + h1·2^26 + h2·2^52 +
	// h3·2^78 + h4·2^104, summed with carries since the limbs may
	// overlap.
	w0, w1, w2 := h[0], uint64(0), uint64(0)
	add := func(lo, mid, hi uint64) {
		var c uint64
		w0, c = bits.Add64(w0, lo, 0)
		w1, c = bits.Add64(w1, mid, c)
		w2 += hi + c
	}
	add(h[1]<<26, h[1]>>38, 0)
	add(h[2]<<52, h[2]>>12, 0)
	add(0, h[3]<<14, h[3]>>50)
	add(0, h[4]<<40, h[4]>>24)

	// Bits from 2^130 up come back as 5 each: then h < 2^130 + 20 < 2p.
	c := w2 >> 2
	w2 &= 3
	add(5*c, 0, 0)

	// h - p, kept if it does not borrow.
	t0, b := bits.Sub64(w0, 0xfffffffffffffffb, 0)
	t1, b := bits.Sub64(w1, 0xffffffffffffffff, b)
	_, b = bits.Sub64(w2, 3, b)
	keep := -b // all ones when h < p
	w0 = w0&keep | t0&^keep
	w1 = w1&keep | t1&^keep

	w0, c = bits.Add64(w0, binary.LittleEndian.Uint64(key[16:24]), 0)
	w1, _ = bits.Add64(w1, binary.LittleEndian.Uint64(key[24:32]), c)
	binary.LittleEndian.PutUint64(out[0:8], w0)
	binary.LittleEndian.PutUint64(out[8:16], w1)
}
