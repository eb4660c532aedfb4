package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// benchClient is a subscribed client of one transport whose reader counts
// the publications it gets.
type benchClient interface{ close() }

type wsBench struct{ c *benchConn }

func (w wsBench) close() { _ = w.c.ws.Close() }

type streamBench struct{ resp *http.Response }

func (s streamBench) close() { s.resp.Body.Close() }

// openBenchClient connects with transport, subscribes to ch and starts a
// reader adding every publication to received.
func openBenchClient(tb testing.TB, addr, transport, ch string, received *atomic.Int64) benchClient {
	tb.Helper()
	if transport == "websocket" {
		c := benchDial(tb, addr)
		c.connectSubscribe(tb, ch)
		go func() {
			for {
				_, data, err := c.ws.ReadMessage()
				if err != nil {
					return
				}
				received.Add(int64(strings.Count(string(data), `"pub":`)))
			}
		}()
		return wsBench{c}
	}
	connect := `{"id":1,"connect":{}}`
	var resp *http.Response
	var err error
	if transport == "sse" {
		resp, err = http.Get("http://" + addr + "/connection/sse?cf_connect=" + url.QueryEscape(connect))
	} else {
		resp, err = http.Post("http://"+addr+"/connection/http_stream", "application/json", strings.NewReader(connect))
	}
	if err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	readLine := func() string {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				tb.Fatalf("%s stream: %v", transport, err)
			}
			if line = strings.TrimPrefix(strings.TrimSpace(line), "data: "); line != "" {
				return line
			}
		}
	}
	var reply struct {
		Connect struct{ Session, Node string } `json:"connect"`
	}
	if err := json.Unmarshal([]byte(readLine()), &reply); err != nil {
		tb.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"node": reply.Connect.Node, "session": reply.Connect.Session, "data": `{"id":2,"subscribe":{"channel":"` + ch + `"}}`})
	er, err := http.Post("http://"+addr+"/emulation", "application/json", strings.NewReader(string(body)))
	if err != nil {
		tb.Fatal(err)
	}
	er.Body.Close()
	if !strings.Contains(readLine(), `"id":2`) {
		tb.Fatal("no subscribe reply")
	}
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, `"pub":`) {
				received.Add(1)
			}
		}
	}()
	return streamBench{resp}
}

// BenchmarkTransports compares WebSocket, HTTP-streaming and SSE
// connections on the same server: the cost of one delivery to one
// subscriber (ns/delivery, reading clients included, all on loopback in
// this process) and what an idle subscribed connection holds (heap and
// stacks of both ends, goroutines of both ends).
func BenchmarkTransports(b *testing.B) {
	const n = 500
	for _, transport := range []string{"websocket", "http_stream", "sse"} {
		b.Run(transport, func(b *testing.B) {
			srv := startServer(b, map[string]any{"http_stream": true, "sse": true})
			http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = n
			var received atomic.Int64
			goroutines, heap := runtime.NumGoroutine(), heapInUse()
			clients := make([]benchClient, n)
			for i := range clients {
				clients[i] = openBenchClient(b, srv.HTTPAddr(), transport, "news", &received)
			}
			heapPer := float64(heapInUse()-heap) / n
			goroutinesPer := float64(runtime.NumGoroutine()-goroutines) / n
			defer func() {
				for _, c := range clients {
					c.close()
				}
			}()
			data := []byte(`{"text":"hello, subscribers"}`)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				want := int64(i+1) * n
				if _, err := srv.Node.Publish(context.Background(), "news", data, node.PublishOptions{}); err != nil {
					b.Fatal(err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for received.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("only %d of %d delivered", received.Load(), want)
					}
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*n), "ns/delivery")
			b.ReportMetric(heapPer, "idle-bytes/conn")
			b.ReportMetric(goroutinesPer, "goroutines/conn")
		})
	}
}
