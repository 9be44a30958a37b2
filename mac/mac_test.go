package mac

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hmacVector is a published HMAC test case. Its data is split into the
// sequence number (the first 4 bytes, big-endian) and the rest, so that
// Sum(seq, rest) must equal the published HMAC of the whole data.
type hmacVector struct {
	name string
	key  string // hex
	data string // hex
	want string // hex
}

var (
	hiThere        = hex.EncodeToString([]byte("Hi There"))
	jefeData       = hex.EncodeToString([]byte("what do ya want for nothing?"))
	key0b20        = strings.Repeat("0b", 20)
	keyAA20        = strings.Repeat("aa", 20)
	keyAA80        = strings.Repeat("aa", 80)
	keyAA131       = strings.Repeat("aa", 131)
	key0119        = "0102030405060708090a0b0c0d0e0f10111213141516171819"
	dataDD50       = strings.Repeat("dd", 50)
	dataCD50       = strings.Repeat("cd", 50)
	largeKeyData   = hex.EncodeToString([]byte("Test Using Larger Than Block-Size Key - Hash Key First"))
	largerData     = hex.EncodeToString([]byte("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."))
	largerDataSHA1 = hex.EncodeToString([]byte("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"))
	jefeKey        = hex.EncodeToString([]byte("Jefe"))
)

// RFC 4231 §4.2-4.8 (test case 5, a truncated output, does not apply).
var sha256Vectors = []hmacVector{
	{"RFC4231-1", key0b20, hiThere, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{"RFC4231-2", jefeKey, jefeData, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{"RFC4231-3", keyAA20, dataDD50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{"RFC4231-4", key0119, dataCD50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{"RFC4231-6", keyAA131, largeKeyData, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{"RFC4231-7", keyAA131, largerData, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
}

var sha512Vectors = []hmacVector{
	{"RFC4231-1", key0b20, hiThere, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
	{"RFC4231-2", jefeKey, jefeData, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	{"RFC4231-3", keyAA20, dataDD50, "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
	{"RFC4231-4", key0119, dataCD50, "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
	{"RFC4231-6", keyAA131, largeKeyData, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	{"RFC4231-7", keyAA131, largerData, "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
}

// RFC 2202 §3 (test case 5, a truncated output, does not apply).
var sha1Vectors = []hmacVector{
	{"RFC2202-1", key0b20, hiThere, "b617318655057264e28bc0b6fb378c8ef146be00"},
	{"RFC2202-2", jefeKey, jefeData, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	{"RFC2202-3", keyAA20, dataDD50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
	{"RFC2202-4", key0119, dataCD50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
	{"RFC2202-6", keyAA80, largeKeyData, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
	{"RFC2202-7", keyAA80, largerDataSHA1, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
}

func TestKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		vectors []hmacVector
		names   []string
	}{
		{sha256Vectors, []string{"hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"}},
		{sha512Vectors, []string{"hmac-sha2-512", "hmac-sha2-512-etm@openssh.com"}},
		{sha1Vectors, []string{"hmac-sha1", "hmac-sha1-etm@openssh.com"}},
	} {
		for _, name := range tc.names {
			m, ok := Lookup(name)
			if !ok {
				t.Fatalf("Lookup(%q) failed", name)
			}
			for _, v := range tc.vectors {
				t.Run(name+"/"+v.name, func(t *testing.T) {
					data := unhex(t, v.data)
					want := unhex(t, v.want)
					seq := binary.BigEndian.Uint32(data)
					s := m.New(unhex(t, v.key))
					// Twice: the state must be reusable.
					for range 2 {
						got := s.Sum(make([]byte, 0, m.Size()), seq, data[4:])
						if !bytes.Equal(got, want) {
							t.Fatalf("Sum = %x; want %x", got, want)
						}
					}
				})
			}
		}
	}
}

func TestAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		name      string
		etm       bool
		size      int
		inDefault bool
	}{
		{"hmac-sha2-256-etm@openssh.com", true, 32, true},
		{"hmac-sha2-512-etm@openssh.com", true, 64, true},
		{"hmac-sha2-256", false, 32, true},
		{"hmac-sha2-512", false, 64, true},
		{"hmac-sha1-etm@openssh.com", true, 20, false},
		{"hmac-sha1", false, 20, false},
	} {
		m, ok := Lookup(tc.name)
		if !ok {
			t.Fatalf("Lookup(%q) failed", tc.name)
		}
		if got := m.Name(); got != tc.name {
			t.Errorf("Name() = %q; want %q", got, tc.name)
		}
		if got := m.ETM(); got != tc.etm {
			t.Errorf("%s: ETM() = %v; want %v", tc.name, got, tc.etm)
		}
		if got := m.Size(); got != tc.size {
			t.Errorf("%s: Size() = %d; want %d", tc.name, got, tc.size)
		}
		if got := m.KeyLen(); got != tc.size {
			t.Errorf("%s: KeyLen() = %d; want %d", tc.name, got, tc.size)
		}
		if got := slices.Contains(Default, tc.name); got != tc.inDefault {
			t.Errorf("%s in Default = %v; want %v", tc.name, got, tc.inDefault)
		}
		if !slices.Contains(All, tc.name) {
			t.Errorf("%s not in All", tc.name)
		}
	}
	for _, name := range All {
		if _, ok := Lookup(name); !ok {
			t.Errorf("Lookup(%q) failed for a name in All", name)
		}
	}
	if len(All) != len(algorithms) {
		t.Errorf("len(All) = %d; want %d", len(All), len(algorithms))
	}
	for _, name := range []string{"", "none", "hmac-md5", "HMAC-SHA2-256", "hmac-sha2-256-etm"} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) succeeded; want failure", name)
		}
	}
}

// TestSumDistinguishesSeq checks that the sequence number is authenticated:
// a MAC for one sequence number does not match the next.
func TestSumDistinguishesSeq(t *testing.T) {
	for _, name := range All {
		m, _ := Lookup(name)
		s := m.New(make([]byte, m.KeyLen()))
		a := s.Sum(nil, 1, []byte("packet"))
		b := s.Sum(nil, 2, []byte("packet"))
		if bytes.Equal(a, b) {
			t.Errorf("%s: Sum for seq 1 and 2 are equal: %x", name, a)
		}
	}
}

func TestSumAllocs(t *testing.T) {
	data := make([]byte, 32<<10)
	for _, name := range All {
		m, _ := Lookup(name)
		s := m.New(bytes.Repeat([]byte{7}, m.KeyLen()))
		dst := make([]byte, m.Size())
		seq := uint32(0)
		allocs := testing.AllocsPerRun(100, func() {
			s.Sum(dst, seq, data)
			seq++
		})
		if allocs != 0 {
			t.Errorf("%s: Sum allocates %v times per call; want 0", name, allocs)
		}
	}
}

func BenchmarkSum(b *testing.B) {
	for _, name := range Default {
		m, _ := Lookup(name)
		for _, size := range []int{1 << 10, 32 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", name, size>>10), func(b *testing.B) {
				s := m.New(make([]byte, m.KeyLen()))
				data := make([]byte, size)
				dst := make([]byte, m.Size())
				b.ReportAllocs()
				b.SetBytes(int64(size))
				seq := uint32(0)
				for b.Loop() {
					s.Sum(dst, seq, data)
					seq++
				}
			})
		}
	}
}
