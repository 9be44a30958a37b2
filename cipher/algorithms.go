package cipher

import (
	"fmt"
	"slices"

	"golang.org/x/sys/cpu"
)

// All lists every cipher this package negotiates, in the order Default
// uses on hardware with AES and carry-less multiplication.
var All = []string{
	"aes128-gcm@openssh.com",
	"aes256-gcm@openssh.com",
	"chacha20-poly1305@openssh.com",
	"aes128-ctr",
	"aes192-ctr",
	"aes256-ctr",
}

// hasGCMHardware reports whether AES-GCM runs on dedicated instructions
// (AES rounds and the carry-less multiply that GHASH needs). Without them
// crypto/aes falls back to slower code whose GHASH is not constant-time,
// and chacha20-poly1305 is the better choice.
var hasGCMHardware = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ ||
	cpu.ARM64.HasAES && cpu.ARM64.HasPMULL

// Default returns the ciphers offered by default, most preferred first:
// AES-GCM first on hardware that accelerates it, chacha20-poly1305 first
// elsewhere. The caller may modify the returned slice.
func Default() []string {
	return defaultOrder(hasGCMHardware)
}

func defaultOrder(gcmHardware bool) []string {
	if gcmHardware {
		return slices.Clone(All)
	}
	return []string{
		"chacha20-poly1305@openssh.com",
		"aes128-gcm@openssh.com",
		"aes256-gcm@openssh.com",
		"aes128-ctr",
		"aes192-ctr",
		"aes256-ctr",
	}
}

// Lookup returns the cipher called name, as negotiated in KEXINIT. It
// does not know "none".
func Lookup(name string) (*Algorithm, bool) {
	a, ok := algorithms[name]
	return a, ok
}

var algorithms = map[string]*Algorithm{
	"aes128-gcm@openssh.com":        gcmAlgorithm("aes128-gcm@openssh.com", 16),
	"aes256-gcm@openssh.com":        gcmAlgorithm("aes256-gcm@openssh.com", 32),
	"chacha20-poly1305@openssh.com": chachaAlgorithm,
	"aes128-ctr":                    ctrAlgorithm("aes128-ctr", 16),
	"aes192-ctr":                    ctrAlgorithm("aes192-ctr", 24),
	"aes256-ctr":                    ctrAlgorithm("aes256-ctr", 32),
}

// None is the "none" cipher of RFC 4253 §6.3: it encrypts nothing. It is
// for tests of the layers above and is neither in All nor known to
// Lookup. Its MAC may be nil (the "none" MAC) or any MAC from package
// mac, which then works as it does with a stream cipher; its block size
// is 8, the minimum of RFC 4253 §6.
var None = &Algorithm{
	Name: "none",
	NewSealer: func(key, iv []byte, m MAC, macKey []byte) (Sealer, error) {
		return newStream(nil, 8, m, macKey)
	},
	NewOpener: func(key, iv []byte, m MAC, macKey []byte) (Opener, error) {
		return newStream(nil, 8, m, macKey)
	},
}

// checkLen reports a derived key or IV of the wrong size. Key derivation
// (RFC 4253 §7.2) produces exactly what Algorithm asks for, so this only
// catches a broken caller.
func checkLen(alg, what string, b []byte, want int) error {
	if len(b) != want {
		return fmt.Errorf("cipher: %s: %s is %d bytes; want %d", alg, what, len(b), want)
	}
	return nil
}
