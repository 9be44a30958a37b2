package wire

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// message is the method set shared by every SSH message in this package.
type message interface {
	Len() int
	Append(dst []byte) []byte
	Parse(b []byte) error
}

// ptrMessage lets a generic helper make a fresh M to parse into.
type ptrMessage[M any] interface {
	*M
	message
}

// mustHex decodes a hex literal, ignoring white space.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic("bad hex literal: " + err.Error())
	}
	return b
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sameValue reports whether a and b hold the same message. Unlike
// reflect.DeepEqual it treats a nil slice and an empty one as equal: a
// parsed empty string is a zero-length slice of the input, and an omitted
// optional field is nil, and the wire cannot tell them apart.
func sameValue(a, b any) bool { return sameReflect(reflect.ValueOf(a), reflect.ValueOf(b)) }

func sameReflect(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameReflect(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameReflect(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameReflect(a.Elem(), b.Elem())
	default:
		return a.Equal(b)
	}
}

// checkEncoding checks that want encodes to exactly enc, that Len agrees,
// that Append appends after existing bytes, and that enc parses back to
// want.
func checkEncoding[M any, P ptrMessage[M]](t *testing.T, want M, enc []byte) {
	t.Helper()
	p := P(&want)
	if got := p.Len(); got != len(enc) {
		t.Errorf("Len() = %d; want %d", got, len(enc))
	}
	if got := p.Append(nil); !bytes.Equal(got, enc) {
		t.Errorf("Append(nil) =\n%x\nwant\n%x", got, enc)
	}
	if got := len(p.Append(nil)); got != p.Len() {
		t.Errorf("len(Append(nil)) = %d; Len() = %d", got, p.Len())
	}
	head := make([]byte, 3, 64)
	copy(head, "xyz")
	if got := p.Append(head); string(got[:3]) != "xyz" || !bytes.Equal(got[3:], enc) {
		t.Errorf("Append(%q) =\n%x\nwant %x followed by\n%x", "xyz", got, "xyz", enc)
	}
	var got M
	if err := P(&got).Parse(enc); err != nil {
		t.Fatalf("Parse(%x): %v", enc, err)
	}
	if !sameValue(got, want) {
		t.Errorf("Parse(%x) =\n%+v\nwant\n%+v", enc, got, want)
	}
}

// checkStrict checks that no proper prefix of the valid encoding enc
// parses, except those whose lengths are listed in optional (a message
// ending in a field that may be left out), and that enc followed by one
// more byte does not parse either.
func checkStrict(t *testing.T, parse func([]byte) error, enc []byte, optional ...int) {
	t.Helper()
	for i := range len(enc) {
		err := parse(enc[:i:i])
		switch {
		case slices.Contains(optional, i) && err != nil:
			t.Errorf("Parse(%x) (prefix of length %d without the optional field): %v", enc[:i], i, err)
		case !slices.Contains(optional, i) && err == nil:
			t.Errorf("Parse(%x) (proper prefix of length %d of %x) succeeded", enc[:i], i, enc)
		}
	}
	long := append(slices.Clip(enc), 0)
	if err := parse(long); err == nil {
		t.Errorf("Parse(%x) (a trailing byte) succeeded", long)
	}
}

// reparse checks that a value parsed from arbitrary input survives Append
// and Parse unchanged and encodes the same way twice. It returns the
// encoding.
func reparse[M any, P ptrMessage[M]](t *testing.T, m *M) []byte {
	t.Helper()
	enc := P(m).Append(nil)
	if len(enc) != P(m).Len() {
		t.Fatalf("len(Append(nil)) = %d; Len() = %d", len(enc), P(m).Len())
	}
	var again M
	if err := P(&again).Parse(enc); err != nil {
		t.Fatalf("Parse(Append(%+v)) = %v", *m, err)
	}
	if !sameValue(*m, again) {
		t.Fatalf("Parse(Append(m)) =\n%+v\nwant\n%+v", again, *m)
	}
	if enc2 := P(&again).Append(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable:\n%x\n%x", enc, enc2)
	}
	return enc
}

// TestParseAllocs checks that parsing, valid input or not, costs no
// allocation: these messages can arrive in every packet.
func TestParseAllocs(t *testing.T) {
	var (
		kexInit       KexInit
		disconnect    Disconnect
		ignore        Ignore
		unimplemented Unimplemented
		debug         Debug
		newKeys       NewKeys
		service       ServiceRequest
		ping          Ping
		pong          Pong
	)
	tests := []struct {
		name  string
		parse func([]byte) error
		in    []byte
	}{
		{"KexInit/OpenSSH-client", kexInit.Parse, readTestdata(t, "openssh-client-kexinit.bin")},
		{"KexInit/OpenSSH-server", kexInit.Parse, readTestdata(t, "openssh-server-kexinit.bin")},
		{"Disconnect", disconnect.Parse, disconnectVectors[0].enc},
		{"Disconnect/no-language", disconnect.Parse, mustHex("01 00000002 00000003 626164")},
		{"Ignore", ignore.Parse, ignoreVectors[0].enc},
		{"Unimplemented", unimplemented.Parse, unimplementedVectors[0].enc},
		{"Debug", debug.Parse, debugVectors[0].enc},
		{"NewKeys", newKeys.Parse, []byte{MsgNewKeys}},
		{"ServiceRequest", service.Parse, serviceRequestVectors[0].enc},
		{"Ping", ping.Parse, pingVectors[0].enc},
		{"Pong", pong.Parse, pongVectors[0].enc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(tt.in); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n := testing.AllocsPerRun(100, func() { _ = tt.parse(tt.in) }); n != 0 {
				t.Errorf("Parse: %v allocations; want 0", n)
			}
			bad := tt.in[:len(tt.in)-1]
			if n := testing.AllocsPerRun(100, func() { _ = tt.parse(bad) }); n != 0 {
				t.Errorf("Parse of a truncated message: %v allocations; want 0", n)
			}
		})
	}
}
