//go:build gc && !purego

// This file is hand-written: no maintained library offers an amd64
// assembly ChaCha20 keystream without Poly1305 (golang.org/x/crypto/chacha20
// is portable Go on amd64, and x/crypto/chacha20poly1305's AVX2 code only
// comes with its Poly1305 pass). It computes eight ChaCha20 blocks (512
// bytes) at a time with AVX2: each ymm register holds one of the 16 state
// words for all eight blocks, so the rounds are plain lane-wise
// arithmetic, with rotations by 16 and 8 done as byte shuffles (VPSHUFB)
// and by 12 and 7 as shift, shift and or. The 16 state words fill all 16
// ymm registers; the one temporary that the 12- and 7-bit rotations need
// is made by spilling x0, which those steps do not touch, to the stack.
// At the end the blocks are transposed back into byte order and XORed
// with the input.

#include "textflag.h"

// rol16 and rol8 are VPSHUFB masks that rotate each 32-bit lane left by
// 16 and by 8 bits.
DATA ·rol16<>+0x00(SB)/8, $0x0504070601000302
DATA ·rol16<>+0x08(SB)/8, $0x0d0c0f0e09080b0a
DATA ·rol16<>+0x10(SB)/8, $0x0504070601000302
DATA ·rol16<>+0x18(SB)/8, $0x0d0c0f0e09080b0a
GLOBL ·rol16<>(SB), RODATA|NOPTR, $32

DATA ·rol8<>+0x00(SB)/8, $0x0605040702010003
DATA ·rol8<>+0x08(SB)/8, $0x0e0d0c0f0a09080b
DATA ·rol8<>+0x10(SB)/8, $0x0605040702010003
DATA ·rol8<>+0x18(SB)/8, $0x0e0d0c0f0a09080b
GLOBL ·rol8<>(SB), RODATA|NOPTR, $32

// iota8 is the block counter offsets 0..7 of the eight lanes.
DATA ·iota8<>+0x00(SB)/8, $0x0000000100000000
DATA ·iota8<>+0x08(SB)/8, $0x0000000300000002
DATA ·iota8<>+0x10(SB)/8, $0x0000000500000004
DATA ·iota8<>+0x18(SB)/8, $0x0000000700000006
GLOBL ·iota8<>(SB), RODATA|NOPTR, $32

// eight advances the eight lanes' block counters to the next batch.
DATA ·eight<>+0x00(SB)/8, $0x0000000800000008
DATA ·eight<>+0x08(SB)/8, $0x0000000800000008
DATA ·eight<>+0x10(SB)/8, $0x0000000800000008
DATA ·eight<>+0x18(SB)/8, $0x0000000800000008
GLOBL ·eight<>(SB), RODATA|NOPTR, $32

// Stack frame layout.
#define X0SPILL 0(SP)   // x0 while Y0 is the temporary
#define CTR 32(SP)      // the eight lanes' block counters (x12's input)
#define HI 64           // x8..x15 at HI+32*i(SP) during the output

// The two halves of a quarter round, on one column of the state; the
// four columns of a round are interleaved for parallelism.
//   a += b; d ^= a; d <<<= 16 (or 8)
//   c += d; b ^= c; b <<<= 12 (or 7), with Y0 as the temporary
#define AD16(a, b, d) VPADDD b, a, a; VPXOR a, d, d; VPSHUFB ·rol16<>(SB), d, d
#define AD8(a, b, d) VPADDD b, a, a; VPXOR a, d, d; VPSHUFB ·rol8<>(SB), d, d
#define CB12(c, d, b) VPADDD d, c, c; VPXOR c, b, b; VPSLLD $12, b, Y0; VPSRLD $20, b, b; VPOR Y0, b, b
#define CB7(c, d, b) VPADDD d, c, c; VPXOR c, b, b; VPSLLD $7, b, Y0; VPSRLD $25, b, b; VPOR Y0, b, b

