// Package peertest starts real OpenSSH peers (sshd, ssh, sftp) on the loopback interface for
// interop tests of the transport, the client and the server.
//
// A test of our client against sshd:
//
//	func TestOpenSSHClientExec(t *testing.T) {
//		priv, pub := peertest.GenerateKey(t, t.TempDir(), peertest.KeyEd25519)
//		sshd := peertest.StartSSHD(t, peertest.SSHDOptions{
//			AuthorizedKeys: [][]byte{pub},
//			Extra:          []string{"Ciphers aes128-gcm@openssh.com"},
//		})
//		// Dial sshd.Addr with our client, log in as peertest.CurrentUser(t) with the key in
//		// priv, run a command...
//		if !sshd.WaitLog(t, "kex: client->server cipher: aes128-gcm@openssh.com", 5*time.Second) {
//			t.Fatalf("cipher not negotiated:\n%s", sshd.Log())
//		}
//	}
//
// and of our server, listening on port, against ssh:
//
//	stdout, stderr, err := peertest.RunSSH(t, ctx, peertest.SSHClientOptions{
//		Port:         port,
//		IdentityFile: priv,
//		Options:      []string{"Ciphers=chacha20-poly1305@openssh.com"},
//		Command:      []string{"echo", "hello"},
//		Verbose:      true,
//	})
//	kex, hostKey, cipherCS, cipherSC, macCS, macSC := peertest.NegotiatedFromLog(string(stderr))
//
// Every process a helper starts is stopped by a t.Cleanup registered by that helper. When the
// OpenSSH binaries are missing, tests are skipped, or fail if the environment variable
// ZEROSSH_INTEROP is set to 1, so that a missing peer cannot pass silently.
//
// Everything listens on and dials 127.0.0.1 only.
package peertest
