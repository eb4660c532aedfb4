package config

import (
	"errors"
	"testing"
)

// FuzzLoad feeds arbitrary documents through the whole pipeline: any
// input must give a config or an *Errors, never a panic.
func FuzzLoad(f *testing.F) {
	seeds := []struct{ name, data string }{
		{"c.json", `{"port": 1, "namespaces": [{"name": "ab", "history_size": 1, "history_ttl": "1s"}]}`},
		{"c.json", `{"proxies": [{"name": "pp", "endpoint": "grpc://a:1", "http": {"status_to_code_transforms": [{"status_code": 404, "to_error": {"code": 1}}]}}], "granular_proxy_mode": true, "connect_proxy_name": "pp"}`},
		{"c.json", `{"client": {"proxy": {"connect": {"enabled": true}}}, "rpc_namespaces": [{"name": "xx", "proxy_enabled": true}]}`},
		{"c.yaml", "port: 1\nnamespaces:\n  - name: ab\n    presence: true\n"},
		{"c.yaml", "a: &x [1]\nb: *x\n"},
		{"c.toml", "port = 1\n[[namespaces]]\nname = \"ab\"\n"},
	}
	for _, s := range seeds {
		f.Add(s.name, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		switch name {
		case "c.json", "c.yaml", "c.toml":
		default:
			name = "c.json"
		}
		cfg, _, err := load(LoadOptions{File: name}, data, nil)
		if err != nil {
			var es *Errors
			if !errors.As(err, &es) || len(es.List) == 0 || cfg != nil {
				t.Fatalf("bad failure shape: %T %v", err, err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
