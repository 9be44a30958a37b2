package wire

import (
	"bytes"
	"testing"
)

// vector is a message and its encoding.
type vector[M any] struct {
	name string
	m    M
	enc  []byte
}

// kexInitVectors are written out from the layout of RFC 4253 §7.1.
var kexInitVectors = []vector[KexInit]{
	{
		name: "single-algorithms",
		m: KexInit{
			Cookie:                  [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
			KexAlgos:                NameList("curve25519-sha256"),
			ServerHostKeyAlgos:      NameList("ssh-ed25519"),
			CiphersClientServer:     NameList("aes128-ctr"),
			CiphersServerClient:     NameList("aes128-ctr"),
			MACsClientServer:        NameList("hmac-sha2-256"),
			MACsServerClient:        NameList("hmac-sha2-256"),
			CompressionClientServer: NameList("none"),
			CompressionServerClient: NameList("none"),
		},
		enc: mustHex("14" + // SSH_MSG_KEXINIT
			"000102030405060708090a0b0c0d0e0f" + // cookie
			"00000011 637572766532353531392d736861323536" + // kex_algorithms "curve25519-sha256"
			"0000000b 7373682d65643235353139" + // server_host_key_algorithms "ssh-ed25519"
			"0000000a 6165733132382d637472" + // encryption_algorithms_client_to_server "aes128-ctr"
			"0000000a 6165733132382d637472" + // encryption_algorithms_server_to_client
			"0000000d 686d61632d736861322d323536" + // mac_algorithms_client_to_server "hmac-sha2-256"
			"0000000d 686d61632d736861322d323536" + // mac_algorithms_server_to_client
			"00000004 6e6f6e65" + // compression_algorithms_client_to_server "none"
			"00000004 6e6f6e65" + // compression_algorithms_server_to_client
			"00000000" + // languages_client_to_server
			"00000000" + // languages_server_to_client
			"00" + // first_kex_packet_follows
			"00000000"), // reserved
	},
	{
		name: "empty-lists-first-kex-follows",
		m: KexInit{
			Cookie:                [16]byte{15: 0xff},
			LanguagesServerClient: NameList("en,de"),
			FirstKexFollows:       true,
			Reserved:              0x01020304,
		},
		enc: mustHex("14" +
			"000000000000000000000000000000ff" +
			"00000000 00000000 00000000 00000000 00000000" +
			"00000000 00000000 00000000 00000000" +
			"00000005 656e2c6465" + // languages_server_to_client "en,de"
			"01" +
			"01020304"),
	},
}

func TestKexInitEncoding(t *testing.T) {
	for _, v := range kexInitVectors {
		t.Run(v.name, func(t *testing.T) { checkEncoding(t, v.m, v.enc) })
	}
}

func TestKexInitStrict(t *testing.T) {
	var m KexInit
	for _, v := range kexInitVectors {
		t.Run(v.name, func(t *testing.T) { checkStrict(t, m.Parse, v.enc) })
	}
	for _, name := range []string{"openssh-client-kexinit.bin", "openssh-server-kexinit.bin"} {
		t.Run(name, func(t *testing.T) { checkStrict(t, m.Parse, readTestdata(t, name)) })
	}
}

func TestKexInitMalformed(t *testing.T) {
	good := kexInitVectors[0].enc
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong-number", append([]byte{MsgNewKeys}, good[1:]...)},
		// kex_algorithms "curve25519-sha256," has an empty last name.
		{"empty-name", mustHex("14 000102030405060708090a0b0c0d0e0f 00000012 637572766532353531392d7368613235362c" +
			"0000000b 7373682d65643235353139 0000000a 6165733132382d637472 0000000a 6165733132382d637472" +
			"0000000d 686d61632d736861322d323536 0000000d 686d61632d736861322d323536" +
			"00000004 6e6f6e65 00000004 6e6f6e65 00000000 00000000 00 00000000")},
		{"list-length-past-end", mustHex("14 000102030405060708090a0b0c0d0e0f 0000ffff 6162")},
	}
	for _, tt := range tests {
		var m KexInit
		if err := m.Parse(tt.in); err != ErrMalformed {
			t.Errorf("%s: Parse = %v; want ErrMalformed", tt.name, err)
		}
	}
}

