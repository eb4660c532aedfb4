package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/wstest"
)

// TestInternalPort: with internal_port set, the API, metrics and health
// leave the client-facing port for a listener of their own (and the API
// comes back with api_external); WebSocket stays on the main port.
func TestInternalPort(t *testing.T) {
	hc := &http.Client{Timeout: 5 * time.Second}
	status := func(method, url string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(`{}`))
		req.Header.Set("X-API-Key", "k")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name        string
		external    bool
		apiExternal int
		apiInternal int
	}{
		{"API internal", false, 404, 200},
		{"api_external", true, 200, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			srv := startServerWith(t, map[string]any{"internal_port": itoa(port), "prometheus": true, "api_external": tc.external}, Options{})
			ext, in := "http://"+srv.HTTPAddr(), "http://"+srv.InternalAddr()
			if srv.InternalAddr() == "" || !strings.HasSuffix(srv.InternalAddr(), ":"+itoa(port)) {
				t.Fatalf("internal listener %q, want port %d", srv.InternalAddr(), port)
			}
			for _, c := range []struct {
				method, url string
				want        int
			}{
				{"POST", ext + "/api/info", tc.apiExternal},
				{"POST", in + "/api/info", tc.apiInternal},
				{"GET", ext + "/health", 404},
				{"GET", in + "/health", 200},
				{"GET", ext + "/metrics", 404},
				{"GET", in + "/metrics", 200},
				{"GET", in + "/connection/websocket", 404},
			} {
				if got := status(c.method, c.url); got != c.want {
					t.Errorf("%s %s: %d, want %d", c.method, c.url, got, c.want)
				}
			}
			c := wstest.Dial(t, "ws://"+srv.HTTPAddr()+"/connection/websocket", wstest.Options{Format: wstest.JSON})
			if res := c.Connect(""); res.Client == "" {
				t.Fatalf("connect on the main port: %v", res)
			}
		})
	}
}

// TestInternalPortSameAsMain: an internal host:port equal to the main one
// is one listener, as in Centrifugo.
func TestInternalPortSameAsMain(t *testing.T) {
	port := freePort(t)
	srv := startServerWith(t, map[string]any{"port": port, "internal_port": port}, Options{})
	if srv.InternalAddr() != "" {
		t.Fatalf("a second listener on the main host:port: %s", srv.InternalAddr())
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + srv.HTTPAddr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/health on the shared listener: %d", resp.StatusCode)
	}
}
