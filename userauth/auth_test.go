package userauth

// Our client against our server, over TCP loopback (and net.Pipe once).

import (
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
)

func TestNoneAccepted(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{
		NoneCallback: func(m ssh.ConnMetadata) (*ssh.Permissions, error) { return nil, nil },
	}, &ClientConfig{})
	s.mustSucceed(t, MethodNone)
}

func TestNoneRefusedByDefault(t *testing.T) {
	checkGoroutines(t)
	s := startSession(t, false, nil, nil, &ServerConfig{PasswordCallback: checkPassword})
	err := s.auth(&ClientConfig{})
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Authenticate = %v; want *AuthError", err)
	}
	if !slices.Equal(ae.Tried, []string{MethodNone}) || !slices.Equal(ae.Remaining, []string{MethodPassword}) {
		t.Errorf("AuthError = %+v; want tried [none], remaining [password]", ae)
	}
	// The connection stays open for another attempt.
	if err := s.auth(&ClientConfig{Methods: []Method{Password(testPassword)}}); err != nil {
		t.Fatalf("second Authenticate: %v", err)
	}
	res, err := s.serve(t)
	if err != nil || res.Method != MethodPassword {
		t.Fatalf("Serve = %+v, %v", res, err)
	}
}

func TestPassword(t *testing.T) {
	for _, pipe := range []bool{false, true} {
		name := "TCP"
		if pipe {
			name = "Pipe"
		}
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			var got []byte
			s := authenticateOver(t, pipe, nil, nil, &ServerConfig{
				PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
					got = pw
					return checkPassword(m, pw)
				},
			}, &ClientConfig{Methods: []Method{Password(testPassword)}})
			s.mustSucceed(t, MethodPassword)
			if string(got) != testPassword {
				t.Errorf("password = %q; want %q", got, testPassword)
			}
			if s.res.Permissions.Extensions["via"] != "password" {
				t.Errorf("Permissions = %+v; want those of the callback", s.res.Permissions)
			}
		})
	}
}

func TestPasswordCallbackRetries(t *testing.T) {
	checkGoroutines(t)
	tries := []string{"wrong", "also wrong", testPassword}
	s := authenticate(t, &ServerConfig{PasswordCallback: checkPassword}, &ClientConfig{
		Methods: []Method{PasswordCallback(func() (string, error) {
			pw := tries[0]
			tries = tries[1:]
			return pw, nil
		})},
	})
	s.mustSucceed(t, MethodPassword)
}

func TestPublicKey(t *testing.T) {
	tests := []struct {
		name    string
		signer  func() ssh.Signer
		sigAlgs []string // server-sig-algs; nil for the default
		want    string   // signature algorithm
	}{
		{"ssh-ed25519", userEd, nil, ssh.KeyAlgoED25519},
		{"ecdsa-sha2-nistp256", userECDSA, nil, ssh.KeyAlgoECDSA256},
		{"rsa-sha2-512", userRSA, nil, ssh.KeyAlgoRSASHA512},
		{"rsa-sha2-256", userRSA, []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA256}, ssh.KeyAlgoRSASHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			signer := newRecordingSigner(tt.signer())
			var calls int
			accept := acceptKeys(signer.PublicKey())
			sc := &ServerConfig{
				PublicKeyCallback: func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
					calls++
					return accept(m, k)
				},
				PublicKeyAlgorithms: tt.sigAlgs,
			}
			s := authenticateOver(t, false, nil, &zerossh.ServerConfig{ServerSigAlgs: tt.sigAlgs}, sc,
				&ClientConfig{Methods: []Method{PublicKeys(signer)}})
			s.mustSucceed(t, MethodPublicKeyHostbound)
			if got := signer.used(); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("signed with %q; want [%s]", got, tt.want)
			}
			// Keys in memory sign at once: no query.
			if calls != 1 {
				t.Errorf("PublicKeyCallback called %d times; want 1", calls)
			}
			// Keys from a callback are queried first: once for the query,
			// once after the signature.
			calls = 0
			s = authenticateOver(t, false, nil, &zerossh.ServerConfig{ServerSigAlgs: tt.sigAlgs}, sc,
				&ClientConfig{Methods: []Method{PublicKeysCallback(func() ([]ssh.Signer, error) { return []ssh.Signer{signer}, nil })}})
			s.mustSucceed(t, MethodPublicKeyHostbound)
			if calls != 2 {
				t.Errorf("PublicKeysCallback: PublicKeyCallback called %d times; want 2", calls)
			}
			if s.res.Permissions.Extensions["key"] != ssh.FingerprintSHA256(signer.PublicKey()) {
				t.Errorf("Permissions = %+v", s.res.Permissions)
			}
		})
	}
}

