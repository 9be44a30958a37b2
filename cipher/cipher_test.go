package cipher_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/mac"
)

// testCase is one cipher, with one MAC for the ciphers that need one.
type testCase struct {
	name string
	alg  *cipher.Algorithm
	mac  cipher.MAC // nil for AEAD ciphers and for none without a MAC
	// direct makes chacha20-poly1305@openssh.com encrypt with
	// x/crypto/chacha20 rather than through chachastream, as it does
	// where chachastream has no assembly.
	direct bool
}

// authenticated reports whether Open must reject tampered packets.
func (tc testCase) authenticated() bool { return tc.alg != cipher.None || tc.mac != nil }

// testCases lists every cipher with every MAC it works with, and "none"
// with and without a MAC.
func testCases() []testCase {
	var cs []testCase
	for _, name := range cipher.All {
		alg, _ := cipher.Lookup(name)
		if alg.AEAD {
			cs = append(cs, testCase{name: name, alg: alg})
			if name == "chacha20-poly1305@openssh.com" {
				cs = append(cs, testCase{name: name + "(direct)", alg: alg, direct: true})
			}
			continue
		}
		for _, mname := range mac.All {
			m, _ := mac.Lookup(mname)
			cs = append(cs, testCase{name: name + "+" + mname, alg: alg, mac: m})
		}
	}
	cs = append(cs, testCase{name: "none", alg: cipher.None})
	for _, mname := range mac.All {
		m, _ := mac.Lookup(mname)
		cs = append(cs, testCase{name: "none+" + mname, alg: cipher.None, mac: m})
	}
	return cs
}

// keys derives fixed key material for tc, varied by salt.
func (tc testCase) keys(salt byte) (key, iv, macKey []byte) {
	fill := func(n int, b byte) []byte {
		k := make([]byte, n)
		for i := range k {
			k[i] = b + byte(i)*13
		}
		return k
	}
	key = fill(tc.alg.KeyLen, salt)
	iv = fill(tc.alg.IVLen, salt+1)
	if tc.mac != nil {
		macKey = fill(tc.mac.KeyLen(), salt+2)
	}
	return key, iv, macKey
}

// pair returns a sealer and an opener for the same direction's keys.
func (tc testCase) pair(t testing.TB) (cipher.Sealer, cipher.Opener) {
	t.Helper()
	if tc.direct {
		defer cipher.SetChaChaStream(false)()
	}
	key, iv, macKey := tc.keys(1)
	s, err := tc.alg.NewSealer(key, iv, tc.mac, macKey)
	if err != nil {
		t.Fatalf("%s: NewSealer: %v", tc.name, err)
	}
	o, err := tc.alg.NewOpener(key, iv, tc.mac, macKey)
	if err != nil {
		t.Fatalf("%s: NewOpener: %v", tc.name, err)
	}
	return s, o
}

