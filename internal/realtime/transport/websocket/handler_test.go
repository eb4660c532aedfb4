package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gws "github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

func TestSubprotocolEcho(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	tests := []struct {
		name      string
		requested []string
		want      string
	}{
		{"protobuf", []string{"centrifuge-protobuf"}, "centrifuge-protobuf"},
		{"json", []string{"centrifuge-json"}, "centrifuge-json"},
		{"client order wins", []string{"other", "centrifuge-json", "centrifuge-protobuf"}, "centrifuge-json"},
		{"client order wins reversed", []string{"centrifuge-protobuf", "centrifuge-json"}, "centrifuge-protobuf"},
		{"unknown only", []string{"other"}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, resp := h.dial(t, "", tt.requested, nil)
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tt.want {
				t.Fatalf("response subprotocol = %q, want %q", got, tt.want)
			}
			if c.Subprotocol() != tt.want {
				t.Fatalf("client negotiated %q, want %q", c.Subprotocol(), tt.want)
			}
			sc, _ := h.accepted(t)
			if sc.Subprotocol() != tt.want {
				t.Fatalf("server Subprotocol() = %q, want %q", sc.Subprotocol(), tt.want)
			}
		})
	}
}

func TestFormatSelection(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	tests := []struct {
		name      string
		query     string
		requested []string
		want      protocol.Type
		wantMsg   int
	}{
		{"default json", "", nil, protocol.TypeJSON, gws.TextMessage},
		{"format query", "format=protobuf", nil, protocol.TypeProtobuf, gws.BinaryMessage},
		{"cf_protocol query", "cf_protocol=protobuf", nil, protocol.TypeProtobuf, gws.BinaryMessage},
		{"subprotocol", "", []string{"centrifuge-protobuf"}, protocol.TypeProtobuf, gws.BinaryMessage},
		{"json subprotocol", "", []string{"centrifuge-json"}, protocol.TypeJSON, gws.TextMessage},
		{"query beats json subprotocol", "format=protobuf", []string{"centrifuge-json"}, protocol.TypeProtobuf, gws.BinaryMessage},
		{"other format value", "format=json", nil, protocol.TypeJSON, gws.TextMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := h.dial(t, tt.query, tt.requested, nil)
			sc, _ := h.accepted(t)
			if sc.Protocol() != tt.want {
				t.Fatalf("Protocol() = %q, want %q", sc.Protocol(), tt.want)
			}
			if sc.Name() != "websocket" {
				t.Fatalf("Name() = %q", sc.Name())
			}
			if err := sc.Write([]byte(`{"id":1}`)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			typ, p, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("client read: %v", err)
			}
			if typ != tt.wantMsg || string(p) != `{"id":1}` {
				t.Fatalf("client got type %d %q, want type %d", typ, p, tt.wantMsg)
			}
		})
	}
}

func TestReadsTextAndBinary(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	c, _ := h.dial(t, "", nil, nil)
	_, sess := h.accepted(t)
	for _, m := range []struct {
		typ  int
		data string
	}{{gws.TextMessage, "text"}, {gws.BinaryMessage, "\x00\x01bin"}} {
		if err := c.WriteMessage(m.typ, []byte(m.data)); err != nil {
			t.Fatalf("client write: %v", err)
		}
		if got := sess.nextFrame(t); string(got) != m.data {
			t.Fatalf("frame = %q, want %q", got, m.data)
		}
	}
}

func TestRequestAccessors(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	h.dial(t, "a=b", nil, http.Header{"X-Custom": {"v1"}})
	sc, _ := h.accepted(t)
	if sc.Header().Get("X-Custom") != "v1" {
		t.Fatalf("Header() lost X-Custom: %v", sc.Header())
	}
	if sc.Request().URL.Query().Get("a") != "b" {
		t.Fatalf("Request() URL = %v", sc.Request().URL)
	}
	if !strings.HasPrefix(sc.RemoteAddr(), "127.0.0.1:") {
		t.Fatalf("RemoteAddr() = %q", sc.RemoteAddr())
	}
}

