package connection

import (
	"bytes"
	"encoding/hex"
	"maps"
	"testing"

	"golang.org/x/crypto/ssh"
)

// requestData is what every request data type has.
type requestData interface {
	Len() int
	Append([]byte) []byte
	Parse([]byte) error
}

// sessionMessages are one valid value of each type, the encoding of the
// same value by golang.org/x/crypto/ssh's reflection-based marshaller,
// and a constructor of an empty value for parsing.
func sessionMessages() []struct {
	name  string
	msg   requestData
	xssh  []byte
	empty func() requestData
} {
	modes := AppendTerminalModes(nil, ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400})
	return []struct {
		name  string
		msg   requestData
		xssh  []byte
		empty func() requestData
	}{
		{"pty-req", &PtyRequest{Term: []byte("xterm-256color"), Cols: 80, Rows: 24, Width: 640, Height: 480, Modes: modes},
			ssh.Marshal(struct {
				Term                    string
				Cols, Rows, Width, High uint32
				Modes                   string
			}{"xterm-256color", 80, 24, 640, 480, string(modes)}),
			func() requestData { return new(PtyRequest) }},
		{"env", &EnvRequest{Name: []byte("LANG"), Value: []byte("C.UTF-8")},
			ssh.Marshal(struct{ Name, Value string }{"LANG", "C.UTF-8"}),
			func() requestData { return new(EnvRequest) }},
		{"exec", &ExecRequest{Command: []byte("ls -l /")},
			ssh.Marshal(struct{ Command string }{"ls -l /"}),
			func() requestData { return new(ExecRequest) }},
		{"subsystem", &SubsystemRequest{Name: []byte("sftp")},
			ssh.Marshal(struct{ Name string }{"sftp"}),
			func() requestData { return new(SubsystemRequest) }},
		{"signal", &SignalRequest{Signal: []byte("INT")},
			ssh.Marshal(struct{ Signal string }{"INT"}),
			func() requestData { return new(SignalRequest) }},
		{"window-change", &WindowChange{Cols: 132, Rows: 43, Width: 1, Height: 2},
			ssh.Marshal(struct{ C, R, W, H uint32 }{132, 43, 1, 2}),
			func() requestData { return new(WindowChange) }},
		{"exit-status", &ExitStatus{Status: 3},
			ssh.Marshal(struct{ Status uint32 }{3}),
			func() requestData { return new(ExitStatus) }},
		{"exit-signal", &ExitSignal{Signal: []byte("KILL"), CoreDumped: true, Message: []byte("killed"), Language: []byte("en")},
			ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Msg, Lang  string
			}{"KILL", true, "killed", "en"}),
			func() requestData { return new(ExitSignal) }},
		{"direct-tcpip", &DirectTCPIP{Host: []byte("example.com"), Port: 443, OriginAddr: []byte("127.0.0.1"), OriginPort: 50000},
			ssh.Marshal(struct {
				Host       string
				Port       uint32
				Origin     string
				OriginPort uint32
			}{"example.com", 443, "127.0.0.1", 50000}),
			func() requestData { return new(DirectTCPIP) }},
	}
}

func TestSessionMessagesEncoding(t *testing.T) {
	for _, m := range sessionMessages() {
		t.Run(m.name, func(t *testing.T) {
			enc := m.msg.Append(nil)
			if len(enc) != m.msg.Len() {
				t.Fatalf("len(Append) = %d; Len() = %d", len(enc), m.msg.Len())
			}
			if !bytes.Equal(enc, m.xssh) {
				t.Fatalf("Append = %x; x/crypto/ssh encodes %x", enc, m.xssh)
			}
			got := m.empty()
			if err := got.Parse(enc); err != nil {
				t.Fatal(err)
			}
			if again := got.Append(nil); !bytes.Equal(again, enc) {
				t.Fatalf("round trip = %x; want %x", again, enc)
			}
			for i := range enc {
				if m.empty().Parse(enc[:i]) == nil {
					t.Fatalf("prefix of %d bytes parsed", i)
				}
			}
			if m.empty().Parse(append(enc, 0)) == nil {
				t.Fatal("trailing byte parsed")
			}
		})
	}
}

// Layouts from RFC 4254 §6.10 and §6.7, written out by hand.
func TestSessionMessagesHex(t *testing.T) {
	for _, tc := range []struct {
		msg  requestData
		want string
	}{
		{&ExitStatus{Status: 3}, "00000003"},
		{&WindowChange{Cols: 80, Rows: 24}, "00000050" + "00000018" + "00000000" + "00000000"},
		{&ExitSignal{Signal: []byte("TERM"), Message: []byte("x")}, "00000004" + "5445524d" + "00" + "0000000178" + "00000000"},
		{&ExecRequest{Command: []byte("id")}, "000000026964"},
	} {
		if got := hex.EncodeToString(tc.msg.Append(nil)); got != tc.want {
			t.Errorf("%T: got %s; want %s", tc.msg, got, tc.want)
		}
	}
}