// TestKexInitAliases checks the documented ownership: the name-lists
// alias the parsed bytes, the cookie does not.
func TestKexInitAliases(t *testing.T) {
	in := bytes.Clone(kexInitVectors[0].enc)
	var m KexInit
	if err := m.Parse(in); err != nil {
		t.Fatal(err)
	}
	in[1] = 0xee // first cookie byte
	in[21] = 'C' // first byte of kex_algorithms
	if m.Cookie[0] != 0 {
		t.Errorf("Cookie changed with the input; want a copy")
	}
	if string(m.KexAlgos) != "Curve25519-sha256" {
		t.Errorf("KexAlgos = %q after changing the input; want it to alias the input", m.KexAlgos)
	}
}

// The testdata KEXINIT payloads were recorded from OpenSSH_9.2p1
// Debian-2+deb12u10. Each is the payload (message number through the
// reserved uint32; no packet_length, padding_length or padding) of the
// first binary packet the peer sent on a new connection, which is
// unencrypted and always KEXINIT (RFC 4253 §7.1). A small Go program, not
// kept, made them:
//
// openssh-client-kexinit.bin: it listened on a free 127.0.0.1 port, ran
//
//	ssh -p PORT -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
//	    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 127.0.0.1 true
//
// accepted the connection, sent "SSH-2.0-kexcapture\r\n", read lines up
// to the client's "SSH-2.0-..." identification, then read one packet
// (uint32 packet_length, byte padding_length, payload, padding) and saved
// the payload.
//
// openssh-server-kexinit.bin: it made a host key with
// ssh-keygen -q -t ed25519 -N "" -f KEY, wrote a configuration
//
//	HostKey KEY
//	PidFile none
//	UsePAM no
//	StrictModes no
//	ListenAddress 127.0.0.1
//	Port PORT
//
// created /run/sshd, started /usr/sbin/sshd -D -e -f CONFIG, connected to
// it, exchanged identification lines the same way and saved the payload
// of sshd's first packet.
//
// The cookie is random, so a new recording differs from these in bytes
// 1-16.

func TestKexInitOpenSSHClient(t *testing.T) {
	in := readTestdata(t, "openssh-client-kexinit.bin")
	m := checkOpenSSHKexInit(t, in)
	for _, name := range []string{"curve25519-sha256", "curve25519-sha256@libssh.org", "ext-info-c", "kex-strict-c-v00@openssh.com"} {
		if !m.KexAlgos.Contains(name) {
			t.Errorf("KexAlgos %q lacks %q", m.KexAlgos, name)
		}
	}
	for _, name := range []string{"ssh-ed25519", "rsa-sha2-256", "ssh-ed25519-cert-v01@openssh.com"} {
		if !m.ServerHostKeyAlgos.Contains(name) {
			t.Errorf("ServerHostKeyAlgos %q lacks %q", m.ServerHostKeyAlgos, name)
		}
	}
	if got, want := string(m.CompressionClientServer), "none,zlib@openssh.com,zlib"; got != want {
		t.Errorf("CompressionClientServer = %q; want %q", got, want)
	}
}

