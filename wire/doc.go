// Package wire encodes and parses the SSH data types of RFC 4251 §5 and
// the messages of the SSH protocols.
//
// It is pure: bytes to values and back, with no I/O and no cryptography.
// Encoders append to a caller's slice; parsers read from a Reader whose
// results alias the input, so nothing on the packet path allocates.
package wire
