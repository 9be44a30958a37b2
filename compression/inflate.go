package compression

import (
	"encoding/binary"
	"fmt"
)

// Sizes of the decoder.
const (
	windowSize = 32 << 10 // RFC 1951 §2: distances reach back at most 32 KiB
	// histSize is the history buffer: the window, then room for 64 KiB of
	// output before the window slides down.
	histSize = windowSize + 64<<10
	maxMatch = 258 // RFC 1951 §3.2.5: the longest copy
	litBits  = 10  // primary table bits of literal/length codes
	distBits = 8   // primary table bits of distance codes
	maxLit   = 286 // RFC 1951 §3.2.7: HLIT + 257 <= 286
	maxDist  = 30  // and HDIST + 1 <= 30, as zlib enforces
)

// Decoder states: where the next call picks up.
type inflateState uint8

const (
	stZlibHeader inflateState = iota // RFC 1950 §2.2 CMF and FLG
	stBlockHeader
	stStoredLen  // LEN and NLEN of a stored block
	stStored     // stored bytes still to copy
	stDynHeader  // HLIT, HDIST, HCLEN
	stCodeLenLen // the code length code's lengths
	stCodeLens   // the literal/length and distance code lengths
	stHuffman    // symbols of a fixed or dynamic block
)

// Why decode stopped.
type stop uint8

const (
	stopInput   stop = iota // the input is used up
	stopRoom                // the history buffer must slide first
	stopBlock               // a Huffman block ended
	stopCorrupt             // the stream is not valid: f.err, or ErrCorrupt
)

// Kinds of ErrCorrupt that only this decoder reports, not
// klauspost/compress's (the fuzz target tells them apart).
var (
	// errFinalBlock: "The compression context is ... passed from one
	// packet to the next" for the life of the keys (RFC 4253 §6.2), and
	// OpenSSH fails on the end of the stream too.
	errFinalBlock = fmt.Errorf("%w: final block", ErrCorrupt)
	// errNoEndOfBlock: a block that cannot end, refused as zlib does.
	errNoEndOfBlock = fmt.Errorf("%w: no end-of-block code", ErrCorrupt)
)

// inflater is a zlib decoder that can stop at any bit of its input and
// resume when more arrives. Everything it has taken from the input is
// in its bit buffer; a unit of the stream (a block header, a code length,
// a literal, a length with its distance) is consumed only once all of its
// bits are there, so running out of input never loses a decoded part.
type inflater struct {
	in    []byte
	bits  uint64 // input bits not yet consumed, first bit lowest; zero above
	nb    uint   // how many
	state inflateState
	err   error

	stored int // bytes left in the stored block

	// Dynamic block header.
	nlit, ndist, nclen, idx int
	clens                   [19]uint8
	lens                    [maxLit + maxDist]uint8
	codeLen, dynLit, dynDst huffTable
	lit, dist               *huffTable // the current block's codes

	// hist[:wpos] is the output so far, at least the last windowSize
	// bytes of it; hist[rpos:wpos] is not yet copied out.
	hist       [histSize]byte
	wpos, rpos int
}