func TestMessageSizeLimit(t *testing.T) {
	h := newHarness(t, Config{MessageSizeLimit: 100}, nil)
	c, _ := h.dial(t, "", nil, nil)
	sc, sess := h.accepted(t)
	if err := c.WriteMessage(gws.TextMessage, bytes.Repeat([]byte("a"), 100)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if got := sess.nextFrame(t); len(got) != 100 {
		t.Fatalf("message at the limit: got %d bytes", len(got))
	}
	if err := c.WriteMessage(gws.TextMessage, bytes.Repeat([]byte("a"), 101)); err != nil {
		t.Fatalf("write: %v", err)
	}
	expectClose(t, c, 1009, "message size limit exceeded")
	sess.waitClosed(t)
	select {
	case f := <-sess.frames:
		t.Fatalf("oversized message delivered (%d bytes)", len(f))
	default:
	}
	if err := sc.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after 1009 = %v, want ErrClosed", err)
	}
}

func TestCloseSendsCodeAndReason(t *testing.T) {
	long := strings.Repeat("é", 70) // 140 bytes, 2 per rune
	tests := []struct {
		name       string
		code       int
		reason     string
		wantReason string
	}{
		{"disconnect code", 3501, "bad request", "bad request"},
		{"app code", 4500, "custom", "custom"},
		{"truncated on rune boundary", 3000, long, strings.Repeat("é", 61)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, nil)
			c, _ := h.dial(t, "", nil, nil)
			sc, sess := h.accepted(t)
			if err := sc.Close(tt.code, tt.reason); err != nil {
				t.Fatalf("Close: %v", err)
			}
			expectClose(t, c, tt.code, tt.wantReason)
			sess.waitClosed(t)
			if err := sc.Write([]byte("late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Write after Close = %v, want ErrClosed", err)
			}
			if err := sc.Close(3001, "again"); err != nil {
				t.Fatalf("second Close = %v, want nil", err)
			}
			if n := sess.closeCount.Load(); n != 1 {
				t.Fatalf("HandleClose called %d times", n)
			}
		})
	}
}

func TestCloseDoesNotBlockAndDropsSilentPeer(t *testing.T) {
	h := newHarness(t, Config{CloseWait: 600 * time.Millisecond}, nil)
	raw, err := rawDial(strings.TrimPrefix(h.srv.URL, "http://"), "")
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	defer raw.Close()
	sc, sess := h.accepted(t)
	start := time.Now()
	if err := sc.Close(3001, "shutdown"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("Close blocked for %v", d)
	}
	// The raw client never answers the close; the server must drop TCP
	// after CloseWait.
	sess.waitClosed(t)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("TCP dropped after %v, before CloseWait", d)
	}
	_ = raw.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 64)
	n, _ := raw.Read(buf)
	want := append([]byte{0x88, 10, 0x0b, 0xb9}, "shutdown"...)
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("close frame = % x, want % x", buf[:n], want)
	}
	if _, err := raw.Read(buf); err == nil {
		t.Fatal("connection still open after CloseWait")
	}
}

func TestAcceptErrorCloses(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   int
		wantReason string
	}{
		{"close error", &CloseError{Code: 3500, Reason: "invalid token"}, 3500, "invalid token"},
		{"wrapped close error", fmt.Errorf("auth: %w", &CloseError{Code: 3504, Reason: "connection limit"}), 3504, "connection limit"},
		{"plain error", errors.New("boom"), 3004, "internal server error"},
		{"no session", nil, 3004, "internal server error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{Accept: func(*Conn, *http.Request) (Session, error) {
				return nil, tt.err
			}}, nil)
			c, _ := h.dial(t, "", nil, nil)
			expectClose(t, c, tt.wantCode, tt.wantReason)
		})
	}
}

func TestNoAcceptFunction(t *testing.T) {
	srv := httptest.NewServer(NewHandler(Config{}))
	defer srv.Close()
	_, resp, err := (&gws.Dialer{HandshakeTimeout: testTimeout}).Dial(
		"ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("want HTTP 500, got %v %v", resp, err)
	}
}

