// Package pool owns the transport's packet buffers: a few size classes,
// each a sync.Pool of fixed-capacity buffers, so that a connection in
// steady state sends and receives without allocating.
package pool

import "sync"

// Buffer is a pooled byte slice. B has the capacity of its size class;
// its length is the caller's business.
type Buffer struct {
	B     []byte
	class int8 // index into classes, or -1 for a buffer the pool did not make
}

// Size classes: control messages, a full small-window channel packet, a
// 32 KiB data packet with its header, padding and tag, and the largest
// packet the transport accepts (256 KiB plus framing).
var classes = [...]int{512, 4 << 10, 32<<10 + 1024, 64<<10 + 1024, 256<<10 + 1024}

// MaxSize is the largest capacity Get serves from a pool.
const MaxSize = 256<<10 + 1024

var pools [len(classes)]sync.Pool

func init() {
	for i := range pools {
		size := classes[i]
		class := int8(i)
		pools[i].New = func() any { return &Buffer{B: make([]byte, 0, size), class: class} }
	}
}

// Get returns a buffer with capacity at least n and length zero. Buffers
// larger than MaxSize are allocated and not pooled.
func Get(n int) *Buffer {
	for i, size := range classes {
		if n <= size {
			b := pools[i].Get().(*Buffer)
			b.B = b.B[:0]
			return b
		}
	}
	return &Buffer{B: make([]byte, 0, n), class: -1}
}

// Put returns b to its pool. It ignores nil, buffers the pool did not
// make, and buffers whose slice was replaced by one of another capacity.
// The caller must not use b afterwards.
func Put(b *Buffer) {
	if b == nil || b.class < 0 || cap(b.B) != classes[b.class] {
		return
	}
	pools[b.class].Put(b)
}
