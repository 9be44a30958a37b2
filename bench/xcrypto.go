package bench

import (
	"io"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/zerossh/zerossh/sftp"
)

// xConfig pins algs in an x/crypto/ssh configuration.
func xConfig(algs Algorithms) ssh.Config {
	var c ssh.Config
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

// xServer is an x/crypto/ssh server written as its documentation shows:
// a goroutine per connection that serves its channels, requests
// discarded.
type xServer struct {
	cfg  *ssh.ServerConfig
	l    net.Listener
	root string
	auth atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func startXServer(algs Algorithms, root string) (*xServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ServerConfig{Config: xConfig(algs), PublicKeyCallback: userKeyCallback}
	cfg.AddHostKey(TheKeys().Host)
	s := &xServer{cfg: cfg, l: l, root: root, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *xServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(nc)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

func (s *xServer) serve(nc net.Conn) {
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.cfg)
	if err != nil {
		nc.Close()
		return
	}
	defer sc.Close()
	s.auth.Add(1)
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "unknown channel type")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, creqs)
	}
}

// session serves one session channel: "exec" runs the sink, "subsystem
// sftp" the SFTP server.
func (s *xServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	started := false
	for r := range reqs {
		switch {
		case started:
			r.Reply(false, nil)
		case r.Type == "exec":
			started = true
			r.Reply(true, nil)
			go func() {
				status := uint32(0)
				if drain(ch) != nil {
					status = 1
				}
				exit(ch, status)
			}()
		case r.Type == "subsystem" && s.root != "" && string(r.Payload) == "\x00\x00\x00\x04sftp":
			started = true
			r.Reply(true, nil)
			go func() {
				status := uint32(0)
				if sftp.Serve(xChannelRWC{ch}, sftpOptions(s.root)) != nil {
					status = 1
				}
				exit(ch, status)
			}()
		default:
			r.Reply(false, nil)
		}
	}
}

// xChannelRWC lets a channel carry SFTP: Close sends EOF, as the zerossh
// server's does.
type xChannelRWC struct{ ssh.Channel }

func (c xChannelRWC) Close() error { return c.CloseWrite() }

// exit sends the exit status and closes ch.
func exit(ch ssh.Channel, status uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
	ch.Close()
}

func (s *xServer) Addr() string         { return s.l.Addr().String() }
func (s *xServer) Authenticated() int64 { return s.auth.Load() }

func (s *xServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.l.Close()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

type xClient struct{ c *ssh.Client }

func dialX(addr string, algs Algorithms) (*xClient, error) {
	cfg := &ssh.ClientConfig{
		Config:            xConfig(algs),
		User:              User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(TheKeys().User)},
		HostKeyCallback:   ssh.FixedHostKey(TheKeys().Host.PublicKey()),
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	}
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	return &xClient{c}, nil
}

func (x *xClient) Sink() (io.WriteCloser, error) {
	s, err := x.c.NewSession()
	if err != nil {
		return nil, err
	}
	return startSink(s)
}

func (x *xClient) Session() error {
	s, err := x.c.NewSession()
	if err != nil {
		return err
	}
	return s.Close()
}

func (x *xClient) SFTP() (*sftp.Client, error) {
	s, err := x.c.NewSession()
	if err != nil {
		return nil, err
	}
	return startSFTP(s)
}

func (x *xClient) Close() error { return x.c.Close() }
