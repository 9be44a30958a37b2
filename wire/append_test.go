package wire

import (
	"bytes"
	"testing"
)

func TestAppendScalars(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"AppendBool(false)", AppendBool(nil, false), "00"},
		{"AppendBool(true)", AppendBool(nil, true), "01"},
		// RFC 4251 §5: "the value 699921578 (0x29b7f4aa) is stored as 29 b7 f4 aa".
		{"AppendUint32(699921578)", AppendUint32(nil, 699921578), "29b7f4aa"},
		{"AppendUint64", AppendUint64(nil, 0x0102030405060708), "0102030405060708"},
		// RFC 4251 §5: "testing" is "00 00 00 07 t e s t i n g".
		{"AppendString(testing)", AppendString(nil, []byte("testing")), "00000007 74657374696e67"},
		{"AppendStringS(testing)", AppendStringS(nil, "testing"), "00000007 74657374696e67"},
		{"AppendString(nil)", AppendString(nil, nil), "00000000"},
		{"AppendStringS()", AppendStringS(nil, ""), "00000000"},
		{"append after", AppendUint32([]byte{0xaa}, 1), "aa 00000001"},
	}
	for _, tt := range tests {
		if want := mustHex(tt.want); !bytes.Equal(tt.got, want) {
			t.Errorf("%s = %x; want %x", tt.name, tt.got, want)
		}
	}
	if got := StringLen(7); got != 11 {
		t.Errorf("StringLen(7) = %d; want 11", got)
	}
}

func TestAppendMpint(t *testing.T) {
	// The non-negative examples of RFC 4251 §5; AppendMpint takes an
	// unsigned magnitude, so the negative ones (-1234, -deadbeef) do not
	// apply. Leading zeros in the magnitude must not reach the wire.
	tests := []struct {
		magnitude string
		want      string
	}{
		{"", "00000000"},
		{"00", "00000000"},
		{"000000", "00000000"},
		{"09a378f9b2e332a7", "00000008 09a378f9b2e332a7"},
		{"0009a378f9b2e332a7", "00000008 09a378f9b2e332a7"},
		{"80", "00000002 0080"},
		{"000080", "00000002 0080"},
		{"7f", "00000001 7f"},
		{"ff", "00000002 00ff"},
		{"0001", "00000001 01"},
	}
	for _, tt := range tests {
		mag, want := mustHex(tt.magnitude), mustHex(tt.want)
		if got := AppendMpint(nil, mag); !bytes.Equal(got, want) {
			t.Errorf("AppendMpint(%x) = %x; want %x", mag, got, want)
		}
		if got := MpintLen(mag); got != len(want) {
			t.Errorf("MpintLen(%x) = %d; want %d", mag, got, len(want))
		}
		if got := AppendMpint([]byte{0xaa}, mag); got[0] != 0xaa || !bytes.Equal(got[1:], want) {
			t.Errorf("AppendMpint(aa, %x) = %x; want aa%x", mag, got, want)
		}
	}
}