// TestPublicKeyWithoutExtInfo: with no EXT_INFO there is neither
// server-sig-algs nor publickey-hostbound@openssh.com, so RSA signs with
// rsa-sha2-512 by default and the method is plain "publickey".
func TestPublicKeyWithoutExtInfo(t *testing.T) {
	checkGoroutines(t)
	signer := newRecordingSigner(userRSA())
	tcc := &zerossh.ClientConfig{}
	tcc.DisableExtInfo = true
	s := authenticateOver(t, false, tcc, nil, &ServerConfig{PublicKeyCallback: acceptKeys(signer.PublicKey())},
		&ClientConfig{Methods: []Method{PublicKeys(signer)}})
	s.mustSucceed(t, MethodPublicKey)
	if got := signer.used(); !slices.Equal(got, []string{ssh.KeyAlgoRSASHA512}) {
		t.Errorf("signed with %q; want [rsa-sha2-512]", got)
	}
}

// TestPublicKeyNoSHA2 checks that a client never falls back to ssh-rsa
// when server-sig-algs has no RSA algorithm with SHA-2.
func TestPublicKeyNoSHA2(t *testing.T) {
	checkGoroutines(t)
	signer := newRecordingSigner(userRSA())
	algs := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSA}
	s := authenticateOver(t, false, nil, &zerossh.ServerConfig{ServerSigAlgs: algs},
		&ServerConfig{PublicKeyCallback: acceptKeys(signer.PublicKey()), PublicKeyAlgorithms: algs},
		&ClientConfig{Methods: []Method{PublicKeys(signer)}})
	var ae *AuthError
	if !errors.As(s.cliErr, &ae) || len(ae.Errs) != 1 {
		t.Fatalf("Authenticate = %v; want *AuthError with the reason", s.cliErr)
	}
	if got := signer.used(); len(got) != 0 {
		t.Errorf("signed with %q; want no signature", got)
	}
	if slices.Contains(ae.Tried, MethodPublicKey) {
		t.Errorf("Tried = %q; the key should not even be offered", ae.Tried)
	}
}

func TestPublicKeysSkipsRefusedKeys(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{PublicKeyCallback: acceptKeys(userECDSA().PublicKey())},
		&ClientConfig{Methods: []Method{PublicKeysCallback(func() ([]ssh.Signer, error) {
			return []ssh.Signer{otherEd(), nil, userECDSA()}, nil
		})}})
	s.mustSucceed(t, MethodPublicKeyHostbound)
}

func TestCertificate(t *testing.T) {
	tests := []struct {
		name     string
		critical map[string]string
		ok       bool
	}{
		{"plain", nil, true},
		{"source-address-match", map[string]string{"source-address": "10.0.0.0/8,127.0.0.1/32"}, true},
		{"source-address-mismatch", map[string]string{"source-address": "10.0.0.0/8"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			signer := userCert(t, tt.critical)
			var seen ssh.PublicKey
			checker := certChecker()
			s := authenticate(t, &ServerConfig{
				PublicKeyCallback: func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
					seen = k
					return checker.Authenticate(m, k)
				},
			}, &ClientConfig{Methods: []Method{PublicKeys(signer)}})
			if !tt.ok {
				var ae *AuthError
				if !errors.As(s.cliErr, &ae) {
					t.Fatalf("Authenticate = %v; want *AuthError", s.cliErr)
				}
				return
			}
			s.mustSucceed(t, MethodPublicKeyHostbound)
			if _, ok := seen.(*ssh.Certificate); !ok {
				t.Errorf("callback saw %T; want *ssh.Certificate", seen)
			}
			if _, ok := s.res.Permissions.Extensions["permit-pty"]; !ok {
				t.Errorf("Permissions = %+v; want the certificate's", s.res.Permissions)
			}
		})
	}
}

