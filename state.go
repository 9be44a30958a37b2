package zerossh

import "github.com/zerossh/zerossh/wire"

// kexPhase is where one direction stands in a key exchange. For sending
// it changes when our KEXINIT and NEWKEYS go out; for receiving, when the
// peer's arrive.
type kexPhase uint8

const (
	// phaseNormal: keys are settled; any message may pass.
	phaseNormal kexPhase = iota
	// phaseKex: between KEXINIT and NEWKEYS.
	phaseKex
)

func (p kexPhase) String() string {
	switch p {
	case phaseNormal:
		return "normal"
	case phaseKex:
		return "key exchange"
	}
	return "invalid"
}

// allows implements RFC 4253 §7.1: "Once a party has sent a
// SSH_MSG_KEXINIT message for key exchange or re-exchange, until it has
// sent a SSH_MSG_NEWKEYS message, it MUST NOT send any messages other
// than: Transport layer generic messages (1 to 19) (but
// SSH_MSG_SERVICE_REQUEST and SSH_MSG_SERVICE_ACCEPT MUST NOT be sent);
// Algorithm negotiation messages (20 to 29) (but further
// SSH_MSG_KEXINIT messages MUST NOT be sent); Specific key exchange
// method messages (30 to 49)."
func (p kexPhase) allows(msg byte) bool {
	if p == phaseNormal {
		return true
	}
	switch {
	case msg == wire.MsgServiceRequest, msg == wire.MsgServiceAccept, msg == wire.MsgKexInit:
		return false
	case wire.IsTransportGeneric(msg), wire.IsKex(msg):
		return true
	}
	return false
}