func TestHandleFrameFalseStopsReading(t *testing.T) {
	h := newHarness(t, Config{}, func(s *recSession) {
		s.keep = func(data []byte) bool { return string(data) != "stop" }
	})
	c, _ := h.dial(t, "", nil, nil)
	_, sess := h.accepted(t)
	for _, m := range []string{"one", "stop", "after"} {
		_ = c.WriteMessage(gws.TextMessage, []byte(m))
	}
	sess.waitClosed(t)
	if got := string(sess.nextFrame(t)) + "," + string(sess.nextFrame(t)); got != "one,stop" {
		t.Fatalf("frames = %s", got)
	}
	select {
	case f := <-sess.frames:
		t.Fatalf("frame %q delivered after HandleFrame returned false", f)
	default:
	}
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("client connection still open")
	}
}

func TestPeerCloseEndsSession(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	c, _ := h.dial(t, "", nil, nil)
	sc, sess := h.accepted(t)
	msg := gws.FormatCloseMessage(gws.CloseNormalClosure, "bye")
	if err := c.WriteControl(gws.CloseMessage, msg, time.Now().Add(testTimeout)); err != nil {
		t.Fatalf("client close: %v", err)
	}
	expectClose(t, c, gws.CloseNormalClosure, "") // the server echoes the close
	sess.waitClosed(t)
	if err := sc.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after peer close = %v, want ErrClosed", err)
	}
}

func TestWriteTimeout(t *testing.T) {
	h := newHarness(t, Config{WriteTimeout: 100 * time.Millisecond}, nil)
	h.dial(t, "", nil, nil) // the client never reads
	sc, _ := h.accepted(t)
	frame := bytes.Repeat([]byte("x"), 1<<20)
	deadline := time.Now().Add(testTimeout)
	for {
		start := time.Now()
		err := sc.Write(frame)
		if err != nil {
			if d := time.Since(start); d > time.Second {
				t.Fatalf("write failed only after %v", d)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a non-reading peer never timed out")
		}
	}
}

func TestCompression(t *testing.T) {
	h := newHarness(t, Config{Compression: true}, nil)
	d := gws.Dialer{HandshakeTimeout: testTimeout, EnableCompression: true}
	c, resp, err := d.Dial(h.url(""), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("compression not negotiated: %v", resp.Header)
	}
	sc, sess := h.accepted(t)
	payload := bytes.Repeat([]byte(`{"data":"abc"}`), 200)
	if err := c.WriteMessage(gws.TextMessage, payload); err != nil {
		t.Fatalf("client write: %v", err)
	}
	if got := sess.nextFrame(t); !bytes.Equal(got, payload) {
		t.Fatalf("server got %d bytes, want %d", len(got), len(payload))
	}
	if err := sc.Write(payload); err != nil {
		t.Fatalf("server write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("client read %d bytes: %v", len(got), err)
	}
}

func TestClosePayload(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		reason string
		want   []byte
	}{
		{"normal", 3001, "shutdown", append([]byte{0x0b, 0xb9}, "shutdown"...)},
		{"invalid utf8 dropped", 4000, "a\xffb", []byte{0x0f, 0xa0, 'a', 'b'}},
		{"reserved 1005", 1005, "x", nil},
		{"reserved 1006", 1006, "x", nil},
		{"zero", 0, "", nil},
		{"too large", 5000, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := closePayload(tt.code, tt.reason); !bytes.Equal(got, tt.want) {
				t.Fatalf("closePayload = % x, want % x", got, tt.want)
			}
		})
	}
	for _, s := range []string{strings.Repeat("a", 200), strings.Repeat("€", 50), strings.Repeat("a", 122) + "é"} {
		got := truncateReason(s)
		if len(got) > maxCloseReason || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) < maxCloseReason-3 {
			t.Fatalf("truncateReason(%d bytes) = %d bytes, valid=%v", len(s), len(got), utf8.ValidString(got))
		}
	}
}

// TestSmallReadBuffer: messages far larger than the read buffer (and
// several in a row) still arrive whole and in order.
func TestSmallReadBuffer(t *testing.T) {
	h := newHarness(t, Config{ReadBufferSize: 128}, nil)
	c, _ := h.dial(t, "", nil, nil)
	_, sess := h.accepted(t)
	for i, size := range []int{10, 5000, 127, 60000} {
		msg := strings.Repeat(string(rune('a'+i)), size)
		if err := c.WriteMessage(gws.TextMessage, []byte(msg)); err != nil {
			t.Fatalf("client write: %v", err)
		}
		if got := sess.nextFrame(t); string(got) != msg {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), size)
		}
	}
}
