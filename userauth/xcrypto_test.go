package userauth

// Interop with golang.org/x/crypto/ssh over TCP loopback: its client
// against Serve, and Authenticate against its server.

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
)

// xcClient runs x/crypto/ssh's client with auth against Serve.
func xcClient(t *testing.T, sc *ServerConfig, auth ...ssh.AuthMethod) (res *Result, srvErr, cliErr error) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	ch := make(chan serveResult, 1)
	go func() {
		s, err := zerossh.Server(nc2, &zerossh.ServerConfig{HostKeys: []ssh.Signer{hostKey()}, Services: []string{"ssh-userauth"}})
		if err != nil {
			ch <- serveResult{nil, err}
			return
		}
		defer s.Close()
		res, err := Serve(s, sc)
		ch <- serveResult{res, err}
	}()
	conn, chans, reqs, err := ssh.NewClientConn(nc1, "127.0.0.1:22", &ssh.ClientConfig{
		User:            testUser,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(hostKey().PublicKey()),
	})
	if err == nil {
		go ssh.DiscardRequests(reqs)
		go func() {
			for c := range chans {
				c.Reject(ssh.Prohibited, "")
			}
		}()
		conn.Close()
	} else {
		nc1.Close()
	}
	r := wait(t, ch, "Serve")
	return r.res, r.err, err
}

func TestXCryptoClientPassword(t *testing.T) {
	checkGoroutines(t)
	res, srvErr, cliErr := xcClient(t, &ServerConfig{PasswordCallback: checkPassword}, ssh.Password(testPassword))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v", srvErr, cliErr)
	}
	if res.User != testUser || res.Method != MethodPassword {
		t.Errorf("Result = %+v", res)
	}
}

func TestXCryptoClientWrongPassword(t *testing.T) {
	checkGoroutines(t)
	_, srvErr, cliErr := xcClient(t, &ServerConfig{PasswordCallback: checkPassword}, ssh.Password("guess"))
	if srvErr == nil || cliErr == nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v; want both to fail", srvErr, cliErr)
	}
}

func TestXCryptoClientPublicKey(t *testing.T) {
	for _, signer := range []func() ssh.Signer{userEd, userECDSA, userRSA} {
		t.Run(signer().PublicKey().Type(), func(t *testing.T) {
			checkGoroutines(t)
			// The wrong key first: x/crypto/ssh queries, then moves on.
			res, srvErr, cliErr := xcClient(t, &ServerConfig{PublicKeyCallback: acceptKeys(signer().PublicKey())},
				ssh.PublicKeys(otherEd(), signer()))
			if srvErr != nil || cliErr != nil {
				t.Fatalf("Serve: %v; ssh.NewClientConn: %v", srvErr, cliErr)
			}
			if res.Method != MethodPublicKey || res.Permissions.Extensions["key"] != ssh.FingerprintSHA256(signer().PublicKey()) {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

func TestXCryptoClientCertificate(t *testing.T) {
	checkGoroutines(t)
	res, srvErr, cliErr := xcClient(t, &ServerConfig{PublicKeyCallback: certChecker().Authenticate},
		ssh.PublicKeys(userCert(t, nil)))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v", srvErr, cliErr)
	}
	if _, ok := res.Permissions.Extensions["permit-pty"]; !ok {
		t.Errorf("Permissions = %+v; want the certificate's", res.Permissions)
	}
}

func TestXCryptoClientKeyboardInteractive(t *testing.T) {
	checkGoroutines(t)
	res, srvErr, cliErr := xcClient(t, &ServerConfig{
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			a, err := client("", "", []string{"Password: ", "Code: "}, []bool{false, true})
			if err != nil {
				return nil, err
			}
			if a[0] != testPassword || a[1] != "123456" {
				return nil, errors.New("wrong answers")
			}
			return nil, nil
		},
	}, ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		if !slices.Equal(questions, []string{"Password: ", "Code: "}) || !slices.Equal(echos, []bool{false, true}) {
			return nil, errors.New("unexpected questions")
		}
		return []string{testPassword, "123456"}, nil
	}))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v", srvErr, cliErr)
	}
	if res.Method != MethodKeyboardInteractive {
		t.Errorf("Result = %+v", res)
	}
}

func TestXCryptoClientPartialSuccess(t *testing.T) {
	checkGoroutines(t)
	res, srvErr, cliErr := xcClient(t, &ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if _, err := checkPassword(m, pw); err != nil {
				return nil, err
			}
			return nil, &ssh.PartialSuccessError{Next: ssh.ServerAuthCallbacks{PublicKeyCallback: acceptKeys(userEd().PublicKey())}}
		},
	}, ssh.Password(testPassword), ssh.PublicKeys(userEd()))
	if srvErr != nil || cliErr != nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v", srvErr, cliErr)
	}
	if res.Method != MethodPublicKey {
		t.Errorf("Result = %+v", res)
	}
}

