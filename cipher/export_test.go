package cipher

// DefaultOrder exposes the preference order for either kind of hardware.
var DefaultOrder = defaultOrder
