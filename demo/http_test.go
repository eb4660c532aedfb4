package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPageAssets(t *testing.T) {
	d, _, _, _ := newTestApp(t)
	h := d.Handler()
	cases := []struct {
		path, ctype, contains string
		status                int
	}{
		{"/", "text/html", `src="/app.js"`, 200},
		{"/index.html", "text/html", `href="/app.css"`, 200},
		{"/app.js", "javascript", "Centrifuge", 200},
		{"/app.css", "text/css", ".seat", 200},
		{"/favicon.svg", "image/svg+xml", "<svg", 200},
		{"/web/index.html", "", "", 404},
		{"/go.mod", "", "", 404},
		{"/demo/", "", "", 404},
	}
	for _, tc := range cases {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", tc.path, nil))
		if rr.Code != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, rr.Code, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if ct := rr.Header().Get("Content-Type"); !strings.Contains(ct, tc.ctype) {
			t.Errorf("GET %s content-type %q, want %q", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(rr.Body.String(), tc.contains) {
			t.Errorf("GET %s lacks %q", tc.path, tc.contains)
		}
		if rr.Header().Get("Content-Security-Policy") == "" || rr.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s lacks security headers", tc.path)
		}
	}
}

func TestLogin(t *testing.T) {
	d, _, _, _ := newTestApp(t)
	h := d.Handler()
	cases := []struct {
		name, ctype, body string
		status            int
	}{
		{"ok", "application/json", `{"name":"Ada Lovelace"}`, 200},
		{"charset ok", "application/json; charset=utf-8", `{"name":"Bo"}`, 200},
		{"form post refused", "application/x-www-form-urlencoded", `name=Ada`, 415},
		{"no content type", "", `{"name":"Ada"}`, 415},
		{"bad json", "application/json", `{"name":`, 400},
		{"bad name", "application/json", `{"name":"!!"}`, 400},
		{"too big", "application/json", `{"name":"` + strings.Repeat("a", 2000) + `"}`, 400},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("POST", "/demo/login", strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		if rr.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rr.Code, tc.status, rr.Body)
			continue
		}
		if tc.status != 200 {
			continue
		}
		var reply LoginReply
		if err := json.Unmarshal(rr.Body.Bytes(), &reply); err != nil {
			t.Fatal(err)
		}
		s, err := d.Tokens.Verify(reply.Token)
		if err != nil || s.User != reply.User || s.Name != reply.Name {
			t.Errorf("%s: token does not verify to the reply: %+v %v", tc.name, s, err)
		}
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", "/demo/login", nil))
	if rr.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /demo/login = %d, want 405", rr.Code)
	}
}

func TestConfigEndpoint(t *testing.T) {
	d, err := New(Options{WebSocketURL: "ws://127.0.0.1:8000/connection/websocket"})
	if err != nil {
		t.Fatal(err)
	}
	rr := httptest.NewRecorder()
	d.Handler().ServeHTTP(rr, httptest.NewRequest("GET", "/demo/config", nil))
	var cfg map[string]string
	if err := json.Unmarshal(rr.Body.Bytes(), &cfg); err != nil || cfg["websocket"] != "ws://127.0.0.1:8000/connection/websocket" {
		t.Fatalf("config = %s (%v)", rr.Body, err)
	}
}
