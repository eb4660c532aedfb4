package httpstream

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/transport/websocket"
)

// echoSession answers every frame by writing "got:<frame>" as a reply, and
// closes the connection with 3501 when the frame is "bye".
type echoSession struct {
	c      *Conn
	mu     sync.Mutex
	closed bool
}

func (s *echoSession) HandleFrame(data []byte) bool {
	if string(data) == "bye" {
		_ = s.c.Close(3501, "bad request")
		return false
	}
	_ = s.c.WriteBatch([][]byte{[]byte(`{"got":"` + string(data) + `"}`), []byte(`{}`)})
	return true
}

func (s *echoSession) HandleClose() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.c.Close(codeConnectionClosed, "")
}

func streamServer(t *testing.T, h func(StreamConfig) http.Handler, sessions chan *echoSession) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h(StreamConfig{
		Origins: mustOrigins(t, "http://ok.example"),
		Accept: func(c *Conn, r *http.Request) (Session, error) {
			if r.URL.Query().Get("refuse") != "" {
				return nil, &websocket.CloseError{Code: 3001, Reason: "shutdown"}
			}
			s := &echoSession{c: c}
			if sessions != nil {
				sessions <- s
			}
			return s, nil
		},
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mustOrigins(t *testing.T, p ...string) *websocket.OriginMatcher {
	m, err := websocket.NewOriginMatcher(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readAll reads the stream until it ends (or 3 s pass).
func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	done := make(chan string, 1)
	go func() { b, _ := io.ReadAll(res.Body); done <- string(b) }()
	select {
	case s := <-done:
		return s
	case <-time.After(3 * time.Second):
		t.Fatal("stream did not end")
		return ""
	}
}

func TestStreamFraming(t *testing.T) {
	tests := []struct {
		name    string
		handler func(StreamConfig) http.Handler
		method  string
		ctype   string
		query   string
		want    string
	}{
		{"http_stream json: a line per reply, disconnect push last", NewHTTPStreamHandler, "POST", "application/json", "",
			"{\"got\":\"hello\"}\n{}\n{\"push\":{\"disconnect\":{\"code\":3501,\"reason\":\"bad request\"}}}\n"},
		{"sse: CRLF, then an event per reply", NewSSEHandler, "GET", "", "?cf_connect=hello",
			"\r\ndata: {\"got\":\"hello\"}\n\ndata: {}\n\ndata: {\"push\":{\"disconnect\":{\"code\":3501,\"reason\":\"bad request\"}}}\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sessions := make(chan *echoSession, 1)
			srv := streamServer(t, tt.handler, sessions)
			var body io.Reader
			if tt.method == "POST" {
				body = strings.NewReader("hello")
			}
			req, _ := http.NewRequest(tt.method, srv.URL+tt.query, body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			s := <-sessions
			// A second frame ends the session the way a bad command does.
			go s.HandleFrame([]byte("bye"))
			if got := readAll(t, res); got != tt.want {
				t.Fatalf("stream = %q\nwant     %q", got, tt.want)
			}
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				t.Error("HandleClose was not called when the stream ended")
			}
		})
	}
}

func TestStreamProtobufFraming(t *testing.T) {
	sessions := make(chan *echoSession, 1)
	srv := streamServer(t, NewHTTPStreamHandler, sessions)
	res, err := http.Post(srv.URL, "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	s := <-sessions
	if s.c.Protocol() != "protobuf" {
		t.Fatalf("protocol %q for Content-Type application/octet-stream, want protobuf", s.c.Protocol())
	}
	r := bufio.NewReader(res.Body)
	line, _ := r.ReadString('}')
	if line != `{"got":"x"}` {
		t.Fatalf("first item %q: items are written as they are, already length-prefixed by the encoder", line)
	}
}

func TestStreamRefusedGetsDisconnectPush(t *testing.T) {
	srv := streamServer(t, NewHTTPStreamHandler, nil)
	res, err := http.Post(srv.URL+"?refuse=1", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200 (connect errors travel inside the stream)", res.StatusCode)
	}
	if got, want := readAll(t, res), "{\"push\":{\"disconnect\":{\"code\":3001,\"reason\":\"shutdown\"}}}\n"; got != want {
		t.Fatalf("stream = %q, want %q", got, want)
	}
}

// A client that goes away ends the session (HandleClose), and the stream
// accepts no writes once its handler has returned.
func TestStreamClientGoneStopsWrites(t *testing.T) {
	sessions := make(chan *echoSession, 1)
	srv := streamServer(t, NewHTTPStreamHandler, sessions)
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("hi"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := <-sessions
	res.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("HandleClose not called after the client went away")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.c.WriteBatch([][]byte{[]byte("{}")}); err != ErrClosed {
		t.Fatalf("write after the stream ended = %v, want ErrClosed", err)
	}
}

func TestStreamRequests(t *testing.T) {
	srv := streamServer(t, NewHTTPStreamHandler, nil)
	sse := streamServer(t, NewSSEHandler, nil)
	big := strings.Repeat("x", DefaultMaxRequestBodySize+1)
	tests := []struct {
		name, method, url, body string
		origin                  string
		want                    int
		wantACAO                string
	}{
		{"http_stream GET", "GET", srv.URL, "", "", 405, ""},
		{"http_stream preflight, allowed origin", "OPTIONS", srv.URL, "", "http://ok.example", 204, "http://ok.example"},
		{"http_stream preflight, foreign origin", "OPTIONS", srv.URL, "", "http://evil.example", 204, ""},
		{"http_stream oversize", "POST", srv.URL, big, "", 413, ""},
		{"sse without cf_connect", "GET", sse.URL, "", "", 400, ""},
		{"sse oversize cf_connect", "GET", sse.URL + "?cf_connect=" + big, "", "", 413, ""},
		{"sse OPTIONS", "OPTIONS", sse.URL, "", "", 405, ""},
		{"sse DELETE", "DELETE", sse.URL, "", "", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.wantACAO)
			}
		})
	}
}