// buildPacket lays out payload as a binary packet (RFC 4253 §6) padded
// for s, with room for the tag after it.
func buildPacket(s cipher.Sealer, payload []byte, rng *rand.Rand) []byte {
	bs := s.BlockSize()
	n := 5 + len(payload)
	aligned := n
	if !s.LengthInBlocks() {
		aligned -= 4
	}
	pad := bs - aligned%bs
	if pad < 4 {
		pad += bs
	}
	p := make([]byte, n+pad, n+pad+s.Overhead())
	binary.BigEndian.PutUint32(p, uint32(n+pad-4))
	p[4] = byte(pad)
	copy(p[5:], payload)
	for i := n; i < len(p); i++ {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// withRoom returns a copy of p with room for n more bytes.
func withRoom(p []byte, n int) []byte {
	return append(make([]byte, 0, len(p)+n), p...)
}

// receive does what a transport does with a sealed packet: it asks for
// the length from the first FirstLen bytes, checks it against what
// arrived, and opens the packet.
func receive(o cipher.Opener, seq uint32, wire []byte) ([]byte, error) {
	if len(wire) < o.FirstLen() {
		return nil, fmt.Errorf("packet of %d bytes is shorter than FirstLen %d", len(wire), o.FirstLen())
	}
	got := o.PacketLength(seq, wire[:o.FirstLen()])
	if want := len(wire) - 4 - o.Overhead(); int(got) != want {
		return nil, fmt.Errorf("PacketLength = %d; want %d", got, want)
	}
	return o.Open(seq, wire)
}

func TestAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		name          string
		keyLen, ivLen int
		aead          bool
	}{
		{"aes128-gcm@openssh.com", 16, 12, true},
		{"aes256-gcm@openssh.com", 32, 12, true},
		{"chacha20-poly1305@openssh.com", 64, 0, true},
		{"aes128-ctr", 16, 16, false},
		{"aes192-ctr", 24, 16, false},
		{"aes256-ctr", 32, 16, false},
	} {
		a, ok := cipher.Lookup(tc.name)
		if !ok {
			t.Fatalf("Lookup(%q) failed", tc.name)
		}
		if a.Name != tc.name || a.KeyLen != tc.keyLen || a.IVLen != tc.ivLen || a.AEAD != tc.aead {
			t.Errorf("Lookup(%q) = {%q, KeyLen %d, IVLen %d, AEAD %v}; want {%q, %d, %d, %v}",
				tc.name, a.Name, a.KeyLen, a.IVLen, a.AEAD, tc.name, tc.keyLen, tc.ivLen, tc.aead)
		}
		if !slices.Contains(cipher.All, tc.name) {
			t.Errorf("%s not in All", tc.name)
		}
	}
	if len(cipher.All) != 6 {
		t.Errorf("len(All) = %d; want 6", len(cipher.All))
	}
	for _, name := range []string{"none", "", "aes128-cbc", "3des-cbc", "AES128-CTR", "chacha20-poly1305"} {
		if _, ok := cipher.Lookup(name); ok {
			t.Errorf("Lookup(%q) succeeded; want failure", name)
		}
	}
	if slices.Contains(cipher.All, "none") || slices.Contains(cipher.Default(), "none") {
		t.Errorf("none is in All or Default")
	}
	if cipher.None.Name != "none" || cipher.None.AEAD || cipher.None.KeyLen != 0 || cipher.None.IVLen != 0 {
		t.Errorf("None = %+v; want name none, no keys, not AEAD", *cipher.None)
	}
}

func TestDefault(t *testing.T) {
	gcmFirst := []string{
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
		"aes128-ctr", "aes192-ctr", "aes256-ctr",
	}
	chachaFirst := []string{
		"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
		"aes128-ctr", "aes192-ctr", "aes256-ctr",
	}
	if got := cipher.DefaultOrder(true); !slices.Equal(got, gcmFirst) {
		t.Errorf("DefaultOrder(true) = %v; want %v", got, gcmFirst)
	}
	if got := cipher.DefaultOrder(false); !slices.Equal(got, chachaFirst) {
		t.Errorf("DefaultOrder(false) = %v; want %v", got, chachaFirst)
	}
	d := cipher.Default()
	if !slices.Equal(d, gcmFirst) && !slices.Equal(d, chachaFirst) {
		t.Errorf("Default() = %v; want one of the two orders", d)
	}
	d[0] = "changed"
	if cipher.Default()[0] == "changed" || cipher.All[0] == "changed" {
		t.Errorf("Default() returns a shared slice")
	}
}

func TestNewErrors(t *testing.T) {
	sha256, _ := mac.Lookup("hmac-sha2-256")
	for _, name := range cipher.All {
		alg, _ := cipher.Lookup(name)
		var m cipher.MAC
		var macKey []byte
		if !alg.AEAD {
			m, macKey = sha256, make([]byte, 32)
		}
		key, iv := make([]byte, alg.KeyLen), make([]byte, alg.IVLen)
		if _, err := alg.NewSealer(key[1:], iv, m, macKey); err == nil {
			t.Errorf("%s: NewSealer with a short key succeeded", name)
		}
		if _, err := alg.NewOpener(append(key, 0), iv, m, macKey); err == nil {
			t.Errorf("%s: NewOpener with a long key succeeded", name)
		}
		if alg.IVLen > 0 {
			if _, err := alg.NewSealer(key, iv[1:], m, macKey); err == nil {
				t.Errorf("%s: NewSealer with a short IV succeeded", name)
			}
		}
		if !alg.AEAD {
			if _, err := alg.NewSealer(key, iv, nil, nil); err == nil {
				t.Errorf("%s: NewSealer without a MAC succeeded", name)
			}
			if _, err := alg.NewOpener(key, iv, m, macKey[1:]); err == nil {
				t.Errorf("%s: NewOpener with a short MAC key succeeded", name)
			}
		}
	}
}

var roundTripSizes = []int{0, 1, 3, 15, 16, 17, 63, 64, 100, 1000, 4096, 32 << 10, 256 << 10}

