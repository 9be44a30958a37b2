package pool

import "testing"

func TestGetCapacity(t *testing.T) {
	for _, n := range []int{0, 1, 512, 513, 4096, 33 << 10, 200 << 10, MaxSize} {
		b := Get(n)
		if cap(b.B) < n || len(b.B) != 0 {
			t.Errorf("Get(%d): len %d cap %d; want len 0, cap >= %d", n, len(b.B), cap(b.B), n)
		}
		Put(b)
	}
}

func TestOversizeNotPooled(t *testing.T) {
	b := Get(MaxSize + 1)
	if b.class != -1 || cap(b.B) < MaxSize+1 {
		t.Fatalf("oversize buffer: class %d cap %d", b.class, cap(b.B))
	}
	Put(b) // must be ignored, not panic
}

func TestPutRefusesForeignSlice(t *testing.T) {
	b := Get(100)
	b.B = make([]byte, 0, 100) // a slice of another capacity
	Put(b)
	for range 100 {
		if got := Get(100); cap(got.B) != classes[0] {
			t.Fatalf("pool handed out a foreign slice of cap %d", cap(got.B))
		}
	}
}

func TestGetPutAllocs(t *testing.T) {
	Put(Get(32 << 10)) // warm the pool
	if n := testing.AllocsPerRun(1000, func() { Put(Get(32 << 10)) }); n != 0 {
		t.Fatalf("Get/Put allocates %v times; want 0", n)
	}
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Put(Get(32 << 10))
	}
}
