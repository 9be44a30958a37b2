package kex

import "crypto"

// DeriveKey returns n bytes of key material (RFC 4253 §7.2):
//
//	K1 = HASH(K || H || letter || session_id)
//	K2 = HASH(K || H || K1)
//	Kj = HASH(K || H || K1 || ... || K(j-1))
//	key = the first n bytes of K1 || K2 || ...
//
// K is the shared secret already encoded as the method hashes it (Result.K,
// length prefix included), H the exchange hash of this key exchange and
// sessionID the exchange hash of the first one. letter is 'A' to 'F' for
// the client-to-server IV, server-to-client IV, client-to-server key,
// server-to-client key, and the two integrity keys.
func DeriveKey(h crypto.Hash, K, H, sessionID []byte, letter byte, n int) []byte {
	if n <= 0 {
		return []byte{}
	}
	size := h.Size()
	out := make([]byte, 0, (n+size-1)/size*size)
	d := h.New()
	d.Write(K)
	d.Write(H)
	// The letter goes through out's first byte, which K1 then
	// overwrites: a one-byte slice of its own would be an allocation.
	out = append(out, letter)
	d.Write(out)
	d.Write(sessionID)
	out = d.Sum(out[:0])
	for len(out) < n {
		d.Reset()
		d.Write(K)
		d.Write(H)
		d.Write(out)
		out = d.Sum(out)
	}
	return out[:n:n]
}
