package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/client"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/server"
	"github.com/zerossh/zerossh/sftp"
	"github.com/zerossh/zerossh/userauth"
)

// zeroConfig pins algs in a zerossh transport configuration.
func zeroConfig(algs Algorithms) zerossh.Config {
	var c zerossh.Config
	if algs.Kex != "" {
		c.KeyExchanges = []string{algs.Kex}
	}
	if algs.Cipher != "" {
		c.Ciphers = []string{algs.Cipher}
	}
	if algs.MAC != "" {
		c.MACs = []string{algs.MAC}
	}
	return c
}

// errUnknownKey refuses any user key but TheKeys().User.
var errUnknownKey = errors.New("bench: unknown user key")

// userKeyCallback accepts TheKeys().User.
func userKeyCallback(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if bytes.Equal(key.Marshal(), TheKeys().User.PublicKey().Marshal()) {
		return nil, nil
	}
	return nil, errUnknownKey
}

type zeroServer struct {
	srv  *server.Server
	l    net.Listener
	auth atomic.Int64
}

func startZeroServer(algs Algorithms, root string) (*zeroServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &zeroServer{l: l, srv: &server.Server{Logger: discard}}
	s.srv.Transport.Config = zeroConfig(algs)
	s.srv.Transport.HostKeys = []ssh.Signer{TheKeys().Host}
	s.srv.Auth.PublicKeyCallback = userKeyCallback
	opts := &connection.ServerOptions{
		Exec: func(ss *connection.ServerSession) int {
			if drain(ss) != nil {
				return 1
			}
			return 0
		},
	}
	if root != "" {
		opts.Subsystems = map[string]connection.SessionHandler{
			"sftp": func(ss *connection.ServerSession) int {
				if sftp.Serve(serverSessionRWC{ss}, sftpOptions(root)) != nil {
					return 1
				}
				return 0
			},
		}
	}
	s.srv.Handler = func(c *connection.Conn, _ *userauth.Result) {
		s.auth.Add(1)
		connection.Serve(c, opts)
	}
	go s.srv.Serve(l)
	return s, nil
}

func (s *zeroServer) Addr() string         { return s.l.Addr().String() }
func (s *zeroServer) Authenticated() int64 { return s.auth.Load() }

func (s *zeroServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s.srv.Shutdown(ctx)
	return nil
}

// serverSessionRWC lets a server session carry SFTP: Close sends EOF.
type serverSessionRWC struct{ *connection.ServerSession }

func (s serverSessionRWC) Close() error { return s.CloseWrite() }

type zeroClient struct{ c *connection.Conn }

func dialZero(addr string, algs Algorithms) (*zeroClient, error) {
	cfg := &client.Config{}
	cfg.Transport.Config = zeroConfig(algs)
	cfg.Transport.HostKeyCallback = ssh.FixedHostKey(TheKeys().Host.PublicKey())
	cfg.Auth = userauth.ClientConfig{User: User, Methods: []userauth.Method{userauth.PublicKeys(TheKeys().User)}}
	c, err := client.Dial(context.Background(), addr, cfg)
	if err != nil {
		return nil, err
	}
	return &zeroClient{c}, nil
}

func (z *zeroClient) Sink() (io.WriteCloser, error) {
	s, err := z.c.NewSession()
	if err != nil {
		return nil, err
	}
	return startSink(s)
}

func (z *zeroClient) Session() error {
	s, err := z.c.NewSession()
	if err != nil {
		return err
	}
	return s.Close()
}

// SFTP opens the subsystem the way an application does, with sftp.Open.
func (z *zeroClient) SFTP() (*sftp.Client, error) { return sftp.Open(z.c) }

func (z *zeroClient) Close() error { return z.c.Close() }
