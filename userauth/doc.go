// Package userauth is the SSH user authentication protocol (RFC 4252) on
// top of a zerossh transport: the "none", "password" and "publickey"
// methods, "keyboard-interactive" (RFC 4256), RSA signatures with SHA-2
// (RFC 8332) chosen through server-sig-algs (RFC 8308 §3.1), and
// publickey-hostbound-v00@openssh.com, which binds a signature to the
// server's host key (OpenSSH PROTOCOL, "Host-bound public key
// authentication").
//
// A server calls Serve once the client has requested the "ssh-userauth"
// service; a client calls Authenticate. Both return right after
// USERAUTH_SUCCESS, leaving every later message to the service that
// follows (RFC 4252 §5.1).
//
// Keys, signatures and certificates are those of golang.org/x/crypto/ssh:
// server callbacks have the signatures of ssh.ServerConfig's, so that
// (&ssh.CertChecker{...}).Authenticate plugs in unchanged, and a
// callback may return *ssh.PartialSuccessError to ask for another method.
//
// Every message of the protocol has a type here with Len, Append and
// Parse. Parse reads with a wire.Reader, never panics, and its results
// alias the input.
package userauth
