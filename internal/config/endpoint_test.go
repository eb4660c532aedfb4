package config

import (
	"strings"
	"testing"
)

func TestValidateEndpoint(t *testing.T) {
	tests := []struct {
		ep   string
		want string // "" = valid, else a substring of the error
	}{
		{"grpc://127.0.0.1:10001", ""},
		{"127.0.0.1:10001", ""},
		{"grpc://app:10001", ""},
		{"grpc://my_app.internal:10001", ""},
		{"grpc://[::1]:10001", ""},
		{"grpc://127.0.0.1.nip.io:10001", ""},
		{"http://localhost:3000/centrifugo/connect", ""},
		{"https://api.example.com/connect", ""},
		{"HTTP://APP/x", ""},
		{"grpc://127.0.0.1c:10001", `host "127.0.0.1c" is neither an IP address nor a valid host name`},
		{"grpc://10.0.0.256:1", "neither an IP address"},
		{"grpc://app:0", "out of range"},
		{"grpc://app:65536", "out of range"},
		{"grpc://app:http", `port "http" is not a number`},
		{"grpc://app", "missing port"},
		{"grpc://:10001", "missing host"},
		{"grpc://app:1/path", "no path"},
		{"tcp://app:1", `unsupported scheme "tcp"`},
		{"http://", "missing host"},
		{"http://bad host/", "invalid endpoint"},
		{"http://-app-:80", "not a valid host name"},
		{"grpc://app..x:1", "not a valid host name"},
		{" grpc://app:1", "whitespace"},
		{"grpc://[::1:1", "want host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.ep, func(t *testing.T) {
			err := validateEndpoint(tt.ep)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateRedisAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"redis://127.0.0.1:6379": true, "rediss://user:pw@redis:6380/2": true, "unix:///tmp/r.sock": true,
		"redis:6379": true, "redis://127.0.0.1c:6379": false, "redis": false, "http://x:1": false, "unix://": false,
	} {
		if err := validateRedisAddress(addr); (err == nil) != ok {
			t.Errorf("%s: err=%v, want ok=%v", addr, err, ok)
		}
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"proxy_connect_endpoint", "proxy_connect_timeout", "allowed_origins", "port", "rpc_proxy_name"}
	for in, want := range map[string]string{
		"proxy_conect_endpoint": "proxy_connect_endpoint",
		"Allowed-Origins":       "allowed_origins",
		"prot":                  "port",
		"rpc_proxy":             "rpc_proxy_name",
		"completely_different":  "",
		"port":                  "",
	} {
		if got := suggest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
