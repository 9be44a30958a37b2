package sftp_test

import (
	"context"
	"log"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/sftp"
	"github.com/zerossh/zerossh/userauth"
)

// An SFTP server for /srv/files on port 2022, for the keys in one
// authorized_keys file.
func Example_server() {
	hostKeyPEM, _ := os.ReadFile("/etc/zerossh/ssh_host_ed25519_key")
	hostKey, err := ssh.ParsePrivateKey(hostKeyPEM)
	if err != nil {
		log.Fatal(err)
	}
	authorized, _ := os.ReadFile("/etc/zerossh/authorized_keys")
	allowed, _, _, _, err := ssh.ParseAuthorizedKey(authorized)
	if err != nil {
		log.Fatal(err)
	}
	srv := &server.Server{}
	srv.Transport.HostKeys = []ssh.Signer{hostKey}
	srv.Auth.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if string(key.Marshal()) != string(allowed.Marshal()) {
			return nil, os.ErrPermission
		}
		return nil, nil
	}
	srv.Handler = func(c *connection.Conn, _ *userauth.Result) {
		connection.Serve(c, &connection.ServerOptions{Subsystems: map[string]connection.SessionHandler{
			"sftp": func(s *connection.ServerSession) int {
				sftp.Serve(sftp.SessionConn(s), &sftp.ServerOptions{Root: "/srv/files"})
				return 0
			},
		}})
	}
	l, err := net.Listen("tcp", ":2022")
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Serve(l))
}

// Fetch a file over SFTP, checking the host key against known_hosts.
func Example_client() {
	hostKeys, err := knownhosts.New(os.ExpandEnv("$HOME/.ssh/known_hosts"))
	if err != nil {
		log.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(os.ExpandEnv("$HOME/.ssh/id_ed25519"))
	key, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &client.Config{Auth: userauth.ClientConfig{User: "backup", Methods: []userauth.Method{userauth.PublicKeys(key)}}}
	cfg.Transport.HostKeyCallback = hostKeys
	conn, err := client.Dial(context.Background(), "files.example.com:22", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := sftp.Open(conn)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Get(context.Background(), "/data/report.csv", "report.csv", nil); err != nil {
		log.Fatal(err)
	}
}
