package server

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/config"
)

// TestStartupErrorHidesRedisPassword: the start-up error names the Redis
// address that failed without the password in it (hardening defect 4).
func TestStartupErrorHidesRedisPassword(t *testing.T) {
	cfg, _, err := config.Load(config.LoadOptions{File: "config.json", Data: []byte(
		`{"engine":"redis","redis_address":"redis://:s3cret@127.0.0.1:1","redis_connect_timeout":"500ms","api_key":"k"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("a Redis engine nobody listens for started")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "redis://:xxxxx@127.0.0.1:1") {
		t.Fatalf("start-up error %q: want the address with its password hidden", err)
	}
}
