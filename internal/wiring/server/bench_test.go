package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// benchConn is a raw client connection for benchmarks: JSON, with an
// optional reader that counts publications.
type benchConn struct {
	ws *gws.Conn
}

func benchDial(tb testing.TB, addr string) *benchConn {
	tb.Helper()
	ws, _, err := gws.DefaultDialer.Dial("ws://"+addr+"/connection/websocket", nil)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	return &benchConn{ws: ws}
}

// connectSubscribe connects anonymously and subscribes to ch, waiting for
// both replies.
func (c *benchConn) connectSubscribe(tb testing.TB, ch string) {
	tb.Helper()
	msg := `{"id":1,"connect":{}}` + "\n" + `{"id":2,"subscribe":{"channel":"` + ch + `"}}`
	if err := c.ws.WriteMessage(gws.TextMessage, []byte(msg)); err != nil {
		tb.Fatal(err)
	}
	got := 0
	for got < 2 {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			tb.Fatalf("read: %v", err)
		}
		got += strings.Count(string(data), `"id":`)
	}
	_ = c.ws.SetReadDeadline(time.Time{})
}

// BenchmarkBroadcast measures one API publish delivered to every
// subscriber of a channel over real WebSocket connections on loopback
// (client-side reading included). ns/subscriber is the figure that
// matters: the cost of one more subscriber.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			srv := startServer(b, nil)
			var received atomic.Int64
			conns := make([]*benchConn, n)
			for i := range conns {
				c := benchDial(b, srv.HTTPAddr())
				c.connectSubscribe(b, "news")
				conns[i] = c
				go func() {
					for {
						_, data, err := c.ws.ReadMessage()
						if err != nil {
							return
						}
						received.Add(int64(strings.Count(string(data), `"pub":`)))
					}
				}()
			}
			defer func() {
				for _, c := range conns {
					_ = c.ws.Close()
				}
			}()
			data := []byte(`{"text":"hello, subscribers"}`)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				want := int64(i+1) * int64(n)
				if _, err := srv.Node.Publish(ctx, "news", data, node.PublishOptions{}); err != nil {
					b.Fatal(err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for received.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("only %d of %d publications delivered", received.Load(), want)
					}
					runtime.Gosched()
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*n), "ns/subscriber")
		})
	}
}

// BenchmarkIdleConnection measures what an idle, connected and subscribed
// client costs the server: goroutines (counted by their stacks) and heap.
// bytes/conn counts both ends of each loopback connection (client and
// server live in this process); bareWSBytes/conn is the same for a bare
// gorilla echo server, so the difference is what Spindle itself adds.
func BenchmarkIdleConnection(b *testing.B) {
	const n = 1000
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		srv := startServer(b, nil)
		before := heapInUse()
		conns := make([]*benchConn, n)
		for j := range conns {
			conns[j] = benchDial(b, srv.HTTPAddr())
			conns[j].connectSubscribe(b, "news")
		}
		// Writers end within two sweeps of their last write; wait for
		// them so only what an idle connection keeps is counted.
		serverGoroutines := 0
		for try := 0; try < 400; try++ {
			serverGoroutines = countGoroutines("/realtime/node.", "/realtime/transport/websocket.")
			if serverGoroutines <= n {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		after := heapInUse()

		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := (&gws.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}))
		clientBefore := heapInUse()
		bareConns := make([]*gws.Conn, n)
		for j := range bareConns {
			ws, _, err := gws.DefaultDialer.Dial("ws"+strings.TrimPrefix(bare.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			bareConns[j] = ws
		}
		clientAfter := heapInUse()

		b.ReportMetric(float64(serverGoroutines)/n, "goroutines/conn")
		b.ReportMetric(float64(after-before)/n, "bytes/conn")
		b.ReportMetric(float64(clientAfter-clientBefore)/n, "bareWSBytes/conn")
		for _, c := range conns {
			_ = c.ws.Close()
		}
		for _, c := range bareConns {
			_ = c.Close()
		}
		bare.Close()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// countGoroutines counts goroutines whose stack mentions any of the
// given function-name fragments.
func countGoroutines(fragments ...string) int {
	var sb strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&sb, 2)
	count := 0
	for _, g := range strings.Split(sb.String(), "\n\n") {
		for _, f := range fragments {
			if strings.Contains(g, f) {
				count++
				break
			}
		}
	}
	return count
}
