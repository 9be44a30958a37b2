package peertest

import "strings"

// Negotiated is what one key exchange chose, as OpenSSH logs it at LogLevel DEBUG1 or above
// (ssh -v, sshd LogLevel DEBUG). An AEAD cipher's MAC is logged as "<implicit>".
type Negotiated struct {
	Kex     string // key exchange method
	HostKey string // host key signature algorithm

	// Per direction, CS for client to server, SC for server to client.
	CipherCS, CipherSC           string
	MACCS, MACSC                 string
	CompressionCS, CompressionSC string
}

// The lines, logged by kex_choose_conf in OpenSSH's kex.c:
//
//	debug1: kex: algorithm: curve25519-sha256
//	debug1: kex: host key algorithm: ssh-ed25519
//	debug1: kex: client->server cipher: aes128-ctr MAC: umac-64-etm@openssh.com compression: none
//	debug1: kex: server->client cipher: aes128-ctr MAC: umac-64-etm@openssh.com compression: none
//
// sshd adds " [preauth]" to the lines of its pre-authentication child. ssh logs server->client
// before client->server, sshd the other way round.
const (
	prefixKex     = "kex: algorithm: "
	prefixHostKey = "kex: host key algorithm: "
	prefixCS      = "kex: client->server cipher: "
	prefixSC      = "kex: server->client cipher: "
)

// Negotiations returns every key exchange logged in log, an ssh -v stderr or an sshd log, in
// order: the first is the initial key exchange, any more are rekeys. An sshd log interleaves
// the lines of concurrent connections; parse it per connection when a test makes several at
// once.
func Negotiations(log string) []Negotiated {
	var out []Negotiated
	cur := func() *Negotiated {
		if len(out) == 0 {
			out = append(out, Negotiated{})
		}
		return &out[len(out)-1]
	}
	for line := range strings.Lines(log) {
		line = strings.TrimRight(line, "\r\n")
		line = strings.TrimSuffix(line, " [preauth]")
		_, rest, ok := strings.Cut(line, "kex: ")
		if !ok {
			continue
		}
		rest = "kex: " + rest
		switch {
		case strings.HasPrefix(rest, prefixKex):
			out = append(out, Negotiated{Kex: rest[len(prefixKex):]})
		case strings.HasPrefix(rest, prefixHostKey):
			cur().HostKey = rest[len(prefixHostKey):]
		case strings.HasPrefix(rest, prefixCS):
			n := cur()
			n.CipherCS, n.MACCS, n.CompressionCS = parseDirection(rest[len(prefixCS):])
		case strings.HasPrefix(rest, prefixSC):
			n := cur()
			n.CipherSC, n.MACSC, n.CompressionSC = parseDirection(rest[len(prefixSC):])
		}
	}
	return out
}

// parseDirection splits "C MAC: M compression: Z".
func parseDirection(s string) (cipher, mac, comp string) {
	cipher, rest, _ := strings.Cut(s, " MAC: ")
	mac, comp, _ = strings.Cut(rest, " compression: ")
	return cipher, mac, comp
}

// NegotiatedFromLog returns what the first key exchange logged in log chose: the kex and host
// key algorithms and the cipher and MAC of each direction (CS: client to server, SC: server to
// client). Each is empty when log does not say it. See Negotiations for rekeys and
// compression.
func NegotiatedFromLog(log string) (kex, hostKey, cipherCS, cipherSC, macCS, macSC string) {
	all := Negotiations(log)
	if len(all) == 0 {
		return
	}
	n := all[0]
	return n.Kex, n.HostKey, n.CipherCS, n.CipherSC, n.MACCS, n.MACSC
}
