package wire

import "encoding/binary"

// Reader parses SSH data types from a byte slice. Each method consumes
// its value and reports whether it could; on failure the Reader is left
// unchanged. Slices returned alias the input.
type Reader []byte

// Empty reports whether every byte has been consumed.
func (r *Reader) Empty() bool { return len(*r) == 0 }

// Len returns the number of bytes not yet consumed.
func (r *Reader) Len() int { return len(*r) }

// Skip consumes n bytes.
func (r *Reader) Skip(n int) bool {
	if n < 0 || len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

// ReadUint8 consumes one byte.
func (r *Reader) ReadUint8(out *byte) bool {
	if len(*r) < 1 {
		return false
	}
	*out = (*r)[0]
	*r = (*r)[1:]
	return true
}

// ReadBool consumes a boolean (RFC 4251 §5: any non-zero value is true).
func (r *Reader) ReadBool(out *bool) bool {
	var b byte
	if !r.ReadUint8(&b) {
		return false
	}
	*out = b != 0
	return true
}

// ReadUint32 consumes a big-endian uint32.
func (r *Reader) ReadUint32(out *uint32) bool {
	if len(*r) < 4 {
		return false
	}
	*out = binary.BigEndian.Uint32(*r)
	*r = (*r)[4:]
	return true
}

// ReadUint64 consumes a big-endian uint64.
func (r *Reader) ReadUint64(out *uint64) bool {
	if len(*r) < 8 {
		return false
	}
	*out = binary.BigEndian.Uint64(*r)
	*r = (*r)[8:]
	return true
}

// ReadBytes consumes n raw bytes.
func (r *Reader) ReadBytes(out *[]byte, n int) bool {
	if n < 0 || len(*r) < n {
		return false
	}
	*out = (*r)[:n:n]
	*r = (*r)[n:]
	return true
}

// ReadString consumes a uint32-length-prefixed string.
func (r *Reader) ReadString(out *[]byte) bool {
	if len(*r) < 4 {
		return false
	}
	n := binary.BigEndian.Uint32(*r)
	if uint64(n) > uint64(len(*r)-4) {
		return false
	}
	*out = (*r)[4 : 4+n : 4+n]
	*r = (*r)[4+n:]
	return true
}

// ReadNameList consumes a name-list (RFC 4251 §5) and returns it as the
// raw comma-separated bytes; see NameList for iterating over it. Names
// must be non-empty, printable US-ASCII without commas.
func (r *Reader) ReadNameList(out *NameList) bool {
	save := *r
	var s []byte
	if !r.ReadString(&s) {
		return false
	}
	if !validNameList(s) {
		*r = save
		return false
	}
	*out = NameList(s)
	return true
}

// ReadMpint consumes a multiple-precision integer (RFC 4251 §5) and
// returns its two's-complement magnitude bytes as sent. It refuses
// non-minimal encodings and negative values, which SSH never needs.
func (r *Reader) ReadMpint(out *[]byte) bool {
	save := *r
	var s []byte
	if !r.ReadString(&s) {
		return false
	}
	if len(s) > 0 {
		// A leading zero is only allowed to clear the sign bit.
		if s[0]&0x80 != 0 || (s[0] == 0 && (len(s) == 1 || s[1]&0x80 == 0)) {
			*r = save
			return false
		}
		if s[0] == 0 {
			s = s[1:]
		}
	}
	*out = s
	return true
}

func validNameList(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	prevComma := true
	for _, c := range s {
		switch {
		case c == ',':
			if prevComma {
				return false
			}
			prevComma = true
		case c <= ' ' || c >= 0x7f:
			return false
		default:
			prevComma = false
		}
	}
	return !prevComma
}
