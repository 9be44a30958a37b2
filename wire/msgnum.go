package wire

// Message numbers (RFC 4250 §4.1, RFC 8308, OpenSSH's PROTOCOL).
const (
	MsgDisconnect     = 1
	MsgIgnore         = 2
	MsgUnimplemented  = 3
	MsgDebug          = 4
	MsgServiceRequest = 5
	MsgServiceAccept  = 6
	MsgExtInfo        = 7

	MsgKexInit = 20
	MsgNewKeys = 21

	// Key exchange method messages share 30-49; their meaning depends on
	// the negotiated method.
	MsgKexECDHInit     = 30 // also KEXDH_INIT, KEX_HYBRID_INIT
	MsgKexECDHReply    = 31 // also KEXDH_REPLY, KEX_HYBRID_REPLY
	MsgKexDHGexGroup   = 31
	MsgKexDHGexInit    = 32
	MsgKexDHGexReply   = 33
	MsgKexDHGexRequest = 34

	MsgUserauthRequest = 50
	MsgUserauthFailure = 51
	MsgUserauthSuccess = 52
	MsgUserauthBanner  = 53

	MsgGlobalRequest       = 80
	MsgRequestSuccess      = 81
	MsgRequestFailure      = 82
	MsgChannelOpen         = 90
	MsgChannelOpenConfirm  = 91
	MsgChannelOpenFailure  = 92
	MsgChannelWindowAdjust = 93
	MsgChannelData         = 94
	MsgChannelExtendedData = 95
	MsgChannelEOF          = 96
	MsgChannelClose        = 97
	MsgChannelRequest      = 98
	MsgChannelSuccess      = 99
	MsgChannelFailure      = 100

	// MsgPing and MsgPong are ping@openssh.com (OpenSSH PROTOCOL §1.9).
	MsgPing = 192
	MsgPong = 193
)

// IsTransportGeneric reports whether n is a transport layer generic
// message (1-19).
func IsTransportGeneric(n byte) bool { return n >= 1 && n <= 19 }

// IsKex reports whether n belongs to algorithm negotiation or a key
// exchange method (20-49).
func IsKex(n byte) bool { return n >= 20 && n <= 49 }