// codeOrder is the order of the code length code's lengths (RFC 1951
// §3.2.7).
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// Base values and extra bits of length symbols 257..285 and distance
// symbols 0..29 (RFC 1951 §3.2.5).
var (
	lenBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (f *inflater) reset() {
	f.in = nil
	f.bits, f.nb = 0, 0
	f.state = stZlibHeader
	f.err = nil
	f.wpos, f.rpos = 0, 0
}

// inflate decodes f.in, appending the output to dst without growing it
// past cap(dst). It returns nil once the input is used up and all output
// is in dst, ErrShortBuffer when dst is full first (call again with room
// to go on), or ErrCorrupt.
func (f *inflater) inflate(dst []byte) ([]byte, error) {
	if f.err != nil {
		return dst, f.err
	}
	for {
		why := f.decode()
		if why == stopCorrupt {
			if f.err == nil {
				f.err = ErrCorrupt
			}
			f.in = nil
			return dst, f.err
		}
		n := copy(dst[len(dst):cap(dst)], f.hist[f.rpos:f.wpos])
		dst = dst[:len(dst)+n]
		f.rpos += n
		if f.rpos < f.wpos {
			return dst, ErrShortBuffer
		}
		if why == stopInput {
			f.in = nil
			return dst, nil
		}
		// stopRoom: keep the window, drop the rest.
		copy(f.hist[:windowSize], f.hist[f.wpos-windowSize:f.wpos])
		f.wpos, f.rpos = windowSize, windowSize
	}
}

// need pulls input into the bit buffer until it holds n bits, and
// reports whether it does.
func (f *inflater) need(n uint) bool {
	for f.nb < n {
		if len(f.in) == 0 {
			return false
		}
		f.bits |= uint64(f.in[0]) << f.nb
		f.in = f.in[1:]
		f.nb += 8
	}
	return true
}

func (f *inflater) drop(n uint) {
	f.bits >>= n
	f.nb -= n
}

// decode runs the state machine until it needs input or room, or finds
// the stream corrupt.
func (f *inflater) decode() stop {
	for {
		switch f.state {
		case stZlibHeader:
			if !f.need(16) {
				return stopInput
			}
			// RFC 1950 §2.2: deflate (CM 8) with a window of at most 32 KiB
			// (CINFO <= 7), a check that makes CMF*256+FLG a multiple of
			// 31, and no preset dictionary (SSH has none).
			cmf, flg := uint(f.bits&0xff), uint(f.bits>>8&0xff)
			if cmf&0x0f != 8 || cmf>>4 > 7 || (cmf<<8|flg)%31 != 0 || flg&0x20 != 0 {
				return stopCorrupt
			}
			f.drop(16)
			f.state = stBlockHeader

		case stBlockHeader:
			if !f.need(3) {
				return stopInput
			}
			final, typ := f.bits&1, f.bits>>1&3
			if final != 0 {
				f.err = errFinalBlock
				return stopCorrupt
			}
			f.drop(3)
			switch typ {
			case 0:
				f.state = stStoredLen
			case 1:
				f.lit, f.dist = &fixedLit, &fixedDist
				f.state = stHuffman
			case 2:
				f.state = stDynHeader
			default:
				return stopCorrupt
			}

		case stStoredLen:
			f.drop(f.nb & 7) // RFC 1951 §3.2.4: skip to a byte boundary
			if !f.need(32) {
				return stopInput
			}
			n, nn := uint16(f.bits), uint16(f.bits>>16)
			if nn != ^n {
				return stopCorrupt
			}
			f.drop(32)
			f.stored = int(n)
			f.state = stStored

		case stStored:
			for f.stored > 0 {
				if f.wpos == histSize {
					return stopRoom
				}
				if f.nb >= 8 { // bytes already in the bit buffer come first
					f.hist[f.wpos] = byte(f.bits)
					f.wpos++
					f.drop(8)
					f.stored--
					continue
				}
				if len(f.in) == 0 {
					return stopInput
				}
				n := copy(f.hist[f.wpos:min(histSize, f.wpos+f.stored)], f.in)
				f.in = f.in[n:]
				f.wpos += n
				f.stored -= n
			}
			f.state = stBlockHeader

		case stDynHeader:
			if !f.need(14) {
				return stopInput
			}
			f.nlit = int(f.bits&0x1f) + 257
			f.ndist = int(f.bits>>5&0x1f) + 1
			f.nclen = int(f.bits>>10&0xf) + 4
			if f.nlit > maxLit || f.ndist > maxDist {
				return stopCorrupt
			}
			f.drop(14)
			f.idx = 0
			f.state = stCodeLenLen

		case stCodeLenLen:
			for ; f.idx < f.nclen; f.idx++ {
				if !f.need(3) {
					return stopInput
				}
				f.clens[codeOrder[f.idx]] = uint8(f.bits & 7)
				f.drop(3)
			}
			for i := f.nclen; i < len(codeOrder); i++ {
				f.clens[codeOrder[i]] = 0
			}
			if !f.codeLen.build(f.clens[:], 7, false) {
				return stopCorrupt
			}
			f.idx = 0
			f.state = stCodeLens

		case stCodeLens:
			if why := f.codeLengths(); why != stopBlock {
				return why
			}
			f.state = stHuffman

		case stHuffman:
			if why := f.huffman(); why != stopBlock {
				return why
			}
			f.state = stBlockHeader
		}
	}
}

// codeLengths reads the literal/length and distance code lengths of a
// dynamic block (RFC 1951 §3.2.7) and builds the block's codes; it
// returns stopBlock when they are ready.
func (f *inflater) codeLengths() stop {
	n := f.nlit + f.ndist
	for f.idx < n {
		f.need(7 + 7) // as much as there is, up to a symbol and its extra bits
		e := f.codeLen.lookup(f.bits)
		l := uint(e & lenMask)
		if l == 0 {
			return stopCorrupt
		}
		if l > f.nb {
			return stopInput
		}
		sym := e >> 16
		if sym < 16 {
			f.lens[f.idx] = uint8(sym)
			f.idx++
			f.drop(l)
			continue
		}
		var rep int
		var extra uint
		var val uint8
		switch sym {
		case 16: // copy the previous length 3 to 6 times
			if f.idx == 0 {
				return stopCorrupt
			}
			rep, extra, val = 3, 2, f.lens[f.idx-1]
		case 17: // 3 to 10 zeros
			rep, extra = 3, 3
		default: // 18: 11 to 138 zeros
			rep, extra = 11, 7
		}
		if l+extra > f.nb {
			return stopInput
		}
		rep += int(f.bits >> l & (1<<extra - 1))
		if f.idx+rep > n {
			return stopCorrupt
		}
		f.drop(l + extra)
		for range rep {
			f.lens[f.idx] = val
			f.idx++
		}
	}
	if f.lens[256] == 0 {
		f.err = errNoEndOfBlock
		return stopCorrupt
	}
	if !f.dynLit.build(f.lens[:f.nlit], litBits, true) || !f.dynDst.build(f.lens[f.nlit:n], distBits, true) {
		return stopCorrupt
	}
	f.lit, f.dist = &f.dynLit, &f.dynDst
	return stopBlock
}

// huffman decodes the symbols of a compressed block into the history
// buffer until the block ends (stopBlock), the input runs out, or fewer
// than maxMatch bytes of room are left. A literal, or a length with its
// distance, is consumed only once all its bits are in the bit buffer.
func (f *inflater) huffman() (why stop) {
	lit, dist, hist := f.lit, f.dist, &f.hist
	in, bits, nb, wpos := f.in, f.bits, f.nb, f.wpos
	for {
		if wpos > histSize-maxMatch {
			why = stopRoom
			break
		}
		if len(in) >= 8 {
			// Refill to 56 bits or more with one load: enough for the
			// longest length and distance with their extra bits, 48 bits.
			bits |= binary.LittleEndian.Uint64(in) << nb
			k := (63 - nb) >> 3
			in = in[k:]
			nb += k << 3
		} else {
			for nb < 48 && len(in) > 0 {
				bits |= uint64(in[0]) << nb
				in = in[1:]
				nb += 8
			}
		}
		e := lit.lookup(bits)
		l := uint(e & lenMask)
		if l == 0 {
			why = stopCorrupt
			break
		}
		if l > nb {
			why = stopInput
			break
		}
		sym := e >> 16
		if sym < 256 {
			hist[wpos] = byte(sym)
			wpos++
			bits >>= l
			nb -= l
			continue
		}
		if sym == 256 {
			bits >>= l
			nb -= l
			why = stopBlock
			break
		}
		sym -= 257
		if sym >= uint32(len(lenBase)) {
			why = stopCorrupt
			break
		}
		used := l + uint(lenExtra[sym])
		if used > nb {
			why = stopInput
			break
		}
		length := int(lenBase[sym]) + int(bits>>l&(1<<lenExtra[sym]-1))
		db := bits >> used
		e = dist.lookup(db)
		l = uint(e & lenMask)
		if l == 0 {
			why = stopCorrupt
			break
		}
		if used+l > nb {
			why = stopInput
			break
		}
		dsym := e >> 16
		if dsym >= uint32(len(distBase)) {
			why = stopCorrupt
			break
		}
		if used+l+uint(distExtra[dsym]) > nb {
			why = stopInput
			break
		}
		d := int(distBase[dsym]) + int(db>>l&(1<<distExtra[dsym]-1))
		if d > wpos { // reaches back before the start of the stream
			why = stopCorrupt
			break
		}
		used += l + uint(distExtra[dsym])
		bits >>= used
		nb -= used
		src := wpos - d
		if d >= length {
			copy(hist[wpos:wpos+length], hist[src:src+length])
		} else {
			// An overlapping copy repeats the last d bytes; each copy
			// doubles what the next can take.
			for n := 0; n < length; {
				n += copy(hist[wpos+n:wpos+length], hist[src:wpos+n])
			}
		}
		wpos += length
	}
	// The refill may have loaded bits of input it did not take: clear
	// them, so that the slow paths can add bytes with |.
	f.in, f.bits, f.nb, f.wpos = in, bits&(1<<nb-1), nb, wpos
	return why
}
