// Package client dials an SSH server and runs the client stack: the
// transport, user authentication and the connection protocol.
package client

import (
	"context"
	"net"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/connection"
	"github.com/zerossh/zerossh/userauth"
)

// Config configures a client connection.
type Config struct {
	// Transport configures the transport; HostKeyCallback is required.
	Transport zerossh.ClientConfig
	// Auth names the user and the authentication methods.
	Auth userauth.ClientConfig
	// Connection tunes the connection protocol.
	Connection connection.Config
}

// Dial connects to addr ("host:port") over TCP and authenticates. ctx
// bounds the dial, the handshake and authentication, not the connection
// that results.
func Dial(ctx context.Context, addr string, cfg *Config) (*connection.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, err := NewConn(nc, addr, cfg)
	if !stop() {
		// ctx ended during the handshake: nc is closed, and that error
		// says less than ctx's.
		if c != nil {
			c.Close()
		}
		return nil, ctx.Err()
	}
	return c, err
}

// NewConn runs the client stack over nc; addr is passed to the
// HostKeyCallback. On error nc is closed.
func NewConn(nc net.Conn, addr string, cfg *Config) (*connection.Conn, error) {
	t, err := zerossh.Client(nc, addr, &cfg.Transport)
	if err != nil {
		return nil, err
	}
	if err := userauth.Authenticate(t, &cfg.Auth); err != nil {
		t.Close()
		return nil, err
	}
	return connection.New(t, &cfg.Connection), nil
}
