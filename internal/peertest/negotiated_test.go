package peertest

import "testing"

// sshVerboseLog is an excerpt of `ssh -vvv -o Ciphers=aes128-ctr` stderr from OpenSSH_9.2p1
// Debian-2+deb12u10, followed by a second key exchange written by hand in the same format to
// cover AEAD ciphers, compression and different algorithms per direction.
const sshVerboseLog = `debug2: peer server KEXINIT proposal
debug2: KEX algorithms: sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,kex-strict-s-v00@openssh.com
debug3: kex_choose_conf: will use strict KEX ordering
debug1: kex: algorithm: sntrup761x25519-sha512
debug1: kex: host key algorithm: ssh-ed25519
debug1: kex: server->client cipher: aes128-ctr MAC: umac-64-etm@openssh.com compression: none
debug1: kex: client->server cipher: aes128-ctr MAC: umac-64-etm@openssh.com compression: none
debug1: expecting SSH2_MSG_KEX_ECDH_REPLY
debug1: SSH2_MSG_KEXINIT received
debug1: kex: algorithm: curve25519-sha256
debug1: kex: host key algorithm: rsa-sha2-512
debug1: kex: server->client cipher: aes256-gcm@openssh.com MAC: <implicit> compression: zlib@openssh.com
debug1: kex: client->server cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: none
`

// sshdLog has the shape of an sshd log (LogLevel DEBUG3): " [preauth]" suffixes, client->server
// first, and CRLF line ends as a log read on another system might have.
const sshdLog = "debug3: kex_choose_conf: will use strict KEX ordering [preauth]\r\n" +
	"debug1: kex: algorithm: curve25519-sha256 [preauth]\r\n" +
	"debug1: kex: host key algorithm: ecdsa-sha2-nistp256 [preauth]\r\n" +
	"debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none [preauth]\r\n" +
	"debug1: kex: server->client cipher: aes256-ctr MAC: hmac-sha2-512 compression: none [preauth]\r\n"

func TestNegotiations(t *testing.T) {
	got := Negotiations(sshVerboseLog)
	want := []Negotiated{{
		Kex:           "sntrup761x25519-sha512",
		HostKey:       "ssh-ed25519",
		CipherCS:      "aes128-ctr",
		CipherSC:      "aes128-ctr",
		MACCS:         "umac-64-etm@openssh.com",
		MACSC:         "umac-64-etm@openssh.com",
		CompressionCS: "none",
		CompressionSC: "none",
	}, {
		Kex:           "curve25519-sha256",
		HostKey:       "rsa-sha2-512",
		CipherCS:      "chacha20-poly1305@openssh.com",
		CipherSC:      "aes256-gcm@openssh.com",
		MACCS:         "<implicit>",
		MACSC:         "<implicit>",
		CompressionCS: "none",
		CompressionSC: "zlib@openssh.com",
	}}
	if len(got) != len(want) {
		t.Fatalf("got %d key exchanges %+v; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key exchange %d: got %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestNegotiatedFromLog(t *testing.T) {
	for _, tc := range []struct {
		name, log                                      string
		kex, hostKey, cipherCS, cipherSC, macCS, macSC string
	}{
		{"ssh", sshVerboseLog, "sntrup761x25519-sha512", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
			"umac-64-etm@openssh.com", "umac-64-etm@openssh.com"},
		{"sshd", sshdLog, "curve25519-sha256", "ecdsa-sha2-nistp256", "aes128-ctr", "aes256-ctr",
			"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512"},
		{"empty", "debug1: Connecting to 127.0.0.1 port 22.\n", "", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kex, hostKey, cipherCS, cipherSC, macCS, macSC := NegotiatedFromLog(tc.log)
			got := [...]string{kex, hostKey, cipherCS, cipherSC, macCS, macSC}
			want := [...]string{tc.kex, tc.hostKey, tc.cipherCS, tc.cipherSC, tc.macCS, tc.macSC}
			if got != want {
				t.Errorf("got %q; want %q", got, want)
			}
		})
	}
}