func TestRSACertificate(t *testing.T) {
	checkGoroutines(t)
	cert := &ssh.Certificate{
		Key: userRSA().PublicKey(), CertType: ssh.UserCert, ValidPrincipals: []string{testUser},
		ValidBefore: ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, caKey()); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewCertSigner(cert, userRSA())
	if err != nil {
		t.Fatal(err)
	}
	s := authenticate(t, &ServerConfig{PublicKeyCallback: certChecker().Authenticate},
		&ClientConfig{Methods: []Method{PublicKeys(signer)}})
	s.mustSucceed(t, MethodPublicKeyHostbound)
}

func TestKeyboardInteractive(t *testing.T) {
	checkGoroutines(t)
	var gotQuestions []string
	var gotEchos []bool
	s := authenticate(t, &ServerConfig{
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := client("PAM", "Enter both", []string{"Password: ", "Code: "}, []bool{false, true})
			if err != nil {
				return nil, err
			}
			if answers[0] != testPassword || answers[1] != "123456" {
				return nil, errors.New("wrong answers")
			}
			// A round without questions still needs an answer (RFC 4256
			// §3.4).
			if _, err := client("", "done", nil, nil); err != nil {
				return nil, err
			}
			return nil, nil
		},
	}, &ClientConfig{Methods: []Method{KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		if len(questions) == 0 {
			return nil, nil
		}
		gotQuestions, gotEchos = questions, echos
		return []string{testPassword, "123456"}, nil
	})}})
	s.mustSucceed(t, MethodKeyboardInteractive)
	if !slices.Equal(gotQuestions, []string{"Password: ", "Code: "}) || !slices.Equal(gotEchos, []bool{false, true}) {
		t.Errorf("questions %q, echos %v", gotQuestions, gotEchos)
	}
}

func TestPartialSuccess(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if _, err := checkPassword(m, pw); err != nil {
				return nil, err
			}
			return nil, &ssh.PartialSuccessError{Next: ssh.ServerAuthCallbacks{
				PublicKeyCallback: acceptKeys(userEd().PublicKey()),
			}}
		},
		// Not offered after the partial success.
		KeyboardInteractiveCallback: func(ssh.ConnMetadata, ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			return nil, nil
		},
	}, &ClientConfig{Methods: []Method{
		PublicKeys(userEd()), // not offered before the password
		Password(testPassword),
		KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return nil, errors.New("keyboard-interactive must not run")
		}),
		PublicKeys(userEd()),
	}})
	// The first PublicKeys runs after the password, as it is first in
	// the list and now allowed.
	s.mustSucceed(t, MethodPublicKeyHostbound)
}

func TestPartialSuccessThenFailure(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			return nil, &ssh.PartialSuccessError{Next: ssh.ServerAuthCallbacks{PublicKeyCallback: acceptKeys(userEd().PublicKey())}}
		},
	}, &ClientConfig{Methods: []Method{Password(testPassword), PublicKeys(otherEd())}})
	var ae *AuthError
	if !errors.As(s.cliErr, &ae) || !ae.PartialSuccess || !slices.Equal(ae.Remaining, []string{MethodPublicKey}) {
		t.Fatalf("Authenticate = %#v; want *AuthError after a partial success, remaining [publickey]", s.cliErr)
	}
}

func TestBanner(t *testing.T) {
	checkGoroutines(t)
	var mu sync.Mutex
	var banners []string
	var bannerUser string
	s := authenticate(t, &ServerConfig{
		PasswordCallback: checkPassword,
		BannerCallback: func(m ssh.ConnMetadata) string {
			bannerUser = m.User()
			return "Authorized use only\r\n"
		},
	}, &ClientConfig{
		Methods: []Method{Password(testPassword)},
		BannerCallback: func(msg string) error {
			mu.Lock()
			banners = append(banners, msg)
			mu.Unlock()
			return nil
		},
	})
	s.mustSucceed(t, MethodPassword)
	if !slices.Equal(banners, []string{"Authorized use only\r\n"}) || bannerUser != testUser {
		t.Errorf("banners %q for user %q; want one, for %q", banners, bannerUser, testUser)
	}
}

