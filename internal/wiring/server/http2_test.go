package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/node"
)

// openStream starts an SSE or HTTP-streaming connection and returns the
// response's HTTP major version and the first reply line.
func openStream(hc *http.Client, base, kind string) (int, string, func(), error) {
	connect := `{"id":1,"connect":{}}`
	var req *http.Request
	if kind == "sse" {
		req, _ = http.NewRequest("GET", base+"/connection/sse?cf_connect="+url.QueryEscape(connect), nil)
	} else {
		req, _ = http.NewRequest("POST", base+"/connection/http_stream", strings.NewReader(connect))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(lines.Text()), "data: ")
		if line != "" {
			return resp.ProtoMajor, line, func() { resp.Body.Close() }, nil
		}
	}
	resp.Body.Close()
	return 0, "", nil, fmt.Errorf("%s stream ended before a reply: %v", kind, lines.Err())
}

// streamsOnOneConnection opens n streams of each kind at once through a
// client allowed a single connection to the server: over HTTP/1.1 the
// second would wait for the first to end; over HTTP/2 all share it.
func streamsOnOneConnection(t *testing.T, hc *http.Client, base string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	var closers sync.Map
	for i := range 2 * n {
		kind := []string{"sse", "http_stream"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			proto, reply, closeFn, err := openStream(hc, base, kind)
			if err != nil {
				errs <- err
				return
			}
			closers.Store(i, closeFn)
			if proto != 2 || !strings.Contains(reply, `"connect":{"client"`) {
				errs <- fmt.Errorf("%s: HTTP/%d, first reply %s", kind, proto, reply)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("streams did not all open: they are not multiplexed on one connection")
	}
	closers.Range(func(_, v any) bool { v.(func())(); return true })
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// With TLS the main port offers h2, so SSE and HTTP-streaming are
// multiplexed on one connection (a browser's six-connections-per-host limit
// no longer starves a seventh tab); WebSockets keep HTTP/1.1 (TestTLS).
func TestStreamsOverHTTP2WithTLS(t *testing.T) {
	ca := newTestCA(t, "h2 test CA")
	certPEM, keyPEM := ca.issue(t, false)
	srv := startServerWith(t, map[string]any{
		"tls": true, "tls_cert": string(certPEM), "tls_key": string(keyPEM),
		"sse": true, "http_stream": true, "client_insecure": true,
	}, Options{})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, ca, nil, nil), ForceAttemptHTTP2: true, MaxConnsPerHost: 1}}
	streamsOnOneConnection(t, hc, "https://"+srv.HTTPAddr(), 4)
}

// http_server.h2c_external serves HTTP/2 with prior knowledge on the main
// port, for a proxy in front that terminates TLS and speaks h2 onwards.
func TestStreamsOverH2C(t *testing.T) {
	srv := startServerWith(t, map[string]any{
		"http_server": map[string]any{"h2c_external": true, "internal_port": strconv.Itoa(freePort(t))},
		"sse":         true, "http_stream": true, "client_insecure": true,
	}, Options{})
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: p, MaxConnsPerHost: 1}}
	streamsOnOneConnection(t, hc, "http://"+srv.HTTPAddr(), 4)

	// HTTP/1.1 keeps working on the same port (WebSocket upgrades need it).
	resp, err := http.Post("http://"+srv.HTTPAddr()+"/emulation", "application/json", strings.NewReader(`{`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 || resp.StatusCode != 400 {
		t.Fatalf("HTTP/1.1 on the h2c port: HTTP/%d %d", resp.ProtoMajor, resp.StatusCode)
	}
}

// The server's read and write timeouts bound ordinary requests; a live
// stream outlives them (each write has its own deadline instead).
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	short := HTTPTimeouts{ReadHeader: 300 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 300 * time.Millisecond}
	srv := startServerWith(t, map[string]any{"sse": true, "http_stream": true, "client_insecure": true}, Options{Timeouts: short})
	for _, kind := range []string{"sse", "http_stream"} {
		t.Run(kind, func(t *testing.T) {
			connect := `{"id":1,"connect":{}}`
			var resp *http.Response
			var err error
			if kind == "sse" {
				resp, err = http.Get("http://" + srv.HTTPAddr() + "/connection/sse?cf_connect=" + url.QueryEscape(connect))
			} else {
				resp, err = http.Post("http://"+srv.HTTPAddr()+"/connection/http_stream", "application/json", strings.NewReader(connect))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			lines := bufio.NewScanner(resp.Body)
			next := func() string {
				for lines.Scan() {
					if l := strings.TrimPrefix(strings.TrimSpace(lines.Text()), "data: "); l != "" {
						return l
					}
				}
				t.Fatalf("stream ended: %v", lines.Err())
				return ""
			}
			var reply struct {
				Connect struct{ Session, Node string }
			}
			if err := json.Unmarshal([]byte(next()), &reply); err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(map[string]string{"node": reply.Connect.Node, "session": reply.Connect.Session, "data": `{"id":2,"subscribe":{"channel":"news"}}`})
			er, err := http.Post("http://"+srv.HTTPAddr()+"/emulation", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			er.Body.Close()
			if l := next(); !strings.Contains(l, `"id":2`) {
				t.Fatalf("subscribe reply %s", l)
			}
			time.Sleep(1500 * time.Millisecond) // five times the read and write timeouts
			if _, err := srv.Node.Publish(t.Context(), "news", []byte(`{"late":true}`), node.PublishOptions{}); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() {
				if strings.Contains(lines.Text(), `"late":true`) {
					return
				}
			}
			t.Fatalf("stream ended before the late publication: %v", lines.Err())
		})
	}
}