// ROUND is four quarter rounds in parallel, on the columns (a_i, b_i,
// c_i, d_i). a0 must be Y0 (x0): it is spilled while Y0 is the
// temporary.
#define ROUND(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3) \
	AD16(a0, b0, d0); AD16(a1, b1, d1); AD16(a2, b2, d2); AD16(a3, b3, d3); \
	VMOVDQU Y0, X0SPILL; \
	CB12(c0, d0, b0); CB12(c1, d1, b1); CB12(c2, d2, b2); CB12(c3, d3, b3); \
	VMOVDQU X0SPILL, Y0; \
	AD8(a0, b0, d0); AD8(a1, b1, d1); AD8(a2, b2, d2); AD8(a3, b3, d3); \
	VMOVDQU Y0, X0SPILL; \
	CB7(c0, d0, b0); CB7(c1, d1, b1); CB7(c2, d2, b2); CB7(c3, d3, b3); \
	VMOVDQU X0SPILL, Y0

// TRANSPOSE turns Y0..Y7, each one state word for blocks 0..7, into Y8..Y15,
// each the eight words for one block: Y8+j holds block j.
#define TRANSPOSE \
	VPUNPCKLDQ Y1, Y0, Y8; \
	VPUNPCKHDQ Y1, Y0, Y9; \
	VPUNPCKLDQ Y3, Y2, Y10; \
	VPUNPCKHDQ Y3, Y2, Y11; \
	VPUNPCKLDQ Y5, Y4, Y12; \
	VPUNPCKHDQ Y5, Y4, Y13; \
	VPUNPCKLDQ Y7, Y6, Y14; \
	VPUNPCKHDQ Y7, Y6, Y15; \
	VPUNPCKLQDQ Y10, Y8, Y0; \
	VPUNPCKHQDQ Y10, Y8, Y1; \
	VPUNPCKLQDQ Y11, Y9, Y2; \
	VPUNPCKHQDQ Y11, Y9, Y3; \
	VPUNPCKLQDQ Y14, Y12, Y4; \
	VPUNPCKHQDQ Y14, Y12, Y5; \
	VPUNPCKLQDQ Y15, Y13, Y6; \
	VPUNPCKHQDQ Y15, Y13, Y7; \
	VPERM2I128 $0x20, Y4, Y0, Y8; \
	VPERM2I128 $0x31, Y4, Y0, Y12; \
	VPERM2I128 $0x20, Y5, Y1, Y9; \
	VPERM2I128 $0x31, Y5, Y1, Y13; \
	VPERM2I128 $0x20, Y6, Y2, Y10; \
	VPERM2I128 $0x31, Y6, Y2, Y14; \
	VPERM2I128 $0x20, Y7, Y3, Y11; \
	VPERM2I128 $0x31, Y7, Y3, Y15

// XORSTORE XORs the 32-byte half of each block at off (0 or 32) of src
// with Y8..Y15 and writes it to dst.
#define XORSTORE(off) \
	VPXOR (off+0*64)(SI), Y8, Y8; \
	VMOVDQU Y8, (off+0*64)(DI); \
	VPXOR (off+1*64)(SI), Y9, Y9; \
	VMOVDQU Y9, (off+1*64)(DI); \
	VPXOR (off+2*64)(SI), Y10, Y10; \
	VMOVDQU Y10, (off+2*64)(DI); \
	VPXOR (off+3*64)(SI), Y11, Y11; \
	VMOVDQU Y11, (off+3*64)(DI); \
	VPXOR (off+4*64)(SI), Y12, Y12; \
	VMOVDQU Y12, (off+4*64)(DI); \
	VPXOR (off+5*64)(SI), Y13, Y13; \
	VMOVDQU Y13, (off+5*64)(DI); \
	VPXOR (off+6*64)(SI), Y14, Y14; \
	VMOVDQU Y14, (off+6*64)(DI); \
	VPXOR (off+7*64)(SI), Y15, Y15; \
	VMOVDQU Y15, (off+7*64)(DI)

// func xorBlocksAVX2(dst, src *byte, n int, state *[16]uint32)
//
// xorBlocksAVX2 XORs n*512 bytes of src with the keystream of the ChaCha20
// state (constants, key, block counter, nonce, as 32-bit words) into dst,
// which is src or does not overlap it. n must be at least 1. The block
// counter of each lane wraps at 2^32; the caller makes sure that no block
// it uses does.
TEXT ·xorBlocksAVX2(SB), NOSPLIT, $320-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ state+24(FP), AX

	VPBROADCASTD 48(AX), Y0
	VPADDD       ·iota8<>(SB), Y0, Y0
	VMOVDQU      Y0, CTR

