package connection

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/wire"
)

// rawOpen opens a channel from a bare transport against a connection
// server and returns the server's channel number, window and max packet.
func rawOpen(t *testing.T, tc *zerossh.Conn) (remote, window, maxPacket uint32) {
	t.Helper()
	m := channelOpen{Type: []byte("session"), Sender: 7, InitialWindow: 1 << 20, MaxPacket: 32 << 10}
	if err := tc.WritePacket(m.append(nil)); err != nil {
		t.Fatal(err)
	}
	p, err := tc.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	var c openConfirm
	if p[0] != wire.MsgChannelOpenConfirm || !c.parse(p) || c.Recipient != 7 {
		t.Fatalf("open answered with %x", p)
	}
	return c.Sender, c.InitialWindow, c.MaxPacket
}

// expectProtocolError reads until the server's DISCONNECT and checks its
// reason is protocol error.
func expectProtocolError(t *testing.T, tc *zerossh.Conn, s *Conn) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := tc.ReadPacket(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		var de *zerossh.DisconnectError
		if !errors.As(err, &de) || !de.Remote || de.Reason != zerossh.ProtocolError {
			t.Fatalf("peer read ended with %v; want a DISCONNECT with protocol error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no DISCONNECT within 10s")
	}
	<-s.Done()
	var de *zerossh.DisconnectError
	if err := s.Err(); !errors.As(err, &de) || de.Remote || de.Reason != zerossh.ProtocolError {
		t.Fatalf("server ended with %v; want a local protocol error", err)
	}
}

func acceptAll(s *Conn) {
	for nc := range s.Channels() {
		nc.Accept()
	}
}

func TestDataBeyondWindow(t *testing.T) {
	tc, ts := transports(t)
	s := New(ts, &Config{Window: 64 << 10, MaxPacket: 32 << 10})
	t.Cleanup(func() { s.Close(); tc.Close() })
	go acceptAll(s)
	remote, window, maxPacket := rawOpen(t, tc)
	if window != 64<<10 || maxPacket != 32<<10 {
		t.Fatalf("window %d, max packet %d; want 64 KiB, 32 KiB", window, maxPacket)
	}
	chunk := make([]byte, 32<<10)
	for range 3 { // 96 KiB into a 64 KiB window
		p := appendRecipient(nil, wire.MsgChannelData, remote)
		if err := tc.WritePacket(wire.AppendString(p, chunk)); err != nil {
			break
		}
	}
	expectProtocolError(t, tc, s)
}

func TestDataOverMaxPacket(t *testing.T) {
	tc, ts := transports(t)
	s := New(ts, &Config{MaxPacket: 16 << 10})
	t.Cleanup(func() { s.Close(); tc.Close() })
	go acceptAll(s)
	remote, _, _ := rawOpen(t, tc)
	p := appendRecipient(nil, wire.MsgChannelData, remote)
	tc.WritePacket(wire.AppendString(p, make([]byte, 16<<10+1)))
	expectProtocolError(t, tc, s)
}

func TestMessagesForUnknownChannel(t *testing.T) {
	for name, msg := range map[string][]byte{
		"data":    wire.AppendString(appendRecipient(nil, wire.MsgChannelData, 99), []byte("x")),
		"request": (&channelRequest{Recipient: 99, Type: []byte("exec"), WantReply: true}).append(nil),
		"eof":     appendRecipient(nil, wire.MsgChannelEOF, 99),
		"close":   appendRecipient(nil, wire.MsgChannelClose, 99),
		"adjust":  wire.AppendUint32(appendRecipient(nil, wire.MsgChannelWindowAdjust, 99), 10),
		"confirm": (&openConfirm{Recipient: 99, Sender: 1, InitialWindow: 10, MaxPacket: 10}).append(nil),
	} {
		t.Run(name, func(t *testing.T) {
			tc, ts := transports(t)
			s := New(ts, nil)
			t.Cleanup(func() { s.Close(); tc.Close() })
			if err := tc.WritePacket(msg); err != nil {
				t.Fatal(err)
			}
			expectProtocolError(t, tc, s)
		})
	}
}

