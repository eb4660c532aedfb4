package worker

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A unix relay path left by a crashed app is reused, but one a running
// pool still listens on is refused: deleting it would send that pool's
// restarted workers to this one.
func TestRelaySocketStaleVersusLive(t *testing.T) {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "r.sock")
	log := slog.New(slog.DiscardHandler)
	kind := relayKind{network: "unix", address: path}

	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = stale.Close()

	live, err := listenRelay(kind, time.Second, 1<<20, log)
	if err != nil {
		t.Fatalf("relay over a stale socket: %v", err)
	}
	defer live.close()

	_, err = listenRelay(kind, time.Second, 1<<20, log)
	if err == nil || !strings.Contains(err.Error(), "server.relay: listen unix://"+path) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second relay on a live socket: %v", err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("live relay lost its socket: %v", err)
	}
	_ = c.Close()
}
