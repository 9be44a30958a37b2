package cipher_test

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305"

	"github.com/zerossh/zerossh/cipher"
)

// refChaCha is chacha20-poly1305@openssh.com built word for word from
// PROTOCOL.chacha20poly1305 on x/crypto/chacha20 and poly1305 alone: the
// reference the package's construction on internal/chachastream is
// checked against, and the generic build it is measured against.
type refChaCha struct {
	k1, k2 [32]byte
}

func newRefChaCha(key []byte) *refChaCha {
	r := &refChaCha{}
	copy(r.k2[:], key[:32]) // "The first 256 bits constitute K_2
	copy(r.k1[:], key[32:]) // and the second 256 bits become K_1."
	return r
}

// ciphers returns the two ChaCha20 instances for one packet; the nonce is
// the sequence number as a uint64, in the 12-byte form that x/crypto/chacha20
// takes (a zero high half of the 64-bit block counter first). They are
// returned by value so that they stay on the stack.
func (r *refChaCha) ciphers(seq uint32) (length, payload chacha20.Cipher) {
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[4:], uint64(seq))
	l, err := chacha20.NewUnauthenticatedCipher(r.k1[:], nonce[:])
	if err != nil {
		panic(err)
	}
	p, err := chacha20.NewUnauthenticatedCipher(r.k2[:], nonce[:])
	if err != nil {
		panic(err)
	}
	return *l, *p
}

func (r *refChaCha) seal(seq uint32, p []byte) []byte {
	length, payload := r.ciphers(seq)
	length.XORKeyStream(p[:4], p[:4])
	var polyKey [32]byte
	payload.XORKeyStream(polyKey[:], polyKey[:])
	payload.SetCounter(1)
	payload.XORKeyStream(p[4:], p[4:])
	var tag [16]byte
	poly1305.Sum(&tag, p, &polyKey)
	return append(p, tag[:]...)
}

func (r *refChaCha) open(seq uint32, p []byte) ([]byte, bool) {
	if len(p) < 4+16 {
		return nil, false
	}
	n := len(p) - 16
	length, payload := r.ciphers(seq)
	var polyKey [32]byte
	payload.XORKeyStream(polyKey[:], polyKey[:])
	var tag [16]byte
	poly1305.Sum(&tag, p[:n], &polyKey)
	if subtle.ConstantTimeCompare(tag[:], p[n:]) != 1 {
		return nil, false
	}
	payload.SetCounter(1)
	payload.XORKeyStream(p[4:n], p[4:n])
	length.XORKeyStream(p[:4], p[:4])
	return p[:n], true
}

// chachaModes names the two ways the package encrypts the payload: through
// internal/chachastream (its AVX2 assembly on amd64 with AVX2) and with
// x/crypto/chacha20 directly. Tests run both wherever they run.
var chachaModes = []struct {
	name string
	fast bool
}{{"chachastream", true}, {"direct", false}}

// forEachChaChaMode runs f once per mode.
func forEachChaChaMode(t *testing.T, f func(t *testing.T)) {
	for _, m := range chachaModes {
		t.Run(m.name, func(t *testing.T) {
			defer cipher.SetChaChaStream(m.fast)()
			f(t)
		})
	}
}

