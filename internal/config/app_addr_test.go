package config

import (
	"strings"
	"testing"
)

// The app-side address keys share rraddr's syntax; these cases pin what
// config adds on top (host names, dial-only rules) and the messages a
// user reads.
func TestAppAddresses(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) error
		in   string
		err  string // substring; "" means valid
	}{
		{"proxy bare", func(s string) error { return checkListenDSN(s, true) }, "127.0.0.1:10001", ""},
		{"proxy any interface", func(s string) error { return checkListenDSN(s, true) }, ":0", ""},
		{"proxy unix", func(s string) error { return checkListenDSN(s, true) }, "unix:///run/app.sock", ""},
		{"proxy ipv6", func(s string) error { return checkListenDSN(s, true) }, "tcp://[::1]:1", ""},
		{"proxy mistyped ip", func(s string) error { return checkListenDSN(s, true) }, "tcp://127.0.0.1c:1", `host "127.0.0.1c"`},
		{"proxy scheme", func(s string) error { return checkListenDSN(s, true) }, "grpc://127.0.0.1:1", "unsupported scheme"},
		{"proxy port", func(s string) error { return checkListenDSN(s, true) }, "tcp://127.0.0.1:70000", "0-65535"},
		{"rpc bare", func(s string) error { return checkListenDSN(s, false) }, "0.0.0.0:6001", "write it as tcp://host:port"},
		{"rpc unix", func(s string) error { return checkListenDSN(s, false) }, "unix://", "missing socket path"},
		{"relay pipes", checkRelay, "pipes", ""},
		{"relay tcp", checkRelay, "tcp://127.0.0.1:7000", ""},
		{"relay stdin", checkRelay, "stdin", `must be "pipes"`},
		{"api", func(s string) error { _, err := normalizeAPIAddress(s); return err }, "tcp://centrifugo:10000", ""},
		{"api no port", func(s string) error { _, err := normalizeAPIAddress(s); return err }, "tcp://centrifugo", "want host:port"},
		{"api port 0", func(s string) error { _, err := normalizeAPIAddress(s); return err }, "127.0.0.1:0", "out of range 1-65535"},
		{"api no host", func(s string) error { _, err := normalizeAPIAddress(s); return err }, ":10000", "missing host"},
		{"api unix", func(s string) error { _, err := normalizeAPIAddress(s); return err }, "unix:///x.sock", "a tcp:// prefix is allowed"},
	}
	for _, tt := range tests {
		err := tt.fn(tt.in)
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s %q: %v", tt.name, tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s %q: error %v, want %q", tt.name, tt.in, err, tt.err)
		}
	}
	if addr, err := normalizeAPIAddress("tcp://127.0.0.1:10000"); err != nil || addr != "127.0.0.1:10000" {
		t.Errorf("normalize: %q %v", addr, err)
	}
}
