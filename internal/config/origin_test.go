package config

import (
	"strings"
	"testing"
)

func TestOriginFix(t *testing.T) {
	tests := []struct {
		in, fix string
		ok      bool
	}{
		{"https://example.com", "https://example.com", true},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"https://*.example.com", "https://*.example.com", true},
		{"*", "*", true},
		{"https://*.example.com/", "https://*.example.com", false},
		{"http://localhost:3000/app", "http://localhost:3000", false},
		{"example.com", "https://example.com", false},
		{"*.example.com:8443/x", "https://*.example.com:8443", false},
	}
	for _, tc := range tests {
		fix, ok := originFix(tc.in)
		if fix != tc.fix || ok != tc.ok {
			t.Errorf("originFix(%q) = %q, %v; want %q, %v", tc.in, fix, ok, tc.fix, tc.ok)
		}
	}
}

// TestOriginPatternsNoBrowserMatches (hardening defect 9): checkconfig says
// which allowed_origins entries refuse every browser, and how to fix them.
func TestOriginPatternsNoBrowserMatches(t *testing.T) {
	_, warns, err := Load(LoadOptions{File: "c.json", Data: []byte(`{"api_key":"k","allowed_origins":["https://*.example.com/","example.com","http://localhost:3000/app","https://ok.example.com"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		`entry "https://*.example.com/" can never match: a browser's Origin is scheme://host[:port] with no path; use "https://*.example.com"`:    false,
		`entry "example.com" can never match: a browser's Origin is scheme://host[:port] with no path; use "https://example.com"`:                 false,
		`entry "http://localhost:3000/app" can never match: a browser's Origin is scheme://host[:port] with no path; use "http://localhost:3000"`: false,
	}
	for _, w := range warns {
		if _, ok := want[w.Msg]; ok && w.Key == "allowed_origins" {
			want[w.Msg] = true
		}
		if w.Key == "allowed_origins" && w.Msg != "" && strings.Contains(w.Msg, "ok.example.com") {
			t.Errorf("a good origin was warned about: %s", w.Msg)
		}
	}
	for msg, seen := range want {
		if !seen {
			t.Errorf("missing warning: %s (got %v)", msg, warns)
		}
	}
}
