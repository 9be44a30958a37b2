package compression

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// opensshGoldenText is the file sshd sent in the recording; it must stay
// what opensshGoldenText in the zerossh package's
// compression_openssh_test.go makes.
func opensshGoldenText() []byte {
	var b bytes.Buffer
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	for i := 0; b.Len() < 96<<10; i++ {
		fmt.Fprintf(&b, "%05d %s %s %s\n", i, words[i%8], words[i*7%8], words[i*i%8])
	}
	return b.Bytes()
}

// TestDecompressOpenSSHRecorded decodes packets that OpenSSH 9.2's sshd
// compressed with zlib@openssh.com (zlib's Z_PARTIAL_FLUSH after every
// packet), recorded by the zerossh package's
// TestOpenSSHCompressionServerStream -record-openssh: cat of a text file
// twice, with a rekey between that restarts the stream. Every packet must
// decode on its own to the recorded payload; the CHANNEL_DATA must be the
// file; and the standard library's inflater, reading each stream whole,
// must agree.
func TestDecompressOpenSSHRecorded(t *testing.T) {
	const (
		msgNewKeys     = 21
		msgChannelData = 94
	)
	packets := readGolden(t, "openssh-sshd-zlib.bin")
	d := NewDecompressor()
	var data, stream, raw []byte
	streams, unaligned := 0, 0
	checkStream := func() {
		t.Helper()
		ref, _ := io.ReadAll(stdflate.NewReader(bytes.NewReader(stream[2:])))
		// It reads ahead, so it may stop a few symbols short.
		if len(ref) < len(raw)-300 || !bytes.Equal(ref, raw[:len(ref)]) {
			t.Errorf("stream %d: compress/flate decoded %d bytes, not a prefix of the %d recorded", streams, len(ref), len(raw))
		}
		streams++
		stream, raw = stream[:0], raw[:0]
	}
	for i, p := range packets {
		got, err := d.Decompress(make([]byte, 0, len(p.raw)), p.compressed)
		if err != nil || !bytes.Equal(got, p.raw) {
			t.Fatalf("packet %d: %v; got %x; want %x", i, err, got, p.raw)
		}
		if d.f.nb != 0 {
			unaligned++
		}
		stream = append(stream, p.compressed...)
		raw = append(raw, p.raw...)
		switch p.raw[0] {
		case msgChannelData:
			n := binary.BigEndian.Uint32(p.raw[5:])
			data = append(data, p.raw[9:9+n]...)
		case msgNewKeys: // the stream restarts after NEWKEYS
			checkStream()
			d.Reset()
		}
	}
	checkStream()
	if text := opensshGoldenText(); !bytes.Equal(data, append(text, text...)) {
		t.Errorf("CHANNEL_DATA holds %d bytes; want the file's %d twice", len(data), len(text))
	}
	if streams < 2 || unaligned == 0 {
		t.Errorf("%d streams, %d packets ending inside a byte; want a restart and partial flushes", streams, unaligned)
	}
	t.Logf("%d packets, %d ending inside a byte", len(packets), unaligned)
}
