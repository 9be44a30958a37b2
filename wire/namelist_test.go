package wire

import (
	"bytes"
	"slices"
	"testing"
)

func TestNameListContains(t *testing.T) {
	l := NameList("curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ext-info-c")
	for _, name := range []string{"curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ext-info-c"} {
		if !l.Contains(name) {
			t.Errorf("%q.Contains(%q) = false; want true", l, name)
		}
	}
	// Names match whole, never as a prefix or substring.
	for _, name := range []string{"curve25519-sha256", "ecdh-sha2-nistp25", "info-c", "", ","} {
		if l.Contains(name) {
			t.Errorf("%q.Contains(%q) = true; want false", l, name)
		}
	}
	if NameList("").Contains("") {
		t.Error(`NameList("").Contains("") = true; want false`)
	}
}

func TestNameListContainsAllocs(t *testing.T) {
	l := NameList("curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ext-info-c")
	if n := testing.AllocsPerRun(100, func() { _ = l.Contains("ext-info-c") }); n != 0 {
		t.Errorf("Contains: %v allocations; want 0", n)
	}
}

func TestNameListAll(t *testing.T) {
	var got []string
	for name := range NameList("a,bc,d").All() {
		got = append(got, string(name))
	}
	if want := []string{"a", "bc", "d"}; !slices.Equal(got, want) {
		t.Errorf("All = %q; want %q", got, want)
	}
	got = got[:0]
	for name := range NameList("a,bc,d").All() {
		got = append(got, string(name))
		if len(got) == 2 {
			break
		}
	}
	if want := []string{"a", "bc"}; !slices.Equal(got, want) {
		t.Errorf("All with break after 2 = %q; want %q", got, want)
	}
	for name := range NameList("").All() {
		t.Errorf("All of an empty list yields %q", name)
	}
}

func TestNameListStrings(t *testing.T) {
	if got := NameList("").Strings(); got != nil {
		t.Errorf(`NameList("").Strings() = %q; want nil`, got)
	}
	if got, want := NameList("zlib@openssh.com,none").Strings(), []string{"zlib@openssh.com", "none"}; !slices.Equal(got, want) {
		t.Errorf("Strings() = %q; want %q", got, want)
	}
}

func TestAppendNameList(t *testing.T) {
	// RFC 4251 §5 examples.
	tests := []struct {
		names []string
		want  string
	}{
		{nil, "00000000"},
		{[]string{"zlib"}, "00000004 7a6c6962"},
		{[]string{"zlib", "none"}, "00000009 7a6c69622c6e6f6e65"},
	}
	for _, tt := range tests {
		want := mustHex(tt.want)
		if got := AppendNameList(nil, tt.names); !bytes.Equal(got, want) {
			t.Errorf("AppendNameList(%q) = %x; want %x", tt.names, got, want)
		}
		if got := NameListLen(tt.names); got != len(want) {
			t.Errorf("NameListLen(%q) = %d; want %d", tt.names, got, len(want))
		}
		r := Reader(want)
		var l NameList
		if !r.ReadNameList(&l) || !r.Empty() || !slices.Equal(l.Strings(), tt.names) {
			t.Errorf("ReadNameList(%x) = %q; want %q", want, l.Strings(), tt.names)
		}
	}
}
