package wire

import (
	"bytes"
	"strings"
)

// NameList is a comma-separated list of algorithm or method names as it
// appears on the wire (RFC 4251 §5).
type NameList []byte

// Contains reports whether name is one of the list's entries.
func (l NameList) Contains(name string) bool {
	for s := range l.All() {
		if string(s) == name {
			return true
		}
	}
	return false
}

// All iterates over the entries of the list.
func (l NameList) All() func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		rest := []byte(l)
		for len(rest) > 0 {
			name, tail, _ := bytes.Cut(rest, []byte{','})
			if !yield(name) {
				return
			}
			rest = tail
		}
	}
}

// Strings returns the entries as strings.
func (l NameList) Strings() []string {
	if len(l) == 0 {
		return nil
	}
	return strings.Split(string(l), ",")
}

// AppendNameList appends names as a name-list.
func AppendNameList(dst []byte, names []string) []byte {
	dst = AppendUint32(dst, uint32(NameListLen(names)-4))
	for i, s := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, s...)
	}
	return dst
}

// NameListLen is the encoded length of AppendNameList(nil, names).
func NameListLen(names []string) int {
	n := 4
	for i, s := range names {
		if i > 0 {
			n++
		}
		n += len(s)
	}
	return n
}
