package wire

import "encoding/binary"

// AppendBool appends a boolean.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// AppendUint32 appends a big-endian uint32.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendUint64 appends a big-endian uint64.
func AppendUint64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// AppendString appends a uint32-length-prefixed string.
func AppendString(dst, s []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendStringS is AppendString for a Go string.
func AppendStringS(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// StringLen is the encoded length of a string of n bytes.
func StringLen(n int) int { return 4 + n }

// AppendMpint appends an unsigned big-endian magnitude as an mpint (RFC
// 4251 §5): leading zeros stripped, and a zero byte added when the top
// bit is set so the value stays positive.
func AppendMpint(dst, magnitude []byte) []byte {
	for len(magnitude) > 0 && magnitude[0] == 0 {
		magnitude = magnitude[1:]
	}
	n := len(magnitude)
	pad := n > 0 && magnitude[0]&0x80 != 0
	if pad {
		n++
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	if pad {
		dst = append(dst, 0)
	}
	return append(dst, magnitude...)
}

// MpintLen is the encoded length of AppendMpint(nil, magnitude).
func MpintLen(magnitude []byte) int {
	for len(magnitude) > 0 && magnitude[0] == 0 {
		magnitude = magnitude[1:]
	}
	n := 4 + len(magnitude)
	if len(magnitude) > 0 && magnitude[0]&0x80 != 0 {
		n++
	}
	return n
}
