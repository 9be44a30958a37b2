package bench

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// rawCipher is the ceiling of one of Ciphers: the library primitive with
// nothing of SSH around it.
type rawCipher interface {
	// seal protects p in place; p has room for the tag after len(p).
	seal(p []byte) []byte
	// open checks and decrypts what seal returned into dst, leaving p as
	// it is, so that the benchmark can open the same packet again.
	open(dst, p []byte) error
	overhead() int
}

// rawCiphers maps the Name of each of Ciphers to its ceiling:
// crypto/cipher's AES-GCM, x/crypto's IETF ChaCha20-Poly1305 (OpenSSH's
// variant runs the same two primitives), and AES-CTR followed by
// HMAC-SHA-256 over the ciphertext.
var rawCiphers = map[string]func() rawCipher{
	"aes128-gcm@openssh.com":        func() rawCipher { return newRawAEAD(aesGCM(16)) },
	"aes256-gcm@openssh.com":        func() rawCipher { return newRawAEAD(aesGCM(32)) },
	"chacha20-poly1305@openssh.com": func() rawCipher { a, _ := chacha20poly1305.New(make([]byte, 32)); return newRawAEAD(a) },
	"aes128-ctr+hmac-sha2-256-etm@openssh.com": func() rawCipher {
		block := must(aes.NewCipher(make([]byte, 16)))
		iv := make([]byte, aes.BlockSize)
		return &rawCTR{
			sealer: stdcipher.NewCTR(block, iv), opener: stdcipher.NewCTR(block, iv),
			mac: hmac.New(sha256.New, make([]byte, 32)),
		}
	},
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func aesGCM(keyLen int) stdcipher.AEAD {
	return must(stdcipher.NewGCM(must(aes.NewCipher(make([]byte, keyLen)))))
}

type rawAEAD struct {
	aead  stdcipher.AEAD
	nonce []byte
}

func newRawAEAD(a stdcipher.AEAD) *rawAEAD {
	return &rawAEAD{aead: a, nonce: make([]byte, a.NonceSize())}
}

func (r *rawAEAD) seal(p []byte) []byte {
	return p[:4+len(r.aead.Seal(p[4:4], r.nonce, p[4:], p[:4]))]
}

func (r *rawAEAD) open(dst, p []byte) error {
	_, err := r.aead.Open(dst[:0], r.nonce, p[4:], p[:4])
	return err
}

func (r *rawAEAD) overhead() int { return r.aead.Overhead() }

// rawCTR runs one key stream per direction on, as a connection does.
type rawCTR struct {
	sealer, opener stdcipher.Stream
	mac            interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
		Reset()
	}
	sum [sha256.Size]byte
}

func (r *rawCTR) seal(p []byte) []byte {
	r.sealer.XORKeyStream(p[4:], p[4:])
	r.mac.Reset()
	r.mac.Write(p)
	return r.mac.Sum(p)
}

func (r *rawCTR) open(dst, p []byte) error {
	n := len(p) - sha256.Size
	r.mac.Reset()
	r.mac.Write(p[:n])
	if !hmac.Equal(r.mac.Sum(r.sum[:0]), p[n:]) {
		return errMAC
	}
	r.opener.XORKeyStream(dst[:n-4], p[4:n])
	return nil
}

func (r *rawCTR) overhead() int { return sha256.Size }

type macError struct{}

func (macError) Error() string { return "bench: MAC mismatch" }

var errMAC error = macError{}

// BenchmarkAEAD is the ceiling of each of Ciphers: seal and open of one
// 32 KiB packet by the primitives alone, single-threaded. A transfer moves
// at most this fast when sealing and opening run on different cores, and
// its cpu-ns/op is at least seal plus open.
func BenchmarkAEAD(b *testing.B) {
	for _, algs := range Ciphers {
		mk := rawCiphers[algs.Name()]
		b.Run(algs.Name()+"/seal", func(b *testing.B) {
			c := mk()
			p := make([]byte, ChunkSize, ChunkSize+c.overhead())
			b.SetBytes(ChunkSize)
			b.ReportAllocs()
			for b.Loop() {
				c.seal(p)
			}
		})
		b.Run(algs.Name()+"/open", func(b *testing.B) {
			c := mk()
			p := c.seal(make([]byte, ChunkSize, ChunkSize+c.overhead()))
			dst := make([]byte, len(p))
			b.SetBytes(ChunkSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.open(dst, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