// TestRoundTrip seals packets of every size one after the other and opens
// them on another instance with the same keys: stream positions, GCM
// invocation counters and sequence numbers (wrapping past 2^32-1) must
// stay in step.
func TestRoundTrip(t *testing.T) {
	for _, tc := range testCases() {
		t.Run(tc.name, func(t *testing.T) {
			s, o := tc.pair(t)
			if s.BlockSize() != o.BlockSize() || s.Overhead() != o.Overhead() || s.LengthInBlocks() != o.LengthInBlocks() {
				t.Fatalf("sealer and opener disagree on block size, overhead or LengthInBlocks")
			}
			rng := rand.New(rand.NewPCG(1, 2))
			seq := uint32(1<<32 - 3)
			for round := range 2 {
				for _, size := range roundTripSizes {
					payload := make([]byte, size)
					for i := range payload {
						payload[i] = byte(rng.Uint32())
					}
					p := buildPacket(s, payload, rng)
					plain := slices.Clone(p)
					wire := s.Seal(seq, p)
					if len(wire) != len(plain)+s.Overhead() {
						t.Fatalf("round %d size %d: len(Seal) = %d; want %d", round, size, len(wire), len(plain)+s.Overhead())
					}
					if &wire[0] != &p[0] {
						t.Fatalf("round %d size %d: Seal did not work in place", round, size)
					}
					if tc.alg != cipher.None && size >= 16 && bytes.Equal(wire[5:5+size], payload) {
						t.Fatalf("round %d size %d: payload was not encrypted", round, size)
					}
					got, err := receive(o, seq, wire)
					if err != nil {
						t.Fatalf("round %d size %d seq %d: %v", round, size, seq, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("round %d size %d: Open = %x...; want %x...", round, size, got[:min(len(got), 32)], plain[:min(len(plain), 32)])
					}
					if &got[0] != &wire[0] {
						t.Fatalf("round %d size %d: Open did not work in place", round, size)
					}
					seq++
				}
			}
		})
	}
}

// TestTamper flips each byte of a sealed packet, length, payload and tag
// alike, and expects ErrMAC.
func TestTamper(t *testing.T) {
	for _, tc := range testCases() {
		if !tc.authenticated() {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			s, _ := tc.pair(t)
			payload := []byte("tamper with any byte of this and the packet must be refused")
			template := buildPacket(s, payload, rng)
			for seq := range uint32(2) {
				for i := range len(template) + s.Overhead() {
					s, o := tc.pair(t)
					// A packet before the one tampered with, so that stream
					// and counter state are not at their start.
					if _, err := receive(o, 0, s.Seal(0, buildPacket(s, nil, rng))); err != nil {
						t.Fatal(err)
					}
					p := withRoom(template, s.Overhead())
					wire := s.Seal(seq+1, p)
					wire[i] ^= 0x40
					o.PacketLength(seq+1, wire[:o.FirstLen()])
					if _, err := o.Open(seq+1, wire); err != cipher.ErrMAC {
						t.Fatalf("byte %d of %d flipped: Open error = %v; want ErrMAC", i, len(wire), err)
					}
				}
				// The right bytes under the wrong sequence number. AES-GCM
				// does not use it: its nonce has its own counter.
				if strings.Contains(tc.alg.Name, "-gcm@") {
					continue
				}
				s, o := tc.pair(t)
				wire := s.Seal(seq, withRoom(template, s.Overhead()))
				o.PacketLength(seq+7, wire[:o.FirstLen()])
				if _, err := o.Open(seq+7, wire); err != cipher.ErrMAC {
					t.Fatalf("wrong seq: Open error = %v; want ErrMAC", err)
				}
			}
		})
	}
}

// TestShortPackets gives Open packets too short to hold a tag, and
// PacketLength fewer than FirstLen bytes: no panic, ErrMAC and 0.
func TestShortPackets(t *testing.T) {
	for _, tc := range testCases() {
		t.Run(tc.name, func(t *testing.T) {
			for n := range 40 {
				_, o := tc.pair(t)
				p := make([]byte, n)
				if n < o.FirstLen() {
					if got := o.PacketLength(0, p); got != 0 {
						t.Errorf("PacketLength of %d bytes = %d; want 0", n, got)
					}
				} else {
					o.PacketLength(0, p[:o.FirstLen()])
				}
				_, err := o.Open(0, p)
				if n < o.FirstLen()+o.Overhead() && err != cipher.ErrMAC {
					t.Errorf("Open of %d bytes: error = %v; want ErrMAC", n, err)
				}
				if tc.authenticated() && err == nil {
					t.Errorf("Open of %d zero bytes succeeded", n)
				}
			}
		})
	}
}

