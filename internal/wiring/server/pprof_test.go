package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDebugPprof: debug.enabled serves Go's profiles on the internal port
// only, under the default or a custom prefix; without it they are absent.
func TestDebugPprof(t *testing.T) {
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) (int, string) {
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name   string
		keys   map[string]any
		prefix string
		want   int
	}{
		{"off", map[string]any{}, "/debug/pprof", 404},
		{"default prefix", map[string]any{"debug": map[string]any{"enabled": true}}, "/debug/pprof", 200},
		{"custom prefix", map[string]any{"debug": map[string]any{"enabled": true, "handler_prefix": "/prof/"}}, "/prof", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := map[string]any{"internal_port": itoa(freePort(t))}
			for k, v := range tc.keys {
				keys[k] = v
			}
			srv := startServerWith(t, keys, Options{})
			in, ext := "http://"+srv.InternalAddr(), "http://"+srv.HTTPAddr()
			code, body := get(in + tc.prefix + "/goroutine?debug=1")
			if code != tc.want {
				t.Fatalf("goroutine profile: %d, want %d", code, tc.want)
			}
			if tc.want == 200 && !strings.Contains(body, "goroutine profile: total") {
				t.Fatalf("goroutine profile body: %.200q", body)
			}
			if code, _ := get(ext + tc.prefix + "/heap"); code != 404 {
				t.Fatalf("profile on the client-facing port: %d, want 404", code)
			}
		})
	}
}
