// This is a hand-written AVX2 Poly1305 bulk loop. No maintained Go library
// offers a vectorised Poly1305 (golang.org/x/crypto/poly1305 on amd64 is
// scalar MULQ assembly, 16 bytes per step), so this file was written for this
// package following the well-known radix 2^26, four-way parallel approach
// (Goll and Gueron, "Vectorization of Poly1305 message authentication code").
//
// Each 64-byte chunk is split into four 16-byte blocks, one per 64-bit lane
// of a YMM register, as five 26-bit limbs. Each lane keeps its own
// accumulator a, updated as a = (a + m) * R with VPMULUDQ, where R is r^4 for
// all chunks but the last, and r^4..r^1 (per lane) for the last chunk, so the
// sum of the lanes equals the sequential Poly1305 accumulator. The Go code
// (sum_amd64.go) builds the tables, sums the lanes, and takes the remaining
// blocks and the final reduction in Go, in the same radix.
//
// Bounds: on entry each limb is < 2^27 + 2^13 after adding the message, the
// multiplier limbs are < 2^26 + 2^12 and 5*limb < 2^30, so each of the five
// products per output limb is < 2^58 and their sum < 2^61; VPMULUDQ only
// reads the low 32 bits of each qword, which hold the whole operand. After the carry chain
// limbs 0, 2, 3, 4 are < 2^26 and limb 1 is < 2^26 + 2^12.

//go:build gc && !purego

#include "textflag.h"

// Register use:
//   Y0..Y4   accumulator limbs a0..a4 (four lanes each)
//   Y5..Y9   product limbs d0..d4
//   Y10, Y11, Y12, Y15  temporaries
//   Y13      2^26-1 in every lane
//   Y14      2^24 in every lane (the 2^128 pad bit, in limb 4)
//   DI acc, DX table, SI message, CX chunk count
//
// Table layout (DX): nine 32-byte rows r0, r1, r2, r3, r4, 5*r1, 5*r2, 5*r3,
// 5*r4 at offsets 0, 32, ..., 256.

// func blocksAVX2(acc *[20]uint64, tbl *[36]uint64, msg []byte)
TEXT ·blocksAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ tbl+8(FP), DX
	MOVQ msg_base+16(FP), SI
	MOVQ msg_len+24(FP), CX
	SHRQ $6, CX
	TESTQ CX, CX
	JZ   done

	VPCMPEQD Y13, Y13, Y13
	VPSRLQ   $38, Y13, Y13 // 2^26 - 1
	VPSRLQ   $25, Y13, Y14 // 1
	VPSLLQ   $24, Y14, Y14 // 2^24

	VMOVDQU 0(DI), Y0
	VMOVDQU 32(DI), Y1
	VMOVDQU 64(DI), Y2
	VMOVDQU 96(DI), Y3
	VMOVDQU 128(DI), Y4

