package cipher_test

import (
	"bytes"
	"crypto/aes"
	stdcipher "crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/zerossh/zerossh/cipher"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rawGCM(t testing.TB, key []byte) stdcipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := stdcipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

// TestGCMKnownAnswer seals the plaintext of McGrew and Viega's GCM test
// cases 3 (AES-128) and 15 (AES-256) as the part of a packet after
// packet_length. GCM's ciphertext does not depend on the additional data,
// so it must equal the published one. The tag does: the published tag is
// for no additional data, ours authenticates the 4 bytes of
// packet_length (RFC 5647 §7.3). It is checked against crypto/cipher
// given those 4 bytes as additional data, and pinned.
func TestGCMKnownAnswer(t *testing.T) {
	const (
		iv        = "cafebabefacedbaddecaf888"
		plaintext = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
	)
	for _, tc := range []struct {
		alg, key, ciphertext, publishedTag, tag string
	}{
		{
			"aes128-gcm@openssh.com",
			"feffe9928665731c6d6a8f9467308308",
			"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
				"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
			"4d5c2af327cd64a62cf35abd2ba6fab4",
			"e6114f6468325271e9b03b510a6dff85",
		},
		{
			"aes256-gcm@openssh.com",
			"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
			"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
				"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
			"b094dac5d93471bdec1a502270e3cc6c",
			"4c94d832c068679ac9246e9aa8d1987a",
		},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			key, nonce, pt := unhex(t, tc.key), unhex(t, iv), unhex(t, plaintext)
			raw := rawGCM(t, key)
			if got := raw.Seal(nil, nonce, pt, nil); !bytes.Equal(got, unhex(t, tc.ciphertext+tc.publishedTag)) {
				t.Fatalf("crypto/cipher does not reproduce the published vector: %x", got)
			}

			alg, _ := cipher.Lookup(tc.alg)
			s, err := alg.NewSealer(key, nonce, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			length := []byte{0, 0, 0, byte(len(pt))}
			p := withRoom(append(slices.Clone(length), pt...), s.Overhead())
			wire := s.Seal(0, p)
			if got, want := wire[:4], length; !bytes.Equal(got, want) {
				t.Errorf("packet_length = %x; want %x in clear", got, want)
			}
			if got, want := wire[4:4+len(pt)], unhex(t, tc.ciphertext); !bytes.Equal(got, want) {
				t.Errorf("ciphertext = %x; want %x", got, want)
			}
			rawTag := raw.Seal(nil, nonce, pt, length)[len(pt):]
			if got := wire[4+len(pt):]; !bytes.Equal(got, rawTag) {
				t.Errorf("tag = %x; want %x (crypto/cipher with packet_length as additional data)", got, rawTag)
			}
			if got, want := hex.EncodeToString(wire[4+len(pt):]), tc.tag; got != want {
				t.Errorf("tag = %s; want %s", got, want)
			}

			o, _ := alg.NewOpener(key, nonce, nil, nil)
			if got, err := receive(o, 0, wire); err != nil || !bytes.Equal(got[4:], pt) {
				t.Errorf("Open = %x, %v; want %x", got, err, pt)
			}
		})
	}
}

// TestGCMInvocationCounter checks the nonce of consecutive packets: the
// fixed field, then the invocation counter from the IV, incremented as a
// 64-bit integer per packet (RFC 5647 §7.1) and wrapping; the sequence
// number plays no part.
func TestGCMInvocationCounter(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 16)
	iv := unhex(t, "01020304fffffffffffffffe")
	alg, _ := cipher.Lookup("aes128-gcm@openssh.com")
	s, err := alg.NewSealer(key, iv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawGCM(t, key)
	for i, counter := range []uint64{0xfffffffffffffffe, 0xffffffffffffffff, 0, 1} {
		pt := bytes.Repeat([]byte{byte(i)}, 36)
		binary.BigEndian.PutUint32(pt, 32)
		nonce := binary.BigEndian.AppendUint64(slices.Clone(iv[:4]), counter)
		want := append(slices.Clone(pt[:4]), raw.Seal(nil, nonce, pt[4:], pt[:4])...)
		if got := s.Seal(uint32(1000*i+7), withRoom(pt, 16)); !bytes.Equal(got, want) {
			t.Errorf("packet %d: Seal = %x; want %x (invocation counter %#x)", i, got, want, counter)
		}
	}
}