func TestBannerCallbackError(t *testing.T) {
	checkGoroutines(t)
	errNo := errors.New("declined")
	s := authenticate(t, &ServerConfig{
		PasswordCallback: checkPassword,
		BannerCallback:   func(ssh.ConnMetadata) string { return "terms" },
	}, &ClientConfig{
		Methods:        []Method{Password(testPassword)},
		BannerCallback: func(string) error { return errNo },
	})
	if !errors.Is(s.cliErr, errNo) {
		t.Errorf("Authenticate = %v; want the callback's error", s.cliErr)
	}
	wantDisconnect(t, s.srvErr, zerossh.AuthCancelledByUser, true)
}

func TestWrongPassword(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{PasswordCallback: checkPassword},
		&ClientConfig{Methods: []Method{Password("guess")}})
	var ae *AuthError
	if !errors.As(s.cliErr, &ae) || !slices.Equal(ae.Tried, []string{MethodNone, MethodPassword}) {
		t.Fatalf("Authenticate = %v; want *AuthError after none and password", s.cliErr)
	}
	s.client.Close()
	if s.srvErr == nil {
		t.Fatalf("Serve succeeded")
	}
}

func TestWrongKey(t *testing.T) {
	checkGoroutines(t)
	signer := newRecordingSigner(otherEd())
	keys := func() ([]ssh.Signer, error) { return []ssh.Signer{signer}, nil }
	s := authenticate(t, &ServerConfig{PublicKeyCallback: acceptKeys(userEd().PublicKey())},
		&ClientConfig{Methods: []Method{PublicKeysCallback(keys)}})
	var ae *AuthError
	if !errors.As(s.cliErr, &ae) {
		t.Fatalf("Authenticate = %v; want *AuthError", s.cliErr)
	}
	// The query was refused, so the key never signed.
	if got := signer.used(); len(got) != 0 {
		t.Errorf("signed with %q; want no signature", got)
	}
	// A key in memory signs at once, and the signed request is refused.
	s = authenticate(t, &ServerConfig{PublicKeyCallback: acceptKeys(userEd().PublicKey())},
		&ClientConfig{Methods: []Method{PublicKeys(signer)}})
	if !errors.As(s.cliErr, &ae) {
		t.Fatalf("Authenticate = %v; want *AuthError", s.cliErr)
	}
}

func TestTooManyAttempts(t *testing.T) {
	checkGoroutines(t)
	keys := []ssh.Signer{otherEd(), userECDSA(), userRSA(), caKey()}
	s := authenticate(t, &ServerConfig{PublicKeyCallback: acceptKeys(userEd().PublicKey()), MaxAttempts: 3},
		&ClientConfig{Methods: []Method{PublicKeys(keys...), Password("never sent")}})
	wantDisconnect(t, s.cliErr, zerossh.NoMoreAuthMethodsAvailable, true)
	wantDisconnect(t, s.srvErr, zerossh.NoMoreAuthMethodsAvailable, false)
}

func TestTooManyPasswords(t *testing.T) {
	checkGoroutines(t)
	s := authenticate(t, &ServerConfig{PasswordCallback: checkPassword, MaxAttempts: 2},
		&ClientConfig{Methods: []Method{PasswordCallback(func() (string, error) { return "guess", nil })}})
	wantDisconnect(t, s.cliErr, zerossh.NoMoreAuthMethodsAvailable, true)
	if s.client.Authenticated() {
		t.Errorf("client authenticated")
	}
}

func TestPromptError(t *testing.T) {
	checkGoroutines(t)
	errCancel := errors.New("cancelled")
	s := authenticate(t, &ServerConfig{PasswordCallback: checkPassword},
		&ClientConfig{Methods: []Method{PasswordCallback(func() (string, error) { return "", errCancel })}})
	if !errors.Is(s.cliErr, errCancel) {
		t.Errorf("Authenticate = %v; want the prompt's error", s.cliErr)
	}
	wantDisconnect(t, s.srvErr, zerossh.AuthCancelledByUser, true)
}
