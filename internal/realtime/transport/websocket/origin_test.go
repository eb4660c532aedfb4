package websocket

import (
	"net/http"
	"testing"

	gws "github.com/gorilla/websocket"
)

func TestOriginMatcher(t *testing.T) {
	wild := []string{"https://*.example.com"}
	tests := []struct {
		name    string
		allowed []string
		origin  string
		present bool
		want    bool
	}{
		{"no origin, empty list", nil, "", false, true},
		{"no origin, restrictive list", wild, "", false, true},
		{"origin, empty list", nil, "https://a.example.com", true, false},
		{"empty origin value, empty list", nil, "", true, false},
		{"star allows all", []string{"*"}, "http://evil.test:1234", true, true},
		{"wildcard subdomain", wild, "https://a.example.com", true, true},
		{"wildcard deep subdomain", wild, "https://a.b.example.com", true, true},
		{"scheme matters", wild, "http://a.example.com", true, false},
		{"bare domain not matched", wild, "https://example.com", true, false},
		{"port matters", wild, "https://a.example.com:8443", true, false},
		{"origin case-insensitive", wild, "HTTPS://A.Example.COM", true, true},
		{"pattern case-insensitive", []string{"https://*.EXAMPLE.com"}, "https://a.example.com", true, true},
		{"exact with port", []string{"http://localhost:3000"}, "http://localhost:3000", true, true},
		{"other port", []string{"http://localhost:3000"}, "http://localhost:3001", true, false},
		{"second pattern", []string{"http://localhost:3000", "https://app.test"}, "https://app.test", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewOriginMatcher(tt.allowed)
			if err != nil {
				t.Fatalf("NewOriginMatcher: %v", err)
			}
			if got := m.Allow(tt.origin, tt.present); got != tt.want {
				t.Fatalf("Allow(%q, %v) = %v, want %v", tt.origin, tt.present, got, tt.want)
			}
		})
	}
}

func TestOriginMatcherInvalidPattern(t *testing.T) {
	if _, err := NewOriginMatcher([]string{"https://[a.example.com"}); err == nil {
		t.Fatal("want error for an unclosed class")
	}
}

func TestHandlerOrigin(t *testing.T) {
	h := newHarness(t, Config{AllowedOrigins: []string{"https://*.example.com"}}, nil)
	tests := []struct {
		name    string
		origins []string
		want    int
	}{
		{"no origin", nil, http.StatusSwitchingProtocols},
		{"allowed", []string{"https://a.example.com"}, http.StatusSwitchingProtocols},
		{"refused", []string{"http://a.example.com"}, http.StatusForbidden},
		{"two origin headers", []string{"https://a.example.com", "https://evil.test"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			for _, o := range tt.origins {
				hdr.Add("Origin", o)
			}
			d := gws.Dialer{HandshakeTimeout: testTimeout}
			c, resp, err := d.Dial(h.url(""), hdr)
			if c != nil {
				defer c.Close()
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d (err %v)", resp.StatusCode, tt.want, err)
			}
			if tt.want == http.StatusSwitchingProtocols {
				h.accepted(t)
			}
		})
	}
}