func TestWindowAdjustOverflow(t *testing.T) {
	tc, ts := transports(t)
	s := New(ts, nil)
	t.Cleanup(func() { s.Close(); tc.Close() })
	go acceptAll(s)
	remote, _, _ := rawOpen(t, tc) // we offered a 1 MiB window
	p := wire.AppendUint32(appendRecipient(nil, wire.MsgChannelWindowAdjust, remote), 1<<32-1)
	tc.WritePacket(p)
	expectProtocolError(t, tc, s)
}

// FuzzChannelMessages feeds arbitrary payloads to the parsers of the
// connection protocol's messages: none may panic, and what parses must
// encode back to the same bytes.
func FuzzChannelMessages(f *testing.F) {
	f.Add((&channelOpen{Type: []byte("session"), Sender: 1, InitialWindow: 2, MaxPacket: 3, Extra: []byte("x")}).append(nil))
	f.Add((&openConfirm{Recipient: 1, Sender: 2, InitialWindow: 3, MaxPacket: 4}).append(nil))
	f.Add((&openFailure{Recipient: 1, Reason: Prohibited, Message: []byte("no")}).append(nil))
	f.Add((&channelRequest{Recipient: 1, Type: []byte("exec"), WantReply: true, Payload: []byte{0, 0, 0, 1, 'x'}}).append(nil))
	f.Add((&globalRequest{Type: []byte("tcpip-forward"), WantReply: true}).append(nil))
	f.Add(wire.AppendString(appendRecipient(nil, wire.MsgChannelData, 1), []byte("data")))
	f.Add(wire.AppendString(wire.AppendUint32(appendRecipient(nil, wire.MsgChannelExtendedData, 1), 1), []byte("e")))
	f.Add(wire.AppendUint32(appendRecipient(nil, wire.MsgChannelWindowAdjust, 1), 5))
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) == 0 {
			return
		}
		check := func(name string, ok bool, enc []byte) {
			if ok && !bytes.Equal(enc, p) {
				t.Fatalf("%s: %x re-encodes as %x", name, p, enc)
			}
		}
		var o channelOpen
		if p[0] == wire.MsgChannelOpen {
			ok := o.parse(p)
			check("open", ok, o.append(nil))
		}
		var c openConfirm
		if p[0] == wire.MsgChannelOpenConfirm {
			ok := c.parse(p)
			check("confirm", ok, c.append(nil))
		}
		var fl openFailure
		if p[0] == wire.MsgChannelOpenFailure && fl.parse(p) {
			// The language tag may be absent on the wire; compare fields.
			var again openFailure
			if !again.parse(fl.append(nil)) || again.Reason != fl.Reason || !bytes.Equal(again.Message, fl.Message) {
				t.Fatalf("open failure %x does not round trip", p)
			}
		}
		// Booleans re-encode as 0 or 1 (RFC 4251 §5: any non-zero value is
		// true), so requests compare by their fields.
		var r, r2 channelRequest
		if p[0] == wire.MsgChannelRequest && r.parse(p) {
			if !r2.parse(r.append(nil)) || r2.Recipient != r.Recipient || !bytes.Equal(r2.Type, r.Type) ||
				r2.WantReply != r.WantReply || !bytes.Equal(r2.Payload, r.Payload) {
				t.Fatalf("request %x does not round trip", p)
			}
		}
		var g, g2 globalRequest
		if p[0] == wire.MsgGlobalRequest && g.parse(p) {
			if !g2.parse(g.append(nil)) || !bytes.Equal(g2.Type, g.Type) || g2.WantReply != g.WantReply || !bytes.Equal(g2.Payload, g.Payload) {
				t.Fatalf("global request %x does not round trip", p)
			}
		}
		for _, ext := range []bool{false, true} {
			if id, typ, data, ok := parseChannelData(p, ext); ok {
				enc := appendRecipient(nil, p[0], id)
				if ext {
					enc = wire.AppendUint32(enc, typ)
				}
				check("data", true, wire.AppendString(enc, data))
			}
		}
		for _, v := range []bool{false, true} {
			if id, val, ok := parseRecipient(p, v); ok {
				enc := appendRecipient(nil, p[0], id)
				if v {
					enc = wire.AppendUint32(enc, val)
				}
				check("recipient", true, enc)
			}
		}
	})
}
