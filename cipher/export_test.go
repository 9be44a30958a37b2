package cipher

// DefaultOrder exposes the preference order for either kind of hardware.
var DefaultOrder = defaultOrder

// SetChaChaPayloadAEAD sets whether chacha20-poly1305@openssh.com ciphers
// made from now on encrypt through the RFC 8439 AEAD, and returns a
// function that restores the setting.
func SetChaChaPayloadAEAD(on bool) (restore func()) {
	old := chachaPayloadAEAD
	chachaPayloadAEAD = on
	return func() { chachaPayloadAEAD = old }
}
