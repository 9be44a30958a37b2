package peertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Key types understood by GenerateKey and SSHDOptions.HostKeyTypes, named as ssh-keygen -t
// names them.
const (
	KeyEd25519 = "ed25519" // ssh-ed25519
	KeyECDSA   = "ecdsa"   // ecdsa-sha2-nistp256
	KeyRSA     = "rsa"     // 3072 bits, signs with rsa-sha2-256 and rsa-sha2-512
)

// keygenArgs returns the ssh-keygen arguments selecting typ.
func keygenArgs(typ string) ([]string, error) {
	switch typ {
	case KeyEd25519:
		return []string{"-t", "ed25519"}, nil
	case KeyECDSA:
		return []string{"-t", "ecdsa", "-b", "256"}, nil
	case KeyRSA:
		return []string{"-t", "rsa", "-b", "3072"}, nil
	}
	return nil, fmt.Errorf("peertest: unknown key type %q (want %s, %s or %s)", typ, KeyEd25519, KeyECDSA, KeyRSA)
}

// keygen writes a new unencrypted key pair to path and path+".pub" and returns the public key
// line without its trailing newline.
func keygen(path, typ string) ([]byte, error) {
	args, err := keygenArgs(typ)
	if err != nil {
		return nil, err
	}
	bin, err := exec.LookPath(KeygenName)
	if err != nil {
		return nil, err
	}
	args = append([]string{"-q", "-N", "", "-C", "zerossh-peertest"}, args...)
	args = append(args, "-f", path)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("peertest: %s %q: %v\n%s", KeygenName, args, err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSpace(pub)), nil
}

// GenerateKey creates a new unencrypted key pair of type typ (KeyEd25519, KeyECDSA or KeyRSA)
// in dir with ssh-keygen and returns the path of the private key, in OpenSSH format, and the
// public key as an authorized_keys line without the trailing newline. The file is named
// id_<typ>, with a numeric suffix if that name is taken.
func GenerateKey(t testing.TB, dir, typ string) (privPath string, pub []byte) {
	t.Helper()
	RequireOpenSSH(t, KeygenName)
	privPath = filepath.Join(dir, "id_"+typ)
	for i := 2; ; i++ {
		if _, err := os.Lstat(privPath); os.IsNotExist(err) {
			break
		}
		privPath = filepath.Join(dir, "id_"+typ+"_"+strconv.Itoa(i))
	}
	pub, err := keygen(privPath, typ)
	if err != nil {
		t.Fatal(err)
	}
	return privPath, pub
}

// hostKey is a generated key pair kept in memory.
type hostKey struct {
	priv, pub []byte
}

// hostKeys generates one key pair per type per process, on first use: an RSA 3072 key takes
// ssh-keygen a few hundred milliseconds, too long to pay for every sshd a test starts. The keys
// are written into each sshd's own directory, so nothing outlives the test that used it.
var hostKeys = map[string]func() (hostKey, error){
	KeyEd25519: sync.OnceValues(func() (hostKey, error) { return newHostKey(KeyEd25519) }),
	KeyECDSA:   sync.OnceValues(func() (hostKey, error) { return newHostKey(KeyECDSA) }),
	KeyRSA:     sync.OnceValues(func() (hostKey, error) { return newHostKey(KeyRSA) }),
}

// newHostKey generates a key pair of type typ in a scratch directory and reads it back.
func newHostKey(typ string) (hostKey, error) {
	dir, err := os.MkdirTemp("", "zerossh-peertest-hostkey-*")
	if err != nil {
		return hostKey{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "key")
	pub, err := keygen(path, typ)
	if err != nil {
		return hostKey{}, err
	}
	priv, err := os.ReadFile(path)
	if err != nil {
		return hostKey{}, err
	}
	return hostKey{priv: priv, pub: pub}, nil
}

// writeHostKey puts a host key of type typ into dir, freshly generated or from the
// per-process cache, and returns the private key path and the public key line.
func writeHostKey(dir, typ string, fresh bool) (string, []byte, error) {
	path := filepath.Join(dir, "ssh_host_"+typ+"_key")
	if fresh {
		pub, err := keygen(path, typ)
		return path, pub, err
	}
	get, ok := hostKeys[typ]
	if !ok {
		_, err := keygenArgs(typ)
		return "", nil, err
	}
	k, err := get()
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(path, k.priv, 0o600); err != nil {
		return "", nil, err
	}
	// The cached key is shared by every test: copy it, never append to it.
	if err := os.WriteFile(path+".pub", fmt.Appendf(nil, "%s\n", k.pub), 0o644); err != nil {
		return "", nil, err
	}
	return path, bytes.Clone(k.pub), nil
}