func newChaCha(t testing.TB, key []byte) (cipher.Sealer, cipher.Opener) {
	t.Helper()
	alg, _ := cipher.Lookup("chacha20-poly1305@openssh.com")
	s, err := alg.NewSealer(key, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := alg.NewOpener(key, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// TestChaCha20Poly1305KnownAnswer checks a published packet: the
// chacha20-poly1305@openssh.com vector of ring's and aws-lc-rs's test
// suites (sequence number 94), and a longer packet whose payload spans
// several ChaCha20 blocks, computed with refChaCha and pinned.
func TestChaCha20Poly1305KnownAnswer(t *testing.T) {
	longKey := make([]byte, 64)
	for i := range longKey {
		longKey[i] = byte(i)
	}
	longPlain := make([]byte, 4+152)
	binary.BigEndian.PutUint32(longPlain, 152)
	longPlain[4] = 7
	for i := 5; i < len(longPlain); i++ {
		longPlain[i] = byte(i * 3)
	}
	for _, tc := range []struct {
		name       string
		key        []byte
		seq        uint32
		plain      []byte
		ciphertext string
		tag        string
	}{
		{
			"ring", unhex(t, "247a041f6780baf0de3741aa4436024b6a5169b0eab8a090a291f5900bf566a5"+
				"4ac2c64c0f38cab14a143111bc39d1873013f52f2e92062e375c1a5378ad9b32"),
			94, unhex(t, "000000100f000000000000000000000000000000"),
			"c87186a24d89e672f37df98a95d0a0653e9f0fe4", "075bc727e855c8d487bb3060c42267cd",
		},
		{
			"long", longKey, 0x01020304, longPlain,
			"bc7980e391cd0ea7c30a3888f04a0ed198736c4d3d1256927bf2238fd92516f7" +
				"413949b10cb252345d0b87c04685a116eb7b489612d019a063e6a0da5cf585b9" +
				"027b8de4963047e244621b1b0b38d891883a36abd070c030d160aaa3d217b9d4" +
				"5f73900434a016149eb2082437b692c335867d3e00b56b8e52dde89b74519638" +
				"6d95f8f51e9c4b64ab1c493bd608de72f9fb32a443aae2e360f20feb",
			"8fb81d7f9559673fcea2b85dd6f39a24",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachChaChaMode(t, func(t *testing.T) {
				want := unhex(t, tc.ciphertext+tc.tag)
				ref := newRefChaCha(tc.key).seal(tc.seq, slices.Clone(tc.plain))
				if !bytes.Equal(ref, want) {
					t.Fatalf("reference seal = %x; want %x", ref, want)
				}
				s, o := newChaCha(t, tc.key)
				wire := s.Seal(tc.seq, withRoom(tc.plain, 16))
				if !bytes.Equal(wire, want) {
					t.Fatalf("Seal = %x; want %x", wire, want)
				}
				got, err := receive(o, tc.seq, wire)
				if err != nil || !bytes.Equal(got, tc.plain) {
					t.Fatalf("Open = %x, %v; want %x", got, err, tc.plain)
				}
			})
		})
	}
}

// checkChaChaAgainstReference seals plain with both constructions and
// opens each one's output with the other.
func checkChaChaAgainstReference(t *testing.T, key []byte, seq uint32, plain []byte) {
	t.Helper()
	ref := newRefChaCha(key)
	s, o := newChaCha(t, key)
	want := ref.seal(seq, withRoom(plain, 16))
	got := s.Seal(seq, withRoom(plain, 16))
	if !bytes.Equal(got, want) {
		t.Fatalf("seq %d, %d bytes: Seal = %x; reference %x", seq, len(plain), got, want)
	}
	if n := o.PacketLength(seq, got[:4]); n != binary.BigEndian.Uint32(plain) {
		t.Fatalf("seq %d: PacketLength = %d; want %d", seq, n, binary.BigEndian.Uint32(plain))
	}
	opened, err := o.Open(seq, got)
	if err != nil || !bytes.Equal(opened, plain) {
		t.Fatalf("seq %d: Open of the reference's packet = %x, %v; want %x", seq, opened, err, plain)
	}
	s, _ = newChaCha(t, key)
	refOpened, ok := ref.open(seq, s.Seal(seq, withRoom(plain, 16)))
	if !ok || !bytes.Equal(refOpened, plain) {
		t.Fatalf("seq %d: reference open of Seal's packet = %x, %v; want %x", seq, refOpened, ok, plain)
	}
}

func TestChaCha20Poly1305Reference(t *testing.T) {
	forEachChaChaMode(t, testChaChaReference)
}

func testChaChaReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, size := range []int{4, 5, 20, 63, 64, 65, 67, 68, 69, 127, 128, 129, 500, 4096, 32 << 10, 256<<10 + 5} {
		key := make([]byte, 64)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		plain := make([]byte, size)
		for i := range plain {
			plain[i] = byte(rng.Uint32())
		}
		for _, seq := range []uint32{0, 1, 1<<32 - 1, rng.Uint32()} {
			checkChaChaAgainstReference(t, key, seq, plain)
		}
	}
}

// TestChaCha20Poly1305Bounds checks that Seal writes nothing past its
// tag and Open nothing past the plaintext: the tag it checked stays in
// place, and so does whatever follows the packet in the buffer.
func TestChaCha20Poly1305Bounds(t *testing.T) {
	forEachChaChaMode(t, func(t *testing.T) {
		const guard = 64
		rng := rand.New(rand.NewPCG(10, 11))
		key := make([]byte, 64)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		for _, size := range []int{4, 5, 67, 68, 511, 512, 515, 516, 517, 1000, 32 << 10} {
			plain := make([]byte, size)
			for i := range plain {
				plain[i] = byte(rng.Uint32())
			}
			s, o := newChaCha(t, key)
			buf := bytes.Repeat([]byte{0xa5}, size+16+guard)
			copy(buf, plain)
			wire := s.Seal(3, buf[:size])
			if len(wire) != size+16 || &wire[0] != &buf[0] {
				t.Fatalf("%d bytes: Seal did not seal in place", size)
			}
			if !bytes.Equal(buf[size+16:], bytes.Repeat([]byte{0xa5}, guard)) {
				t.Fatalf("%d bytes: Seal wrote past the tag", size)
			}
			tag := slices.Clone(wire[size:])
			got, err := o.Open(3, wire)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes: Open = %x, %v; want %x", size, got, err, plain)
			}
			if !bytes.Equal(buf[size:size+16], tag) {
				t.Fatalf("%d bytes: Open overwrote the tag", size)
			}
			if !bytes.Equal(buf[size+16:], bytes.Repeat([]byte{0xa5}, guard)) {
				t.Fatalf("%d bytes: Open wrote past the packet", size)
			}
		}
	})
}

