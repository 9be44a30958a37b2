package zerossh

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/internal/peertest"
	"github.com/zerossh/zerossh/wire"
)

// recordOpenSSH rewrites the golden file of OpenSSH-made compressed
// packets that the compression package decodes in its tests.
var recordOpenSSH = flag.Bool("record-openssh", false, "rewrite compression/testdata/openssh-sshd-zlib.bin from a live sshd")

// opensshGoldenFile is written by TestOpenSSHCompressionServerStream and
// read by compression's TestDecompressOpenSSHRecorded.
const opensshGoldenFile = "compression/testdata/openssh-sshd-zlib.bin"

// opensshGoldenText is what sshd sends through cat in the recording; the
// compression package's test makes the same text to check the recording
// against. Keep the two in step.
func opensshGoldenText() []byte {
	var b bytes.Buffer
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	for i := 0; b.Len() < 96<<10; i++ {
		fmt.Fprintf(&b, "%05d %s %s %s\n", i, words[i%8], words[i*7%8], words[i*i%8])
	}
	return b.Bytes()
}

// TestOpenSSHCompressionServerStream logs our client into sshd with
// zlib@openssh.com, runs cat on a file of text twice with a rekey between,
// and checks what arrives: sshd's streams, flushed with Z_PARTIAL_FLUSH
// after every packet and restarted at NEWKEYS, decode packet by packet
// into the file's bytes.
// With -record-openssh it also records the compressed packets and what
// they decode to.
func TestOpenSSHCompressionServerStream(t *testing.T) {
	peertest.RequireOpenSSH(t)
	sshd, key := sshdWithUserKey(t, "Compression yes")
	text := opensshGoldenText()
	file := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	var golden []byte
	cfg := &ClientConfig{}
	cfg.KeyExchanges = []string{osshKex0}
	cfg.Compressions = compression.All
	cfg.traceInflate = func(compressed, payload []byte) {
		golden = binary.BigEndian.AppendUint32(golden, uint32(len(payload)))
		golden = append(golden, payload...)
		golden = binary.BigEndian.AppendUint32(golden, uint32(len(compressed)))
		golden = append(golden, compressed...)
	}
	c := dialSSHD(t, sshd, cfg)
	if err := c.RequestService("ssh-userauth"); err != nil {
		t.Fatal(err)
	}
	sshdAuthPublicKey(t, c, peertest.CurrentUser(t), key)
	if a := c.Algorithms(); a.Read.Compression != compression.ZlibOpenSSH || a.Write.Compression != compression.ZlibOpenSSH {
		t.Fatalf("negotiated %+v; want zlib@openssh.com both ways", a)
	}

	// cat the file on a new channel; rekey between two runs, so that the
	// recording holds two streams, both with data.
	cat := func(id uint32) []byte {
		t.Helper()
		open := wire.AppendStringS([]byte{wire.MsgChannelOpen}, "session")
		open = wire.AppendUint32(open, id)     // sender channel
		open = wire.AppendUint32(open, 4<<20)  // initial window: the whole file
		open = wire.AppendUint32(open, 32<<10) // maximum packet
		if err := c.WritePacket(open); err != nil {
			t.Fatal(err)
		}
		var got []byte
		var peer uint32
		for {
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
			r := wire.Reader(p[1:])
			switch p[0] {
			case wire.MsgChannelOpenConfirm:
				var ours uint32
				if !r.ReadUint32(&ours) || !r.ReadUint32(&peer) {
					t.Fatalf("malformed CHANNEL_OPEN_CONFIRMATION %x", p)
				}
				exec := wire.AppendUint32([]byte{wire.MsgChannelRequest}, peer)
				exec = wire.AppendStringS(exec, "exec")
				exec = wire.AppendBool(exec, true)
				exec = wire.AppendStringS(exec, "cat "+file)
				if err := c.WritePacket(exec); err != nil {
					t.Fatal(err)
				}
			case wire.MsgChannelData:
				var ch uint32
				var data []byte
				if !r.ReadUint32(&ch) || !r.ReadString(&data) {
					t.Fatalf("malformed CHANNEL_DATA %x", p)
				}
				got = append(got, data...)
			case wire.MsgChannelClose:
				if err := c.WritePacket(wire.AppendUint32([]byte{wire.MsgChannelClose}, peer)); err != nil {
					t.Fatal(err)
				}
				return got
			case wire.MsgChannelOpenFailure, wire.MsgChannelFailure:
				t.Fatalf("sshd refused: %x", p)
			}
		}
	}
	for i := range uint32(2) {
		if got := cat(i); !bytes.Equal(got, text) {
			t.Fatalf("cat %d sent %d bytes; want the file's %d", i, len(got), len(text))
		}
		if i == 0 {
			if err := c.Rekey(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if *recordOpenSSH {
		if err := os.WriteFile(opensshGoldenFile, golden, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d bytes to %s", len(golden), opensshGoldenFile)
	}
}
