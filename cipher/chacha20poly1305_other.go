//go:build !amd64 || !gc || purego

package cipher

// chachaPayloadAEAD is false where x/crypto/chacha20poly1305 has no
// assembly of its own (it is then built on x/crypto/chacha20, which has
// assembly on arm64, ppc64x, s390x and loong64): encrypting through it
// would only add a Poly1305 pass.
var chachaPayloadAEAD = false