// xcServer runs Authenticate against x/crypto/ssh's server.
func xcServer(t *testing.T, sc *ssh.ServerConfig, cc *ClientConfig) (perms *ssh.Permissions, srvErr, cliErr error) {
	t.Helper()
	nc1, nc2 := tcpPair(t)
	sc.AddHostKey(hostKey())
	type result struct {
		perms *ssh.Permissions
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		conn, chans, reqs, err := ssh.NewServerConn(nc2, sc)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for c := range chans {
				c.Reject(ssh.Prohibited, "")
			}
		}()
		ch <- result{conn.Permissions, nil}
		conn.Wait()
	}()
	c, err := zerossh.Client(nc1, "127.0.0.1:22", &zerossh.ClientConfig{HostKeyCallback: ssh.FixedHostKey(hostKey().PublicKey())})
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	defer c.Close()
	if cc.User == "" {
		cc.User = testUser
	}
	cliErr = Authenticate(c, cc)
	if cliErr != nil {
		c.Close()
	}
	r := wait(t, ch, "ssh.NewServerConn")
	return r.perms, r.err, cliErr
}

func TestXCryptoServerPassword(t *testing.T) {
	checkGoroutines(t)
	_, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{PasswordCallback: checkPassword},
		&ClientConfig{Methods: []Method{Password(testPassword)}})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
	}
}

func TestXCryptoServerWrongPassword(t *testing.T) {
	checkGoroutines(t)
	_, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{PasswordCallback: checkPassword},
		&ClientConfig{Methods: []Method{Password("guess")}})
	var ae *AuthError
	if !errors.As(cliErr, &ae) || srvErr == nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v; want an *AuthError", srvErr, cliErr)
	}
}

func TestXCryptoServerPublicKey(t *testing.T) {
	for _, key := range []func() ssh.Signer{userEd, userECDSA, userRSA} {
		t.Run(key().PublicKey().Type(), func(t *testing.T) {
			checkGoroutines(t)
			signer := newRecordingSigner(key())
			perms, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{PublicKeyCallback: acceptKeys(signer.PublicKey())},
				&ClientConfig{Methods: []Method{PublicKeys(otherEd(), signer)}})
			if srvErr != nil || cliErr != nil {
				t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
			}
			if perms.Extensions["key"] != ssh.FingerprintSHA256(signer.PublicKey()) {
				t.Errorf("Permissions = %+v", perms)
			}
			if used := signer.used(); len(used) != 1 || (key().PublicKey().Type() == ssh.KeyAlgoRSA && used[0] != ssh.KeyAlgoRSASHA512) {
				t.Errorf("signed with %q", used)
			}
		})
	}
}

func TestXCryptoServerCertificate(t *testing.T) {
	checkGoroutines(t)
	perms, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{PublicKeyCallback: certChecker().Authenticate},
		&ClientConfig{Methods: []Method{PublicKeys(userCert(t, nil))}})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
	}
	if _, ok := perms.Extensions["permit-pty"]; !ok {
		t.Errorf("Permissions = %+v; want the certificate's", perms)
	}
}

func TestXCryptoServerKeyboardInteractive(t *testing.T) {
	checkGoroutines(t)
	_, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			a, err := client("PAM", "Enter both", []string{"Password: ", "Code: "}, []bool{false, true})
			if err != nil {
				return nil, err
			}
			if a[0] != testPassword || a[1] != "123456" {
				return nil, errors.New("wrong answers")
			}
			return nil, nil
		},
	}, &ClientConfig{Methods: []Method{KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		return []string{testPassword, "123456"}, nil
	})}})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
	}
}

func TestXCryptoServerPartialSuccess(t *testing.T) {
	checkGoroutines(t)
	_, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if _, err := checkPassword(m, pw); err != nil {
				return nil, err
			}
			return nil, &ssh.PartialSuccessError{Next: ssh.ServerAuthCallbacks{PublicKeyCallback: acceptKeys(userEd().PublicKey())}}
		},
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
			return nil, errors.New("password first")
		},
	}, &ClientConfig{Methods: []Method{PublicKeys(userEd()), Password(testPassword), PublicKeys(userEd())}})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
	}
}

// TestXCryptoClientSHA1Refused: an x/crypto/ssh client restricted to
// ssh-rsa (SHA-1) signatures cannot log in.
func TestXCryptoClientSHA1Refused(t *testing.T) {
	checkGoroutines(t)
	sha1Only, err := ssh.NewSignerWithAlgorithms(userRSA().(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	_, srvErr, cliErr := xcClient(t, &ServerConfig{PublicKeyCallback: acceptKeys(userRSA().PublicKey())}, ssh.PublicKeys(sha1Only))
	if srvErr == nil || cliErr == nil {
		t.Fatalf("Serve: %v; ssh.NewClientConn: %v; want both to fail", srvErr, cliErr)
	}
}

// TestXCryptoServerRSASHA256: our client follows the server-sig-algs of
// an x/crypto/ssh server that takes rsa-sha2-256 only.
func TestXCryptoServerRSASHA256(t *testing.T) {
	checkGoroutines(t)
	signer := newRecordingSigner(userRSA())
	_, srvErr, cliErr := xcServer(t, &ssh.ServerConfig{
		PublicKeyCallback:       acceptKeys(signer.PublicKey()),
		PublicKeyAuthAlgorithms: []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA256},
	}, &ClientConfig{Methods: []Method{PublicKeys(signer)}})
	if srvErr != nil || cliErr != nil {
		t.Fatalf("ssh.NewServerConn: %v; Authenticate: %v", srvErr, cliErr)
	}
	if used := signer.used(); !slices.Equal(used, []string{ssh.KeyAlgoRSASHA256}) {
		t.Errorf("signed with %q; want [rsa-sha2-256]", used)
	}
}
