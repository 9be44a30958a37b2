//go:build !amd64 || !gc || purego

package chachastream

const useAsm = false

func xorKeyStreamAsm(dst, src []byte, key *[32]byte, nonce *[12]byte, counter uint32) {
	panic("chachastream: no assembly")
}
