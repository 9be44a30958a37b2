package wire

import "errors"

// ErrMalformed is returned by every parser for input that does not decode
// as the message it should be. It is a sentinel so that parsing a bad
// packet costs no allocation.
var ErrMalformed = errors.New("ssh: malformed message")