loop:
	// Load four blocks; lanes hold blocks 0, 2, 1, 3.
	VMOVDQU     0(SI), Y10
	VMOVDQU     32(SI), Y11
	VPUNPCKLQDQ Y11, Y10, Y12 // low 64 bits of each block
	VPUNPCKHQDQ Y11, Y10, Y15 // high 64 bits of each block

	// a += m, split into 26-bit limbs with the 2^128 pad bit.
	VPAND  Y13, Y12, Y10
	VPADDQ Y10, Y0, Y0
	VPSRLQ $26, Y12, Y10
	VPAND  Y13, Y10, Y10
	VPADDQ Y10, Y1, Y1
	VPSRLQ $52, Y12, Y10
	VPSLLQ $12, Y15, Y11
	VPOR   Y11, Y10, Y10
	VPAND  Y13, Y10, Y10
	VPADDQ Y10, Y2, Y2
	VPSRLQ $14, Y15, Y10
	VPAND  Y13, Y10, Y10
	VPADDQ Y10, Y3, Y3
	VPSRLQ $40, Y15, Y10
	VPOR   Y14, Y10, Y10
	VPADDQ Y10, Y4, Y4

	// d0 = a0*r0 + a1*s4 + a2*s3 + a3*s2 + a4*s1
	VPMULUDQ 0(DX), Y0, Y5
	VPMULUDQ 256(DX), Y1, Y10
	VPADDQ   Y10, Y5, Y5
	VPMULUDQ 224(DX), Y2, Y11
	VPADDQ   Y11, Y5, Y5
	VPMULUDQ 192(DX), Y3, Y12
	VPADDQ   Y12, Y5, Y5
	VPMULUDQ 160(DX), Y4, Y15
	VPADDQ   Y15, Y5, Y5
	// d1 = a0*r1 + a1*r0 + a2*s4 + a3*s3 + a4*s2
	VPMULUDQ 32(DX), Y0, Y6
	VPMULUDQ 0(DX), Y1, Y10
	VPADDQ   Y10, Y6, Y6
	VPMULUDQ 256(DX), Y2, Y11
	VPADDQ   Y11, Y6, Y6
	VPMULUDQ 224(DX), Y3, Y12
	VPADDQ   Y12, Y6, Y6
	VPMULUDQ 192(DX), Y4, Y15
	VPADDQ   Y15, Y6, Y6
	// d2 = a0*r2 + a1*r1 + a2*r0 + a3*s4 + a4*s3
	VPMULUDQ 64(DX), Y0, Y7
	VPMULUDQ 32(DX), Y1, Y10
	VPADDQ   Y10, Y7, Y7
	VPMULUDQ 0(DX), Y2, Y11
	VPADDQ   Y11, Y7, Y7
	VPMULUDQ 256(DX), Y3, Y12
	VPADDQ   Y12, Y7, Y7
	VPMULUDQ 224(DX), Y4, Y15
	VPADDQ   Y15, Y7, Y7
	// d3 = a0*r3 + a1*r2 + a2*r1 + a3*r0 + a4*s4
	VPMULUDQ 96(DX), Y0, Y8
	VPMULUDQ 64(DX), Y1, Y10
	VPADDQ   Y10, Y8, Y8
	VPMULUDQ 32(DX), Y2, Y11
	VPADDQ   Y11, Y8, Y8
	VPMULUDQ 0(DX), Y3, Y12
	VPADDQ   Y12, Y8, Y8
	VPMULUDQ 256(DX), Y4, Y15
	VPADDQ   Y15, Y8, Y8
	// d4 = a0*r4 + a1*r3 + a2*r2 + a3*r1 + a4*r0
	VPMULUDQ 128(DX), Y0, Y9
	VPMULUDQ 96(DX), Y1, Y10
	VPADDQ   Y10, Y9, Y9
	VPMULUDQ 64(DX), Y2, Y11
	VPADDQ   Y11, Y9, Y9
	VPMULUDQ 32(DX), Y3, Y12
	VPADDQ   Y12, Y9, Y9
	VPMULUDQ 0(DX), Y4, Y15
	VPADDQ   Y15, Y9, Y9

	// Carry propagation, partial reduction modulo 2^130 - 5.
	VPSRLQ $26, Y5, Y10
	VPAND  Y13, Y5, Y0
	VPADDQ Y10, Y6, Y6
	VPSRLQ $26, Y6, Y10
	VPAND  Y13, Y6, Y1
	VPADDQ Y10, Y7, Y7
	VPSRLQ $26, Y7, Y10
	VPAND  Y13, Y7, Y2
	VPADDQ Y10, Y8, Y8
	VPSRLQ $26, Y8, Y10
	VPAND  Y13, Y8, Y3
	VPADDQ Y10, Y9, Y9
	VPSRLQ $26, Y9, Y10
	VPAND  Y13, Y9, Y4
	VPSLLQ $2, Y10, Y11
	VPADDQ Y11, Y10, Y10 // 5 * carry
	VPADDQ Y10, Y0, Y0
	VPSRLQ $26, Y0, Y10
	VPAND  Y13, Y0, Y0
	VPADDQ Y10, Y1, Y1

	ADDQ $64, SI
	DECQ CX
	JNZ  loop

	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VZEROUPPER

done:
	RET