loop:
	VPBROADCASTD 0(AX), Y0
	VPBROADCASTD 4(AX), Y1
	VPBROADCASTD 8(AX), Y2
	VPBROADCASTD 12(AX), Y3
	VPBROADCASTD 16(AX), Y4
	VPBROADCASTD 20(AX), Y5
	VPBROADCASTD 24(AX), Y6
	VPBROADCASTD 28(AX), Y7
	VPBROADCASTD 32(AX), Y8
	VPBROADCASTD 36(AX), Y9
	VPBROADCASTD 40(AX), Y10
	VPBROADCASTD 44(AX), Y11
	VMOVDQU      CTR, Y12
	VPBROADCASTD 52(AX), Y13
	VPBROADCASTD 56(AX), Y14
	VPBROADCASTD 60(AX), Y15
	MOVQ         $10, DX

rounds:
	// Column round, then diagonal round.
	ROUND(Y0, Y4, Y8, Y12, Y1, Y5, Y9, Y13, Y2, Y6, Y10, Y14, Y3, Y7, Y11, Y15)
	ROUND(Y0, Y5, Y10, Y15, Y1, Y6, Y11, Y12, Y2, Y7, Y8, Y13, Y3, Y4, Y9, Y14)
	DECQ DX
	JNZ  rounds

	// Words 8..15 wait on the stack while words 0..7 are finished.
	VMOVDQU Y8, (HI+0*32)(SP)
	VMOVDQU Y9, (HI+1*32)(SP)
	VMOVDQU Y10, (HI+2*32)(SP)
	VMOVDQU Y11, (HI+3*32)(SP)
	VMOVDQU Y12, (HI+4*32)(SP)
	VMOVDQU Y13, (HI+5*32)(SP)
	VMOVDQU Y14, (HI+6*32)(SP)
	VMOVDQU Y15, (HI+7*32)(SP)

	VPBROADCASTD 0(AX), Y8
	VPBROADCASTD 4(AX), Y9
	VPBROADCASTD 8(AX), Y10
	VPBROADCASTD 12(AX), Y11
	VPBROADCASTD 16(AX), Y12
	VPBROADCASTD 20(AX), Y13
	VPBROADCASTD 24(AX), Y14
	VPBROADCASTD 28(AX), Y15
	VPADDD       Y8, Y0, Y0
	VPADDD       Y9, Y1, Y1
	VPADDD       Y10, Y2, Y2
	VPADDD       Y11, Y3, Y3
	VPADDD       Y12, Y4, Y4
	VPADDD       Y13, Y5, Y5
	VPADDD       Y14, Y6, Y6
	VPADDD       Y15, Y7, Y7
	TRANSPOSE
	XORSTORE(0)

	VMOVDQU      (HI+0*32)(SP), Y0
	VMOVDQU      (HI+1*32)(SP), Y1
	VMOVDQU      (HI+2*32)(SP), Y2
	VMOVDQU      (HI+3*32)(SP), Y3
	VMOVDQU      (HI+4*32)(SP), Y4
	VMOVDQU      (HI+5*32)(SP), Y5
	VMOVDQU      (HI+6*32)(SP), Y6
	VMOVDQU      (HI+7*32)(SP), Y7
	VPBROADCASTD 32(AX), Y8
	VPBROADCASTD 36(AX), Y9
	VPBROADCASTD 40(AX), Y10
	VPBROADCASTD 44(AX), Y11
	VMOVDQU      CTR, Y12
	VPBROADCASTD 52(AX), Y13
	VPBROADCASTD 56(AX), Y14
	VPBROADCASTD 60(AX), Y15
	VPADDD       Y8, Y0, Y0
	VPADDD       Y9, Y1, Y1
	VPADDD       Y10, Y2, Y2
	VPADDD       Y11, Y3, Y3
	VPADDD       Y12, Y4, Y4
	VPADDD       Y13, Y5, Y5
	VPADDD       Y14, Y6, Y6
	VPADDD       Y15, Y7, Y7
	TRANSPOSE
	XORSTORE(32)

	// The next batch: blocks 8 on.
	VMOVDQU CTR, Y0
	VPADDD  ·eight<>(SB), Y0, Y0
	VMOVDQU Y0, CTR
	ADDQ    $512, SI
	ADDQ    $512, DI
	DECQ    CX
	JNZ     loop

	VZEROUPPER
	RET
