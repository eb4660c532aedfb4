package worker

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

func TestAppendRequestLayout(t *testing.T) {
	got, err := appendRequest(nil, Payload{Context: []byte(`{"type":["connect"]}`), Body: []byte{0x0a, 0x01, 0x63}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := frame.Read(bytes.NewReader(got), 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Flags != frame.CodecProto || len(f.Options) != 1 || f.Options[0] != 20 || got[0] != 0x14 {
		t.Fatalf("frame flags %#x options %v byte0 %#x", f.Flags, f.Options, got[0])
	}
	if string(f.Payload) != `{"type":["connect"]}`+"\x0a\x01\x63" {
		t.Fatalf("payload %q", f.Payload)
	}
	// An explicit codec is kept.
	got, _ = appendRequest(nil, Payload{Body: []byte("x"), Codec: frame.CodecJSON})
	if got[1] != frame.CodecJSON {
		t.Fatalf("codec byte %#x", got[1])
	}
	// Byte-exact check of a whole request frame.
	got, _ = appendRequest(nil, Payload{Context: []byte("{}"), Body: []byte("b")})
	if h := hex.EncodeToString(got[:16]); !strings.HasPrefix(h, "148003000000") || !strings.HasSuffix(h, "000002000000") {
		t.Fatalf("header %s", h)
	}
}

func TestReplyPayload(t *testing.T) {
	tests := []struct {
		name    string
		f       frame.Frame
		ctx     string
		body    string
		wantErr string
	}{
		{name: "context and body", f: frame.Frame{Options: []uint32{2}, Payload: []byte("{}resp")}, ctx: "{}", body: "resp"},
		{name: "empty context", f: frame.Frame{Options: []uint32{0}, Payload: []byte("resp")}, body: "resp"},
		{name: "empty everything", f: frame.Frame{Options: []uint32{0}}},
		{name: "no options", f: frame.Frame{Payload: []byte("x")}, wantErr: "exactly one option"},
		{name: "two options", f: frame.Frame{Options: []uint32{1, 2}, Payload: []byte("xyz")}, wantErr: "exactly one option"},
		{name: "context longer than payload", f: frame.Frame{Options: []uint32{9}, Payload: []byte("xyz")}, wantErr: "bad payload"},
		{name: "stream bit", f: frame.Frame{Byte10: frame.BitStream, Options: []uint32{0}}, wantErr: "streaming response not supported"},
		{name: "control frame", f: frame.Frame{Flags: frame.FlagControl, Payload: []byte(`{"pid":1}`)}, wantErr: "control frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := replyPayload(tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(p.Context) != tt.ctx || string(p.Body) != tt.body {
				t.Fatalf("got %q/%q, %v", p.Context, p.Body, err)
			}
			// Appending to the context must not clobber the body.
			if len(p.Context) > 0 {
				_ = append(p.Context, 'X')
				if string(p.Body) != tt.body {
					t.Fatal("context aliases body")
				}
			}
		})
	}
}

func TestIsStopRequest(t *testing.T) {
	tests := []struct {
		ctx, body string
		want      bool
	}{
		{`{"stop":true}`, "", true},
		{`{"stop": true, "x": 1}`, "", true},
		{`{"stop":false}`, "", false},
		{`{"stop":true}`, "body", false},
		{`{"type":["stop"]}`, "", false},
		{`not json stop`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		if got := isStopRequest(Payload{Context: []byte(tt.ctx), Body: []byte(tt.body)}); got != tt.want {
			t.Errorf("isStopRequest(%q, %q) = %v", tt.ctx, tt.body, got)
		}
	}
}

func TestParsePIDReply(t *testing.T) {
	tests := []struct {
		name    string
		f       frame.Frame
		pid     int
		wantErr string
	}{
		{"php reply", frame.Frame{Flags: frame.FlagControl, Payload: []byte(`{"pid":4242}`)}, 4242, ""},
		{"with codec bit", frame.Frame{Flags: frame.FlagControl | frame.CodecJSON, Payload: []byte(`{"pid":7}`)}, 7, ""},
		{"no control bit", frame.Frame{Payload: []byte(`{"pid":7}`)}, 0, "control flag"},
		{"not json", frame.Frame{Flags: frame.FlagControl, Payload: []byte(`pid=7`)}, 0, "not JSON"},
		{"zero pid", frame.Frame{Flags: frame.FlagControl, Payload: []byte(`{"pid":0}`)}, 0, "no positive pid"},
		{"error frame", frame.Frame{Flags: frame.FlagError, Payload: []byte(`nope`)}, 0, "with an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, err := parsePIDReply(tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || pid != tt.pid {
				t.Fatalf("pid %d, %v", pid, err)
			}
		})
	}
}

func TestControlFramesMatchSpec(t *testing.T) {
	stop, _ := frame.Append(nil, stopRequest())
	if stop[0] != 0x13 || stop[1] != frame.FlagControl|frame.CodecJSON || string(stop[12:]) != `{"stop":true}` {
		t.Fatalf("stop frame % x", stop)
	}
	pid, _ := frame.Append(nil, pidRequest())
	if pid[1] != 0x09 || !bytes.HasPrefix(pid[12:], []byte(`{"pid":`)) {
		t.Fatalf("pid frame % x", pid)
	}
}
