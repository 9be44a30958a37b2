package wire

import "testing"

func TestMessageNumberRanges(t *testing.T) {
	// RFC 4251 §7: 1-19 transport layer generic, 20-29 algorithm
	// negotiation, 30-49 key exchange method specific.
	for n := range 256 {
		b := byte(n)
		if got, want := IsTransportGeneric(b), n >= 1 && n <= 19; got != want {
			t.Errorf("IsTransportGeneric(%d) = %v; want %v", n, got, want)
		}
		if got, want := IsKex(b), n >= 20 && n <= 49; got != want {
			t.Errorf("IsKex(%d) = %v; want %v", n, got, want)
		}
	}
}