func TestKexInitOpenSSHServer(t *testing.T) {
	in := readTestdata(t, "openssh-server-kexinit.bin")
	m := checkOpenSSHKexInit(t, in)
	for _, name := range []string{"curve25519-sha256", "kex-strict-s-v00@openssh.com"} {
		if !m.KexAlgos.Contains(name) {
			t.Errorf("KexAlgos %q lacks %q", m.KexAlgos, name)
		}
	}
	if m.KexAlgos.Contains("ext-info-c") {
		t.Errorf("server KexAlgos %q contains the client-only ext-info-c", m.KexAlgos)
	}
	// The server offers exactly the algorithms of its one host key.
	if got, want := string(m.ServerHostKeyAlgos), "ssh-ed25519"; got != want {
		t.Errorf("ServerHostKeyAlgos = %q; want %q", got, want)
	}
	if got, want := string(m.CompressionServerClient), "none,zlib@openssh.com"; got != want {
		t.Errorf("CompressionServerClient = %q; want %q", got, want)
	}
}

// checkOpenSSHKexInit checks what both recorded OpenSSH KEXINITs have in
// common and that they re-encode byte for byte.
func checkOpenSSHKexInit(t *testing.T, in []byte) *KexInit {
	t.Helper()
	var m KexInit
	if err := m.Parse(in); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !bytes.Equal(m.Cookie[:], in[1:17]) {
		t.Errorf("Cookie = %x; want %x", m.Cookie, in[1:17])
	}
	if got, want := m.CiphersClientServer.Strings()[0], "chacha20-poly1305@openssh.com"; got != want {
		t.Errorf("first cipher = %q; want %q", got, want)
	}
	if !bytes.Equal(m.CiphersClientServer, m.CiphersServerClient) || !bytes.Equal(m.MACsClientServer, m.MACsServerClient) {
		t.Errorf("OpenSSH sent different algorithms for the two directions")
	}
	for _, name := range []string{"aes128-ctr", "aes256-gcm@openssh.com"} {
		if !m.CiphersServerClient.Contains(name) {
			t.Errorf("CiphersServerClient %q lacks %q", m.CiphersServerClient, name)
		}
	}
	if !m.MACsClientServer.Contains("hmac-sha2-256-etm@openssh.com") {
		t.Errorf("MACsClientServer %q lacks hmac-sha2-256-etm@openssh.com", m.MACsClientServer)
	}
	if len(m.LanguagesClientServer) != 0 || len(m.LanguagesServerClient) != 0 || m.FirstKexFollows || m.Reserved != 0 {
		t.Errorf("languages %q %q, first_kex_packet_follows %v, reserved %d; want empty, empty, false, 0",
			m.LanguagesClientServer, m.LanguagesServerClient, m.FirstKexFollows, m.Reserved)
	}
	if m.Len() != len(in) {
		t.Errorf("Len() = %d; want %d", m.Len(), len(in))
	}
	if got := m.Append(nil); !bytes.Equal(got, in) {
		t.Errorf("Append(Parse(recording)) differs from the recording:\n%x\nwant\n%x", got, in)
	}
	return &m
}

func FuzzKexInit(f *testing.F) {
	for _, v := range kexInitVectors {
		f.Add(v.enc)
	}
	f.Add(readTestdata(f, "openssh-client-kexinit.bin"))
	f.Add(readTestdata(f, "openssh-server-kexinit.bin"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m KexInit
		if m.Parse(b) != nil {
			return
		}
		enc := reparse(t, &m)
		// Only a boolean may encode differently (any non-zero byte is
		// true), and it is one byte either way.
		if len(enc) != len(b) {
			t.Fatalf("Parse(%x) re-encodes to %d bytes; want %d", b, len(enc), len(b))
		}
		for _, l := range m.lists() {
			if !validNameListOracle(*l) {
				t.Fatalf("Parse(%x) accepted the name-list %q", b, *l)
			}
		}
	})
}

func BenchmarkKexInitParse(b *testing.B) {
	for _, peer := range []struct{ name, file string }{
		{"OpenSSH-client", "openssh-client-kexinit.bin"},
		{"OpenSSH-server", "openssh-server-kexinit.bin"},
	} {
		b.Run(peer.name, func(b *testing.B) {
			in := readTestdata(b, peer.file)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			var m KexInit
			for b.Loop() {
				if err := m.Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
