package zerossh

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/wire"
)

// Markers that travel in the kex_algorithms list but name no method.
const (
	extInfoClient   = "ext-info-c"                   // RFC 8308 §2.1
	extInfoServer   = "ext-info-s"                   // RFC 8308 §2.1
	strictKexClient = "kex-strict-c-v00@openssh.com" // OpenSSH PROTOCOL §1.10
	strictKexServer = "kex-strict-s-v00@openssh.com"
)

func isMarker(name string) bool {
	switch name {
	case extInfoClient, extInfoServer, strictKexClient, strictKexServer:
		return true
	}
	return false
}

// Algorithms are the algorithms negotiated by the last key exchange.
type Algorithms struct {
	Kex     string
	HostKey string
	// Read and Write are from this side's point of view.
	Read, Write DirectionAlgorithms
}

// DirectionAlgorithms are the algorithms protecting one direction.
type DirectionAlgorithms struct {
	Cipher string
	// MAC is empty for AEAD ciphers, which authenticate by themselves.
	MAC         string
	Compression string
}

// NegotiationError reports an algorithm category with no name in common.
type NegotiationError struct {
	What         string
	Client, Peer []string
}

func (e *NegotiationError) Error() string {
	return fmt.Sprintf("ssh: no common %s; we offered %s, peer offered %s",
		e.What, strings.Join(e.Client, ","), strings.Join(e.Peer, ","))
}

// firstMatch implements RFC 4253 §7.1: "The chosen algorithm MUST be the
// first algorithm on the client's name-list that is also on the server's
// name-list."
func firstMatch(client, server wire.NameList) (string, bool) {
	for c := range client.All() {
		if isMarker(string(c)) {
			continue
		}
		if server.Contains(string(c)) {
			return string(c), true
		}
	}
	return "", false
}

// negotiate picks the algorithms from the two KEXINITs. isClient says
// which one is ours, for the direction names and the error.
func negotiate(client, server *wire.KexInit, isClient bool) (Algorithms, error) {
	var a Algorithms
	var cs, sc DirectionAlgorithms
	miss := func(what string, c, s wire.NameList) error {
		ours, peer := c, s
		if !isClient {
			ours, peer = s, c
		}
		return &NegotiationError{What: what, Client: ours.Strings(), Peer: peer.Strings()}
	}
	var ok bool
	if a.Kex, ok = firstMatch(client.KexAlgos, server.KexAlgos); !ok {
		return a, miss("key exchange method", client.KexAlgos, server.KexAlgos)
	}
	if a.HostKey, ok = firstMatch(client.ServerHostKeyAlgos, server.ServerHostKeyAlgos); !ok {
		return a, miss("host key algorithm", client.ServerHostKeyAlgos, server.ServerHostKeyAlgos)
	}
	if cs.Cipher, ok = firstMatch(client.CiphersClientServer, server.CiphersClientServer); !ok {
		return a, miss("client to server cipher", client.CiphersClientServer, server.CiphersClientServer)
	}
	if sc.Cipher, ok = firstMatch(client.CiphersServerClient, server.CiphersServerClient); !ok {
		return a, miss("server to client cipher", client.CiphersServerClient, server.CiphersServerClient)
	}
	// An AEAD cipher ignores the MAC lists (OpenSSH PROTOCOL §1.6).
	if !isAEAD(cs.Cipher) {
		if cs.MAC, ok = firstMatch(client.MACsClientServer, server.MACsClientServer); !ok {
			return a, miss("client to server MAC", client.MACsClientServer, server.MACsClientServer)
		}
	}
	if !isAEAD(sc.Cipher) {
		if sc.MAC, ok = firstMatch(client.MACsServerClient, server.MACsServerClient); !ok {
			return a, miss("server to client MAC", client.MACsServerClient, server.MACsServerClient)
		}
	}
	if cs.Compression, ok = firstMatch(client.CompressionClientServer, server.CompressionClientServer); !ok {
		return a, miss("client to server compression", client.CompressionClientServer, server.CompressionClientServer)
	}
	if sc.Compression, ok = firstMatch(client.CompressionServerClient, server.CompressionServerClient); !ok {
		return a, miss("server to client compression", client.CompressionServerClient, server.CompressionServerClient)
	}
	if isClient {
		a.Write, a.Read = cs, sc
	} else {
		a.Write, a.Read = sc, cs
	}
	return a, nil
}

func isAEAD(name string) bool {
	alg, ok := cipher.Lookup(name)
	return ok && alg.AEAD
}

// guessWrong reports whether a first_kex_packet_follows guess missed.
// RFC 4253 §7.1: the guess is wrong "if the kex algorithm and/or the host
// key algorithm is guessed wrong (server and client have different
// preferred algorithm)", that is, when the first entries of the two
// sides' lists differ.
func guessWrong(client, server *wire.KexInit) bool {
	first := func(l wire.NameList) string {
		for n := range l.All() {
			return string(n)
		}
		return ""
	}
	return first(client.KexAlgos) != first(server.KexAlgos) ||
		first(client.ServerHostKeyAlgos) != first(server.ServerHostKeyAlgos)
}

// hostKeyAlgorithms lists the host key algorithms a server offers for
// its keys: RSA keys under both SHA-2 signature names, others under
// their key type.
func hostKeyAlgorithms(keyTypes []string) []string {
	var algs []string
	for _, t := range keyTypes {
		switch t {
		case "ssh-rsa":
			algs = append(algs, "rsa-sha2-512", "rsa-sha2-256")
		case "ssh-rsa-cert-v01@openssh.com":
			algs = append(algs, "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com")
		default:
			algs = append(algs, t)
		}
	}
	return slices.Compact(algs)
}

// keyTypeFor returns the key type a host key algorithm uses, and the
// signature format the signature carries.
func keyTypeFor(alg string) (keyType, sigFormat string) {
	switch alg {
	case "rsa-sha2-256", "rsa-sha2-512":
		return "ssh-rsa", alg
	case "rsa-sha2-256-cert-v01@openssh.com":
		return "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256"
	case "rsa-sha2-512-cert-v01@openssh.com":
		return "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-512"
	}
	if base, ok := strings.CutSuffix(alg, "-cert-v01@openssh.com"); ok {
		return alg, base
	}
	return alg, alg
}