// FuzzChaCha20Poly1305Reference compares the construction, both ways, with
// refChaCha on arbitrary keys, sequence numbers and packets.
func FuzzChaCha20Poly1305Reference(f *testing.F) {
	f.Add(make([]byte, 64), uint32(0), []byte("\x00\x00\x00\x0c\x04hello world"))
	f.Add(bytes.Repeat([]byte{0xff}, 64), uint32(1<<32-1), make([]byte, 1000))
	f.Fuzz(func(t *testing.T, key []byte, seq uint32, plain []byte) {
		if len(key) < 64 || len(plain) < 4 {
			return
		}
		for _, m := range chachaModes {
			restore := cipher.SetChaChaStream(m.fast)
			checkChaChaAgainstReference(t, key[:64], seq, plain)
			restore()
		}
	})
}

// BenchmarkChaCha20Poly1305Generic measures refChaCha, whose ChaCha20 is
// x/crypto/chacha20's portable Go; BenchmarkChaCha20Poly1305Fast measures
// the package's construction on the same packets.
func BenchmarkChaCha20Poly1305Generic(b *testing.B) {
	const size = 32 << 10
	ref := newRefChaCha(make([]byte, 64))
	b.Run("Seal/32KiB", func(b *testing.B) {
		p := make([]byte, size, size+16)
		b.ReportAllocs()
		b.SetBytes(size)
		seq := uint32(0)
		for b.Loop() {
			ref.seal(seq, p[:size])
			seq++
		}
	})
	b.Run("Open/32KiB", func(b *testing.B) {
		var sealSeq, openSeq uint32
		benchmarkOpen(b, size, 16,
			func(p []byte) []byte {
				sealSeq++
				return ref.seal(sealSeq, p)
			},
			func(p []byte) error {
				openSeq++
				if _, ok := ref.open(openSeq, p); !ok {
					return cipher.ErrMAC
				}
				return nil
			})
	})
}

func BenchmarkChaCha20Poly1305Fast(b *testing.B) {
	alg, _ := cipher.Lookup("chacha20-poly1305@openssh.com")
	tc := testCase{name: alg.Name, alg: alg}
	b.Run("Seal/32KiB", func(b *testing.B) { benchmarkSeal(b, tc, 32<<10) })
	b.Run("Open/32KiB", func(b *testing.B) { benchmarkOpenPacket(b, tc, 32<<10) })
}
