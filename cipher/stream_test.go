package cipher_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/mac"
)

// TestCTRKnownAnswer runs NIST SP 800-38A F.5.1, F.5.3 and F.5.5 (CTR-AES
// encryption) through the packet ciphers. With encrypt-and-MAC the whole
// packet is encrypted, so two 32-byte packets must give the four
// published ciphertext blocks: the counter carries on from one packet to
// the next. With encrypt-then-MAC, the bytes after packet_length must.
func TestCTRKnownAnswer(t *testing.T) {
	const (
		iv        = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
		plaintext = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
			"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
	)
	for _, tc := range []struct {
		alg, key, ciphertext string
	}{
		{"aes128-ctr", "2b7e151628aed2a6abf7158809cf4f3c",
			"874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff" +
				"5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"},
		{"aes192-ctr", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
			"1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94" +
				"1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050"},
		{"aes256-ctr", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
			"601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5" +
				"2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"},
	} {
		alg, _ := cipher.Lookup(tc.alg)
		key, counter, pt, want := unhex(t, tc.key), unhex(t, iv), unhex(t, plaintext), unhex(t, tc.ciphertext)
		for _, macName := range []string{"hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"} {
			t.Run(tc.alg+"+"+macName, func(t *testing.T) {
				m, _ := mac.Lookup(macName)
				macKey := make([]byte, m.KeyLen())
				s, err := alg.NewSealer(key, counter, m, macKey)
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				if m.ETM() {
					wire := s.Seal(0, withRoom(append([]byte{0, 0, 0, 64}, pt...), m.Size()))
					got = wire[4 : 4+len(pt)]
				} else {
					got = append(got, s.Seal(0, withRoom(pt[:32], m.Size()))[:32]...)
					got = append(got, s.Seal(1, withRoom(pt[32:], m.Size()))[:32]...)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("ciphertext = %x; want %x", got, want)
				}
			})
		}
	}
}

// newHMAC is each MAC's definition, from crypto/hmac directly.
var newHMAC = map[string]func() hash.Hash{
	"hmac-sha2-256": sha256.New, "hmac-sha2-256-etm@openssh.com": sha256.New,
	"hmac-sha2-512": sha512.New, "hmac-sha2-512-etm@openssh.com": sha512.New,
	"hmac-sha1": sha1.New, "hmac-sha1-etm@openssh.com": sha1.New,
}

func wantMAC(name string, key []byte, seq uint32, data []byte) []byte {
	h := hmac.New(newHMAC[name], key)
	h.Write(binary.BigEndian.AppendUint32(nil, seq))
	h.Write(data)
	return h.Sum(nil)
}

// TestMACInput checks what the MAC covers, against crypto/hmac: for
// encrypt-and-MAC the sequence number and the plaintext packet (RFC 4253
// §6.4), for encrypt-then-MAC the sequence number, packet_length in clear
// and the ciphertext (OpenSSH PROTOCOL §1.5). It also checks which bytes
// are encrypted and what PacketLength and FirstLen say.
func TestMACInput(t *testing.T) {
	for _, tc := range testCases() {
		if tc.mac == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, _, macKey := tc.keys(1)
			s, o := tc.pair(t)
			rng := rand.New(rand.NewPCG(10, 11))
			for seq := uint32(5); seq < 8; seq++ {
				plain := buildPacket(s, []byte(strings.Repeat("payload ", int(seq))), rng)
				n := len(plain)
				wire := s.Seal(seq, withRoom(plain, s.Overhead()))
				var want []byte
				if tc.mac.ETM() {
					if !bytes.Equal(wire[:4], plain[:4]) {
						t.Fatalf("packet_length = %x; want %x in clear", wire[:4], plain[:4])
					}
					want = wantMAC(tc.mac.Name(), macKey, seq, wire[:n])
				} else {
					want = wantMAC(tc.mac.Name(), macKey, seq, plain)
				}
				if got := wire[n:]; !bytes.Equal(got, want) {
					t.Fatalf("seq %d: MAC = %x; want %x", seq, got, want)
				}
				if tc.alg == cipher.None && !bytes.Equal(wire[:n], plain) {
					t.Fatalf("none changed the packet: %x; want %x", wire[:n], plain)
				}

				wantFirst, wantInBlocks := 4, false
				if !tc.mac.ETM() {
					wantFirst, wantInBlocks = o.BlockSize(), true
				}
				if o.FirstLen() != wantFirst || o.LengthInBlocks() != wantInBlocks {
					t.Fatalf("FirstLen, LengthInBlocks = %d, %v; want %d, %v", o.FirstLen(), o.LengthInBlocks(), wantFirst, wantInBlocks)
				}
				if got, err := receive(o, seq, wire); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("seq %d: Open = %x, %v; want %x", seq, got, err, plain)
				}
			}
		})
	}
}

// TestNoneWithoutMAC checks that "none" with no MAC passes packets through
// as they are, with an 8-byte block (RFC 4253 §6).
func TestNoneWithoutMAC(t *testing.T) {
	tc := testCase{name: "none", alg: cipher.None}
	s, o := tc.pair(t)
	if s.BlockSize() != 8 || s.Overhead() != 0 || !s.LengthInBlocks() || o.FirstLen() != 8 {
		t.Errorf("BlockSize, Overhead, LengthInBlocks, FirstLen = %d, %d, %v, %d; want 8, 0, true, 8",
			s.BlockSize(), s.Overhead(), s.LengthInBlocks(), o.FirstLen())
	}
	plain := buildPacket(s, []byte("hello"), rand.New(rand.NewPCG(1, 1)))
	wire := s.Seal(3, slices.Clone(plain))
	if !bytes.Equal(wire, plain) {
		t.Errorf("Seal = %x; want %x", wire, plain)
	}
	if got, err := receive(o, 3, wire); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("Open = %x, %v; want %x", got, err, plain)
	}
}
