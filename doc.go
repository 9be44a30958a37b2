// Package zerossh is the SSH transport layer protocol (RFC 4253): version
// exchange, algorithm negotiation, key exchange and rekeying, the binary
// packet protocol, and the generic transport messages. A Conn runs over
// any net.Conn as client or server and carries the packets of the
// services above it (user authentication, connection).
//
// The packet path allocates nothing in steady state: packets are built and
// sealed in place in pooled buffers, and a received payload aliases its
// buffer until the next ReadPacket. A service whose handling never waits
// on the peer can instead take every packet on the goroutine that reads
// the connection (Deliver), as the connection protocol does: one
// goroutine and one hand-off fewer per connection and per packet.
package zerossh
