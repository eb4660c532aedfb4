package appserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// Without server.command the app still serves the proxy protocol and
// answers every event with error 108, and the probes say it is up.
func TestServeWithoutWorkersAnswersNotAvailable(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "p.sock")
	status := freeAddr(t)
	cfg := loadConfig(t, dir, "version: '3'\ncentrifuge:\n  proxy_address: unix://"+sock+"\nstatus:\n  address: "+status+"\n")
	s := serve(t, cfg)

	if resp := connect(t, "unix://"+sock, "go"); resp.GetError().GetCode() != 108 {
		t.Fatalf("reply %v, want error 108", resp)
	}
	r, err := http.Get("http://" + status + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), "the app server is up") {
		t.Errorf("/health %d %s", r.StatusCode, body)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestServeRunsOnce(t *testing.T) {
	dir := shortDir(t)
	cfg := loadConfig(t, dir, "centrifuge:\n  proxy_address: unix://"+filepath.Join(dir, "p.sock")+"\n")
	srv, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Serve(ctx); err != nil {
		t.Fatalf("first Serve on an ended context: %v", err)
	}
	if err := srv.Serve(context.Background()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("second Serve: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close after Serve: %v", err)
	}
}

// A proxy address another process listens on fails Serve with the
// address in the message, and stops what it had started.
func TestServeReportsBusyProxyAddress(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "p.sock")
	first := serve(t, loadConfig(t, dir, "centrifuge:\n  proxy_address: unix://"+sock+"\n"))
	connect(t, "unix://"+sock, "go") // the first app is up

	cfg := loadConfig(t, dir, "centrifuge:\n  proxy_address: unix://"+sock+"\n")
	err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "unix://"+sock) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second app on a live socket: %v", err)
	}
	if resp := connect(t, "unix://"+sock, "go"); resp.GetError().GetCode() != 108 {
		t.Fatalf("first app lost its socket: %v", resp)
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
}
