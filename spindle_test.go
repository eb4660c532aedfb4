package spindle

import (
	"strings"
	"testing"
)

// TestNewRefusesBadConfig: an embedder sees the same errors `spindle
// checkconfig` prints, naming the key and the line, before anything listens.
func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"typo in a key", "app.json", "{\n  \"prot\": 8000\n}", `app.json:2`},
		{"bad value", "app.yaml", "port: many\n", "port"},
		{"port out of range", "app.json", `{"grpc_api": true, "grpc_api_port": -1}`, "grpc_api_port"},
		{"missing file", "/nonexistent/spindle.json", "", "cannot read config file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{ConfigFile: tc.file}
			if tc.data != "" {
				o.Config = []byte(tc.data)
			}
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