func TestSealOpenAllocs(t *testing.T) {
	for _, tc := range testCases() {
		for _, size := range []int{0, 1 << 10, 32 << 10} {
			s, o := tc.pair(t)
			rng := rand.New(rand.NewPCG(5, 6))
			p := buildPacket(s, make([]byte, size), rng)
			plain := slices.Clone(p)
			seq := uint32(0)
			var err error
			allocs := testing.AllocsPerRun(50, func() {
				copy(p, plain)
				wire := s.Seal(seq, p)
				o.PacketLength(seq, wire[:o.FirstLen()])
				if _, e := o.Open(seq, wire); e != nil && err == nil {
					err = e
				}
				seq++
			})
			if err != nil {
				t.Fatalf("%s size %d: %v", tc.name, size, err)
			}
			if allocs != 0 {
				t.Errorf("%s size %d: Seal+PacketLength+Open allocate %v times; want 0", tc.name, size, allocs)
			}
		}
	}
}

// FuzzOpen feeds arbitrary bytes to PacketLength and Open of every
// cipher. Nothing may panic, and whatever opens must be exactly what Seal
// makes of the plaintext Open returned.
func FuzzOpen(f *testing.F) {
	cases := testCases()
	for i, tc := range cases {
		s, _ := tc.pair(f)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		f.Add(uint8(i), uint32(0), s.Seal(0, buildPacket(s, []byte("seed"), rng)))
		f.Add(uint8(i), uint32(1), make([]byte, 64))
	}
	f.Fuzz(func(t *testing.T, ci uint8, seq uint32, data []byte) {
		tc := cases[int(ci)%len(cases)]
		s, o := tc.pair(t)
		orig := slices.Clone(data)
		if len(data) >= o.FirstLen() {
			o.PacketLength(seq, data[:o.FirstLen()])
		} else {
			o.PacketLength(seq, data)
		}
		got, err := o.Open(seq, data)
		if err != nil {
			if !errors.Is(err, cipher.ErrMAC) {
				t.Fatalf("%s: Open error = %v; want ErrMAC", tc.name, err)
			}
			return
		}
		if resealed := s.Seal(seq, withRoom(got, s.Overhead())); !bytes.Equal(resealed, orig) {
			t.Fatalf("%s: Open accepted %x, which Seal makes %x", tc.name, orig, resealed)
		}
	})
}

// FuzzRoundTrip seals a packet for every cipher and checks that it opens
// to what was sealed, that no proper prefix of it opens, and that a
// flipped bit makes it fail.
func FuzzRoundTrip(f *testing.F) {
	cases := testCases()
	for i := range cases {
		f.Add(uint8(i), uint32(0), []byte("hello"), uint16(0))
		f.Add(uint8(i), uint32(1<<32-1), make([]byte, 300), uint16(0x1234))
	}
	f.Fuzz(func(t *testing.T, ci uint8, seq uint32, payload []byte, flip uint16) {
		tc := cases[int(ci)%len(cases)]
		rng := rand.New(rand.NewPCG(uint64(seq), uint64(flip)))
		s, o := tc.pair(t)
		plain := buildPacket(s, payload, rng)
		wire := s.Seal(seq, withRoom(plain, s.Overhead()))
		sealed := slices.Clone(wire)
		got, err := receive(o, seq, wire)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("%s: Open = %x; want %x", tc.name, got, plain)
		}
		if !tc.authenticated() {
			return
		}
		for _, n := range []int{0, 1, o.FirstLen(), len(sealed) - o.Overhead(), len(sealed) - 1} {
			_, o := tc.pair(t)
			prefix := slices.Clone(sealed[:n])
			if n >= o.FirstLen() {
				o.PacketLength(seq, prefix[:o.FirstLen()])
			}
			if _, err := o.Open(seq, prefix); err != cipher.ErrMAC {
				t.Fatalf("%s: Open of a %d-byte prefix of %d: error = %v; want ErrMAC", tc.name, n, len(sealed), err)
			}
		}
		if flip != 0 {
			_, o := tc.pair(t)
			bad := slices.Clone(sealed)
			bad[int(flip>>3)%len(bad)] ^= 1 << (flip & 7)
			o.PacketLength(seq, bad[:o.FirstLen()])
			if _, err := o.Open(seq, bad); err != cipher.ErrMAC {
				t.Fatalf("%s: Open with bit %d flipped: error = %v; want ErrMAC", tc.name, flip, err)
			}
		}
	})
}
