package sftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// recorder is a joinedWriter that keeps every write as one record.
type recorder struct {
	records [][]byte
	failAt  int // fail the write that would make this many records, if not 0
}

func (r *recorder) Write(p []byte) (int, error) { return r.WriteJoined(p, nil) }

func (r *recorder) WriteJoined(a, b []byte) (int, error) {
	if r.failAt != 0 && len(r.records)+1 == r.failAt {
		return 0, errors.New("recorder: write failed")
	}
	r.records = append(r.records, append(append([]byte(nil), a...), b...))
	return len(a) + len(b), nil
}

func (r *recorder) stream() []byte { return bytes.Join(r.records, nil) }

// packet is an SFTP packet of the given body length, split as pkg/sftp
// sends one: a header of headerLen bytes (length included), then the rest.
func packet(rng *rand.Rand, headerLen, payloadLen int) (header, payload []byte) {
	p := make([]byte, headerLen+payloadLen)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	binary.BigEndian.PutUint32(p, uint32(len(p)-4))
	return p[:headerLen], p[headerLen:]
}

// TestPacketWriterJoins: a header and its payload written apart leave as
// one record; whole packets pass as they are; the stream is unchanged.
func TestPacketWriterJoins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rec := &recorder{}
	pw := &packetWriter{w: rec}
	var want []byte
	for i := range 200 {
		headerLen := 9 + rng.IntN(40)
		payloadLen := []int{0, 1, 100, 32 << 10}[i%4]
		h, p := packet(rng, headerLen, payloadLen)
		want = append(append(want, h...), p...)
		before := len(rec.records)
		if n, err := pw.Write(h); err != nil || n != len(h) {
			t.Fatalf("header: %d, %v", n, err)
		}
		if len(p) > 0 {
			if n, err := pw.Write(p); err != nil || n != len(p) {
				t.Fatalf("payload: %d, %v", n, err)
			}
		}
		if got := len(rec.records) - before; got != 1 {
			t.Fatalf("packet %d (header %d, payload %d) left as %d records", i, headerLen, payloadLen, got)
		}
	}
	if !bytes.Equal(rec.stream(), want) {
		t.Fatal("the stream changed")
	}
}

// TestPacketWriterAnySplit: whatever the writes, the bytes leave in
// order and nothing is held once a packet is complete.
func TestPacketWriterAnySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var stream []byte
		for range 1 + rng.IntN(6) {
			h, p := packet(rng, 9, rng.IntN(3000))
			stream = append(append(stream, h...), p...)
		}
		rec := &recorder{}
		pw := &packetWriter{w: rec}
		for rest := stream; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(700))
			if n, err := pw.Write(rest[:k]); err != nil || n != k {
				t.Fatalf("write of %d: %d, %v", k, n, err)
			}
			rest = rest[k:]
		}
		if len(pw.held) > 0 {
			t.Fatalf("%d bytes held after whole packets", len(pw.held))
		}
		if !bytes.Equal(rec.stream(), stream) {
			t.Fatal("the stream changed")
		}
	}
}

// TestPacketWriterError: a failed joined write reports how much of the
// caller's bytes went out (none), and the error.
func TestPacketWriterError(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rec := &recorder{failAt: 1}
	pw := &packetWriter{w: rec}
	h, p := packet(rng, 13, 1000)
	if n, err := pw.Write(h); err != nil || n != len(h) {
		t.Fatalf("header: %d, %v", n, err)
	}
	if n, err := pw.Write(p); err == nil || n != 0 {
		t.Fatalf("payload over a failing stream: %d, %v", n, err)
	}
}
