package app

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in, network, addr, err string
	}{
		{"tcp://127.0.0.1:30000", "tcp", "127.0.0.1:30000", ""},
		{"tcp://0.0.0.0:10001", "tcp", "0.0.0.0:10001", ""},
		{"127.0.0.1:0", "tcp", "127.0.0.1:0", ""},
		{":10001", "tcp", ":10001", ""},
		{"tcp://[::1]:9000", "tcp", "[::1]:9000", ""},
		{"unix:///tmp/app.sock", "unix", "/tmp/app.sock", ""},
		{"unix://rel.sock", "unix", "rel.sock", ""},
		{"unix://", "", "", "missing socket path"},
		{"grpc://127.0.0.1:1", "", "", "unsupported scheme"},
		{"127.0.0.1", "", "", "want host:port"},
		{"tcp://", "", "", "want host:port"},
	}
	for _, tt := range tests {
		network, addr, err := ParseAddress(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || network != tt.network || addr != tt.addr {
			t.Errorf("%q: got %q %q %v", tt.in, network, addr, err)
		}
	}
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "app")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestUnixSocketReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "p.sock")
	// Leave a stale socket file behind, as a killed process would.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	a, _ := fullApp(Options{})
	ln, err := Listen("unix://" + path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	serve(t, a, ln)

	// A live socket is not stolen.
	if _, err := Listen("unix://" + path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen: %v", err)
	}

	c := grpcClient(t, "unix://"+path)
	resp, err := c.Connect(ctxTimeout(t, 5*time.Second), &proxypb.ConnectRequest{Client: "u1"})
	if err != nil || resp.GetResult().GetUser() != "56" {
		t.Fatalf("gRPC over unix: %v %v", resp, err)
	}

	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	code, body := post(t, hc, "http://app/subscribe", `{"client":"u1","user":"7","channel":"news"}`, nil)
	if code != http.StatusOK || body != `{"result":{"info":{"user":"7"}}}` {
		t.Fatalf("HTTP over unix: %d %s", code, body)
	}
}

func TestListenRefusesNonSocketFile(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "plain")
	if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix://" + path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Fatal("regular file was touched")
	}
}

func TestGracefulStopFinishesInFlightCalls(t *testing.T) {
	a, _ := testApp(Options{})
	started := make(chan struct{})
	a.HandleRPC("slow", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return r.Answer([]byte(`"done"`)), nil
	})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	c := grpcClient(t, ln.Addr().String())
	got := make(chan *proxypb.RPCResponse, 1)
	go func() {
		resp, err := c.RPC(ctxTimeout(t, 5*time.Second), &proxypb.RPCRequest{Method: "slow"})
		if err != nil {
			t.Errorf("in-flight call failed: %v", err)
		}
		got <- resp
	}()
	<-started
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if resp := <-got; string(resp.GetResult().GetData()) != `"done"` {
		t.Fatalf("in-flight reply %v", resp)
	}
	if conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Fatal("still accepting after stop")
	}
}

func TestListenAndServeBadAddress(t *testing.T) {
	a, _ := testApp(Options{})
	if err := a.ListenAndServe(context.Background(), "ftp://x:1"); err == nil {
		t.Fatal("no error")
	}
}

func TestSlowSnifferDoesNotBlockOthers(t *testing.T) {
	a, _ := fullApp(Options{})
	addr := serveTCP(t, a)
	// A connection that sends nothing must not hold up the next one.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	code, _ := post(t, http.DefaultClient, "http://"+addr+"/connect", `{"client":"x"}`, nil)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
}