func TestTerminalModes(t *testing.T) {
	modes := ssh.TerminalModes{ssh.VINTR: 3, ssh.ECHO: 0, ssh.TTY_OP_OSPEED: 9600, 0: 7, 200: 1}
	enc := AppendTerminalModes(nil, modes)
	// Opcodes in order, 0 and 200 left out, then TTY_OP_END.
	want := "01" + "00000003" + "35" + "00000000" + "81" + "00002580" + "00"
	if got := hex.EncodeToString(enc); got != want {
		t.Fatalf("got %s; want %s", got, want)
	}
	got, err := ParseTerminalModes(enc)
	if err != nil {
		t.Fatal(err)
	}
	delete(modes, 0)
	delete(modes, 200)
	if !maps.Equal(got, modes) {
		t.Fatalf("got %v; want %v", got, modes)
	}
	for _, tc := range []struct {
		in   string
		want ssh.TerminalModes
		ok   bool
	}{
		{"", ssh.TerminalModes{}, true},
		{"00", ssh.TerminalModes{}, true},
		{"3500000001", ssh.TerminalModes{53: 1}, true},           // END left out
		{"3500000001a0ffff", ssh.TerminalModes{53: 1}, true},     // stops at opcode 160
		{"350000000100ffff", ssh.TerminalModes{53: 1}, true},     // stops at END
		{"35000000013500000002", ssh.TerminalModes{53: 2}, true}, // the last value wins
		{"350000", nil, false},
	} {
		in, _ := hex.DecodeString(tc.in)
		got, err := ParseTerminalModes(in)
		if (err == nil) != tc.ok || !maps.Equal(got, tc.want) {
			t.Errorf("ParseTerminalModes(%s) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// fuzzRequestData checks a parser on arbitrary input: no panic, and for
// what parses, a re-encoding of the same length that parses back to the
// same encoding (booleans are the one field whose encoding is not
// unique), and no proper prefix that parses.
func fuzzRequestData(f *testing.F, name string) {
	var empty func() requestData
	for _, m := range sessionMessages() {
		if m.name == name {
			f.Add(m.msg.Append(nil))
			empty = m.empty
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := empty()
		if m.Parse(b) != nil {
			return
		}
		enc := m.Append(nil)
		if len(enc) != len(b) || len(enc) != m.Len() {
			t.Fatalf("re-encoding has %d bytes, Len %d; input %d", len(enc), m.Len(), len(b))
		}
		m2 := empty()
		if err := m2.Parse(enc); err != nil {
			t.Fatalf("re-encoding %x does not parse: %v", enc, err)
		}
		if enc2 := m2.Append(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip %x; want %x", enc2, enc)
		}
		step := 1
		if len(b) > 512 {
			step = len(b) / 256
		}
		for i := 0; i < len(b); i += step {
			if empty().Parse(b[:i]) == nil {
				t.Fatalf("proper prefix %x of %x parses", b[:i], b)
			}
		}
	})
}

func FuzzPtyRequest(f *testing.F)       { fuzzRequestData(f, "pty-req") }
func FuzzEnvRequest(f *testing.F)       { fuzzRequestData(f, "env") }
func FuzzExecRequest(f *testing.F)      { fuzzRequestData(f, "exec") }
func FuzzSubsystemRequest(f *testing.F) { fuzzRequestData(f, "subsystem") }
func FuzzSignalRequest(f *testing.F)    { fuzzRequestData(f, "signal") }
func FuzzWindowChange(f *testing.F)     { fuzzRequestData(f, "window-change") }
func FuzzExitStatus(f *testing.F)       { fuzzRequestData(f, "exit-status") }
func FuzzExitSignal(f *testing.F)       { fuzzRequestData(f, "exit-signal") }
func FuzzDirectTCPIP(f *testing.F)      { fuzzRequestData(f, "direct-tcpip") }

// FuzzTerminalModes checks that modes parse without panic and that what
// parses encodes to modes that parse back equal.
func FuzzTerminalModes(f *testing.F) {
	f.Add(AppendTerminalModes(nil, ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.VINTR: 3}))
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{53, 0, 0})
	f.Add([]byte{160, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		modes, err := ParseTerminalModes(b)
		if err != nil {
			return
		}
		again, err := ParseTerminalModes(AppendTerminalModes(nil, modes))
		if err != nil || !maps.Equal(modes, again) {
			t.Fatalf("round trip of %v gives %v, %v", modes, again, err)
		}
	})
}
