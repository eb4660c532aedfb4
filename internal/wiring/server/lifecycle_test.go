package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/testlog"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// serve runs srv until the returned cancel is called; done delivers what
// Serve returned.
func serve(t testing.TB, srv *Server) (cancel func(), done <-chan error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- srv.Serve(ctx) }()
	t.Cleanup(stop)
	return stop, ch
}

func healthStatus(t *testing.T, srv *Server) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + srv.HTTPAddr() + "/health")
	if err != nil {
		t.Fatalf("GET /health: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestGracefulShutdown: when the drain starts, connected clients get 3001
// (reconnect advised), /health answers 503 and a WebSocket opened meanwhile
// is closed with 3001, until the listener closes.
func TestGracefulShutdown(t *testing.T) {
	srv := newTestServer(t, nil, Options{}, nil)
	drained, release := make(chan struct{}), make(chan struct{})
	srv.beforeClose = func(context.Context) { close(drained); <-release }
	stop, done := serve(t, srv)
	if got := healthStatus(t, srv); got != http.StatusOK {
		t.Fatalf("/health before shutdown: %d", got)
	}
	c := dial(t, srv, wstest.JSON)
	c.Connect("")
	stop()
	if got := c.CloseCode(); got != 3001 {
		t.Fatalf("connected client closed with %d, want 3001", got)
	}
	<-drained
	if got := healthStatus(t, srv); got != http.StatusServiceUnavailable {
		t.Fatalf("/health while draining: %d, want 503", got)
	}
	// Upgraded and closed at once: no command is needed (sending one could
	// race the close).
	late := dial(t, srv, wstest.JSON)
	if got := late.CloseCode(); got != 3001 {
		t.Fatalf("connection opened while draining closed with %d, want 3001", got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Serve after a drain in time: %v", err)
	}
	if _, err := http.Get("http://" + srv.HTTPAddr() + "/health"); err == nil {
		t.Fatal("/health still answers after shutdown")
	}
}

// TestShutdownTimeout: a drain that outlasts shutdown_timeout makes Serve
// return ErrShutdownTimeout (the process exits non-zero) without waiting
// for it, and the log says so.
func TestShutdownTimeout(t *testing.T) {
	var logs testlog.Buffer
	srv := newTestServer(t, map[string]any{"shutdown_timeout": "300ms"}, Options{}, &logs)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.beforeClose = func(context.Context) { <-release } // something holds the drain
	stop, done := serve(t, srv)
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, ErrShutdownTimeout) {
			t.Fatalf("Serve: %v, want ErrShutdownTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown_timeout")
	}
	logs.WaitFor(t, "shutdown timeout reached", "shutdown_timeout=300ms")
}

// TestReload: what Centrifugo applies at run time takes effect for the
// next connection, each changed key is logged by name (never its value),
// and a key that needs a restart is said to.
func TestReload(t *testing.T) {
	const newSecret = "rotated-secret-key-of-enough-length"
	var logs testlog.Buffer
	base := map[string]any{"allow_anonymous_connect_without_token": false}
	srv := newTestServer(t, base, Options{}, &logs)
	serve(t, srv)
	oldTok, err := auth.GenerateConnectToken(testSecret, "42", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	newTok, err := auth.GenerateConnectToken(newSecret, "42", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	dial(t, srv, wstest.JSON).Connect(oldTok)

	changed := map[string]any{
		"allow_anonymous_connect_without_token": false,
		"token_hmac_secret_key":                 newSecret,
		"client_user_connection_limit":          1,
		"port":                                  1, // a listener: needs a restart
	}
	if err := srv.Reload(testConfig(t, changed)); err != nil {
		t.Fatal(err)
	}
	refused := dial(t, srv, wstest.JSON)
	refused.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: oldTok}})
	if got := refused.CloseCode(); got != 3500 {
		t.Fatalf("old token after reload: close %d, want 3500", got)
	}
	fresh := dial(t, srv, wstest.JSON)
	fresh.Send(&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: newTok}})
	// User 42 is connected once already and the limit is now 1.
	if got := fresh.CloseCode(); got != 3504 {
		t.Fatalf("new token over the reloaded user limit: close %d, want 3504", got)
	}
	out := logs.WaitFor(t,
		`msg="config reload: applied" key=token_hmac_secret_key`,
		`msg="config reload: applied" key=client_user_connection_limit`,
		`msg="config reload: changed, needs a restart to take effect" key=port`)
	if strings.Contains(out, newSecret) {
		t.Fatal("the reload logged the secret")
	}
	if srv.HTTPAddr() == "" || !strings.HasPrefix(srv.HTTPAddr(), "127.0.0.1:") || strings.HasSuffix(srv.HTTPAddr(), ":1") {
		t.Fatalf("listener moved: %s", srv.HTTPAddr())
	}
}

// TestReloadConnectionLimit: client_connection_limit is read per request,
// so lowering it refuses the next connection with 503 and raising it lets
// one in, without a restart.
func TestReloadConnectionLimit(t *testing.T) {
	srv := startServer(t, nil)
	url := "ws://" + srv.HTTPAddr() + "/connection/websocket"
	wstest.Dial(t, url, wstest.Options{Format: wstest.JSON}).Connect("")
	if err := srv.Reload(testConfig(t, map[string]any{"client_connection_limit": 1})); err != nil {
		t.Fatal(err)
	}
	if got := dialStatus(t, url); got != http.StatusServiceUnavailable {
		t.Fatalf("over the reloaded limit: HTTP %d, want 503", got)
	}
	if err := srv.Reload(testConfig(t, map[string]any{"client_connection_limit": 0})); err != nil {
		t.Fatal(err)
	}
	if got := dialStatus(t, url); got != http.StatusSwitchingProtocols {
		t.Fatalf("limit lifted: HTTP %d", got)
	}
}

// A configuration the node refuses is not applied at all.
func TestReloadRefusesBadConfig(t *testing.T) {
	srv := startServer(t, nil)
	bad := testConfig(t, nil)
	bad.Channel.Namespaces[0].ChannelRegex = "(" // validation would refuse this; the node must too
	if err := srv.Reload(bad); err == nil {
		t.Fatal("bad config accepted")
	}
	c := dial(t, srv, wstest.JSON)
	c.Connect("")
	if r := c.Call(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "chat:x"}}); r.Error != nil {
		t.Fatalf("old config lost: %v", r.Error)
	}
}
