package cipher

// DefaultOrder exposes the preference order for either kind of hardware.
var DefaultOrder = defaultOrder

// SetChaChaStream sets whether chacha20-poly1305@openssh.com ciphers
// made from now on encrypt the payload through chachastream, and returns a
// function that restores the setting.
func SetChaChaStream(on bool) (restore func()) {
	old := chachaStream
	chachaStream = on
	return func() { chachaStream = old }
}
