package websocket

// Library comparison: github.com/coder/websocket versus
// github.com/gorilla/websocket, each used the way this transport would use it
// (server writes carry a 1 s write timeout, the reader parks on the handler
// goroutine, no helper goroutines). Re-run with:
//
//	go test -run '^$' -bench 'Lib' -benchmem ./transport/websocket/
//
// The results and the choice are recorded in docs/benchmarks-websocket.md.

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	gws "github.com/gorilla/websocket"
)

const benchWriteTimeout = time.Second

// gorillaBenchUpgrader mirrors the transport's settings: the hijacked read
// buffer is reused and write buffers come from a pool, so an idle
// connection holds no write buffer.
var gorillaBenchUpgrader = gws.Upgrader{
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true },
}

func gorillaWrite(c *gws.Conn, typ int, p []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(benchWriteTimeout)); err != nil {
		return err
	}
	return c.WriteMessage(typ, p)
}

func coderWrite(c *cws.Conn, typ cws.MessageType, p []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), benchWriteTimeout)
	defer cancel()
	return c.Write(ctx, typ, p)
}

// --- (a) echo round trip of a 100-byte message ---

func BenchmarkLibEcho(b *testing.B) {
	msg := make([]byte, 100)
	b.Run("gorilla", func(b *testing.B) {
		s := startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := gorillaBenchUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				typ, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := gorillaWrite(c, typ, p); err != nil {
					return
				}
			}
		})
		c, _, err := gws.DefaultDialer.Dial(s.url("ws", ""), nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		defer c.Close()
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.WriteMessage(gws.BinaryMessage, msg); err != nil {
				b.Fatalf("write: %v", err)
			}
			if _, p, err := c.ReadMessage(); err != nil || len(p) != len(msg) {
				b.Fatalf("read: %d bytes, %v", len(p), err)
			}
		}
	})
	b.Run("coder", func(b *testing.B) {
		s := startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := cws.Accept(w, r, &cws.AcceptOptions{InsecureSkipVerify: true})
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, p, err := c.Read(context.Background())
				if err != nil {
					return
				}
				if err := coderWrite(c, typ, p); err != nil {
					return
				}
			}
		})
		ctx := context.Background()
		c, _, err := cws.Dial(ctx, s.url("ws", ""), nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		defer c.CloseNow()
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.Write(ctx, cws.MessageBinary, msg); err != nil {
				b.Fatalf("write: %v", err)
			}
			if _, p, err := c.Read(ctx); err != nil || len(p) != len(msg) {
				b.Fatalf("read: %d bytes, %v", len(p), err)
			}
		}
	})
}

// --- (b) server write throughput of 200-byte frames to one client ---

// benchWriteThroughput asks the server (via ?n=) to write b.N frames and
// drains them with the raw client, so only the server's write path differs.
func benchWriteThroughput(b *testing.B, s *benchServer) {
	b.Helper()
	c, err := rawDial(s.ln.Addr().String(), "n="+strconv.Itoa(b.N))
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	defer c.Close()
	b.SetBytes(200)
	b.ResetTimer()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.CopyN(io.Discard, c, int64(b.N)*frameSize200); err != nil {
		b.Fatalf("drain: %v", err)
	}
	b.StopTimer()
}

func frameCount(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	return n
}

func BenchmarkLibWrite200(b *testing.B) {
	payload := make([]byte, 200)
	b.Run("gorilla", func(b *testing.B) {
		s := startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := gorillaBenchUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for i := frameCount(r); i > 0; i-- {
				if err := gorillaWrite(c, gws.BinaryMessage, payload); err != nil {
					return
				}
			}
			_, _, _ = c.NextReader() // until the client goes away
		})
		b.ReportAllocs()
		benchWriteThroughput(b, s)
	})
	b.Run("coder", func(b *testing.B) {
		s := startBenchServer(b, func(_ *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := cws.Accept(w, r, &cws.AcceptOptions{InsecureSkipVerify: true})
			if err != nil {
				return
			}
			defer c.CloseNow()
			for i := frameCount(r); i > 0; i-- {
				if err := coderWrite(c, cws.MessageBinary, payload); err != nil {
					return
				}
			}
			_, _, _ = c.Reader(context.Background())
		})
		b.ReportAllocs()
		benchWriteThroughput(b, s)
	})
}

// --- (c) heap, stack and goroutines per idle connection (1000 connections) ---

func BenchmarkLibIdle(b *testing.B) {
	b.Run("gorilla", func(b *testing.B) {
		s := startBenchServer(b, func(s *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := gorillaBenchUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			s.parked()
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		})
		benchIdle(b, s, "")
	})
	b.Run("coder", func(b *testing.B) {
		s := startBenchServer(b, func(s *benchServer, w http.ResponseWriter, r *http.Request) {
			c, err := cws.Accept(w, r, &cws.AcceptOptions{InsecureSkipVerify: true})
			if err != nil {
				return
			}
			defer c.CloseNow()
			s.parked()
			for {
				if _, _, err := c.Reader(context.Background()); err != nil {
					return
				}
			}
		})
		benchIdle(b, s, "")
	})
	// floor: net/http hijack with a hand-written 101 and a 1-byte blocking
	// read — what any library on net/http costs at least.
	b.Run("floor-nethttp-hijack", func(b *testing.B) {
		s := startBenchServer(b, func(s *benchServer, w http.ResponseWriter, r *http.Request) {
			nc, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer nc.Close()
			_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
			if brw.Flush() != nil {
				return
			}
			s.parked()
			one := make([]byte, 1)
			_, _ = nc.Read(one)
		})
		benchIdle(b, s, "")
	})
}
