package websocket

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchServer runs an http.Server on 127.0.0.1 and counts the handlers that
// are alive, so idle-connection benchmarks can wait until every connection is
// parked and shutdown can wait until every handler has returned.
type benchServer struct {
	ln      net.Listener
	srv     *http.Server
	ready   atomic.Int64
	running sync.WaitGroup
}

// startBenchServer serves h; h must call s.parked() once its connection is
// upgraded and about to block.
func startBenchServer(tb testing.TB, h func(s *benchServer, w http.ResponseWriter, r *http.Request)) *benchServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &benchServer{ln: ln}
	s.srv = &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.running.Add(1)
			defer s.running.Done()
			h(s, w, r)
		}),
	}
	go func() { _ = s.srv.Serve(ln) }()
	tb.Cleanup(func() {
		_ = s.srv.Close()
		done := make(chan struct{})
		go func() { s.running.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Errorf("bench server handlers did not exit")
		}
	})
	return s
}

func (s *benchServer) parked() { s.ready.Add(1) }

func (s *benchServer) url(scheme, query string) string {
	u := scheme + "://" + s.ln.Addr().String() + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// rawDial performs a WebSocket handshake over a bare TCP connection and
// returns the connection positioned right after the response headers. It is
// the same minimal client for every library, so client-side costs cancel out
// of the comparison.
func rawDial(addr, query string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	req := "GET /ws?" + query + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("write handshake: %w", err)
	}
	// Read byte by byte so nothing after the headers is consumed.
	var resp []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if _, err := c.Read(one); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("read handshake: %w", err)
		}
		resp = append(resp, one[0])
		if len(resp) > 4096 {
			_ = c.Close()
			return nil, fmt.Errorf("handshake response too long")
		}
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
		_ = c.Close()
		return nil, fmt.Errorf("handshake refused: %q", resp)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// memSnapshot is the part of the runtime state an idle connection costs.
type memSnapshot struct {
	heap       uint64
	stack      uint64
	goroutines int
}

func takeSnapshot() memSnapshot {
	// Two collections so sync.Pool victim caches are emptied as well.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{heap: ms.HeapAlloc, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// idleConns is how many connections the idle-cost benchmarks hold open.
const idleConns = 1000

// benchIdle opens idleConns raw clients against s, waits until every server
// handler is parked, and reports the per-connection heap, stack and
// goroutine cost (the raw client's own small cost is included and is the
// same for every server).
func benchIdle(b *testing.B, s *benchServer, query string) {
	b.Helper()
	var heap, stack, gor float64
	for i := 0; i < b.N; i++ {
		s.ready.Store(0)
		before := takeSnapshot()
		conns := make([]net.Conn, 0, idleConns)
		for j := 0; j < idleConns; j++ {
			c, err := rawDial(s.ln.Addr().String(), query)
			if err != nil {
				b.Fatalf("conn %d: %v", j, err)
			}
			conns = append(conns, c)
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.ready.Load() < idleConns {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d connections parked", s.ready.Load(), idleConns)
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let the last handlers reach their blocking read
		after := takeSnapshot()
		heap += float64(int64(after.heap)-int64(before.heap)) / idleConns
		stack += float64(int64(after.stack)-int64(before.stack)) / idleConns
		gor += float64(after.goroutines-before.goroutines) / idleConns
		runtime.KeepAlive(conns)
		for _, c := range conns {
			_ = c.Close()
		}
		waitHandlers(b, s)
	}
	b.ReportMetric(heap/float64(b.N), "bytes/conn")
	b.ReportMetric(stack/float64(b.N), "stack-bytes/conn")
	b.ReportMetric(gor/float64(b.N), "goroutines/conn")
}

// waitHandlers waits until every connection handler of s has returned.
func waitHandlers(tb testing.TB, s *benchServer) {
	tb.Helper()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		tb.Fatalf("handlers did not exit after clients closed")
	}
}

// frameSize200 is the wire size of an unmasked 200-byte server frame:
// 2 header bytes + 2 extended length bytes + payload.
const frameSize200 = 4 + 200
