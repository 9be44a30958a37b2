package compression

import (
	"math/bits"
	"slices"
)

// huffTable decodes one canonical Huffman code (RFC 1951 §3.2.2) from
// the low bits of a bit buffer. A primary table indexed by the next
// pbits bits holds every code up to pbits long; longer codes go through
// a subtable per primary slot.
//
// An entry is sym<<16 | length for a code, or base<<16 | subBits<<8 |
// entrySub for a slot that continues in sub[base:base+1<<subBits]. Zero
// is no code at all: a corrupt stream.
type huffTable struct {
	primary [1 << litBits]uint32
	pbits   uint
	sub     []uint32
}

const (
	entrySub = 0x80
	lenMask  = 0x1f
	maxBits  = 15 // RFC 1951 §3.2.2: codes are at most 15 bits long
)

// lookup returns the entry for the code at the bottom of b. Bits that
// have not arrived yet must be zero in b: the entry's length then tells
// whether the bits at hand decide the code (length <= bits at hand).
func (t *huffTable) lookup(b uint64) uint32 {
	e := t.primary[b&(1<<t.pbits-1)]
	if e&entrySub != 0 {
		e = t.sub[e>>16+uint32(b>>t.pbits)&(1<<(e>>8&lenMask)-1)]
	}
	return e
}

// build makes t decode the code with the given code lengths, one per
// symbol, zero for an unused symbol. Like zlib's inflate_table it refuses
// an over-subscribed code, and an incomplete one unless incompleteOK and
// the code is a single code of one bit; a code with no symbols at all is
// accepted and decodes nothing.
func (t *huffTable) build(lengths []uint8, pbits uint, incompleteOK bool) bool {
	var count [maxBits + 1]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	maxLen := uint(0)
	for l := uint(maxBits); l >= 1; l-- {
		if count[l] != 0 {
			maxLen = l
			break
		}
	}
	t.pbits = pbits
	clear(t.primary[:1<<pbits])
	t.sub = t.sub[:0]
	if maxLen == 0 {
		return true
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false
		}
	}
	if left > 0 && (!incompleteOK || maxLen != 1) {
		return false
	}
	var next [maxBits + 1]int
	code := 0
	for l := 1; l <= maxBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	subBits := uint(0)
	if maxLen > pbits {
		subBits = maxLen - pbits
	}
	for sym, l8 := range lengths {
		if l8 == 0 {
			continue
		}
		l := uint(l8)
		rev := int(bits.Reverse16(uint16(next[l])) >> (16 - l))
		next[l]++
		e := uint32(sym)<<16 | uint32(l)
		if l <= pbits {
			for i := rev; i < 1<<pbits; i += 1 << l {
				t.primary[i] = e
			}
			continue
		}
		slot := rev & (1<<pbits - 1)
		pe := t.primary[slot]
		if pe == 0 {
			base := len(t.sub)
			t.sub = slices.Grow(t.sub, 1<<subBits)[:base+1<<subBits]
			clear(t.sub[base:])
			pe = uint32(base)<<16 | uint32(subBits)<<8 | entrySub
			t.primary[slot] = pe
		}
		base := int(pe >> 16)
		for i := rev >> pbits; i < 1<<subBits; i += 1 << (l - pbits) {
			t.sub[base+i] = e
		}
	}
	return true
}

// The fixed codes of RFC 1951 §3.2.6. Literal/length symbols 286 and 287
// and distance symbols 30 and 31 take part in the code but never occur in
// valid data.
var fixedLit, fixedDist huffTable

func init() {
	var lit [288]uint8
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	var dist [32]uint8
	for i := range dist {
		dist[i] = 5
	}
	if !fixedLit.build(lit[:], litBits, false) || !fixedDist.build(dist[:], distBits, false) {
		panic("compression: fixed Huffman codes do not build")
	}
}
