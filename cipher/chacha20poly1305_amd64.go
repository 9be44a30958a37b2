//go:build gc && !purego

package cipher

import "golang.org/x/sys/cpu"

// chachaPayloadAEAD reports whether x/crypto/chacha20poly1305 runs its AVX2
// assembly, under the conditions it checks itself, while x/crypto/chacha20
// has no assembly on amd64.
var chachaPayloadAEAD = cpu.X86.HasAVX2 && cpu.X86.HasBMI2 && cpu.X86.HasSSSE3
