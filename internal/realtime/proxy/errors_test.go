package proxy

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/tlsconf"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// endpoints starts a gRPC and an HTTP fake app with the same behaviour
// and returns their connect endpoints by protocol.
func endpoints(t *testing.T, app *fakeApp) map[string]string {
	grpcAddr, _ := startGRPC(t, app)
	httpURL, _ := startHTTP(t, app, nil)
	return map[string]string{"grpc": "grpc://" + grpcAddr, "http": httpURL + "/connect"}
}

func TestTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for proto, ep := range endpoints(t, &fakeApp{delay: 3 * time.Second}) {
		t.Run(proto, func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: timeout}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("want timeout error")
			}
			if elapsed < timeout || elapsed > timeout+400*time.Millisecond {
				t.Errorf("returned after %v, want about %v", elapsed, timeout)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %q is not context.DeadlineExceeded", err)
			}
			var te interface{ Timeout() bool }
			if !errors.As(err, &te) || !te.Timeout() {
				t.Errorf("error %q does not report Timeout()", err)
			}
			if !strings.Contains(err.Error(), "proxy connect "+ep) {
				t.Errorf("error %q does not name event and endpoint", err)
			}
		})
	}
}

func TestCallerDeadlineAndCancel(t *testing.T) {
	for proto, ep := range endpoints(t, &fakeApp{delay: 3 * time.Second}) {
		t.Run(proto, func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: 5 * time.Second}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// An earlier deadline on the caller's context wins.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = b.Connect(ctx, &proxypb.ConnectRequest{Client: "c"})
			if elapsed := time.Since(start); err == nil || elapsed > time.Second {
				t.Fatalf("err %v after %v, want a timeout after ~100ms", err, elapsed)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %q is not context.DeadlineExceeded", err)
			}
			// Cancellation (client went away) is told apart from a timeout.
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			_, err = b.Connect(ctx, &proxypb.ConnectRequest{Client: "c"})
			if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func TestBackendDown(t *testing.T) {
	addr := closedPort(t)
	for _, ep := range []string{"grpc://" + addr, addr, "http://" + addr + "/connect"} {
		t.Run(ep, func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: 2 * time.Second}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"})
			if err == nil {
				t.Fatal("want error")
			}
			if !strings.Contains(err.Error(), "proxy connect "+ep+":") {
				t.Errorf("error %q does not name event and endpoint", err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("refused connection reported as timeout: %v", err)
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v; a refused connection should fail fast", elapsed)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  *Config
	}{
		{"nil", nil},
		{"empty endpoint", &Config{}},
		{"unknown scheme", &Config{Endpoint: "ws://127.0.0.1:80"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := New(tc.cfg, Options{}); err == nil {
				t.Fatalf("want error, got %T", b)
			}
		})
	}
}

func TestProtocolOf(t *testing.T) {
	tests := []struct {
		ep, want string
		err      bool
	}{
		{"grpc://127.0.0.1:10001", "grpc", false},
		{"GRPC://app:10001", "grpc", false},
		{"app:10001", "grpc", false},
		{"[::1]:10001", "grpc", false},
		{"http://app/centrifugo/connect", "http", false},
		{"HTTPS://app/connect", "http", false},
		{"tcp://app:1", "", true},
		{"", "", true},
	}
	for _, tc := range tests {
		got, err := protocolOf(tc.ep)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("protocolOf(%q) = %q, %v; want %q, error %v", tc.ep, got, err, tc.want, tc.err)
		}
	}
}

func TestGRPCDialKey(t *testing.T) {
	tests := []struct {
		cfg  Config
		want dialKey
	}{
		{Config{Endpoint: "grpc://app:1"}, dialKey{target: "dns:///app:1"}},
		{Config{Endpoint: "Grpc://app:1", GRPCTLS: &tlsconf.Settings{}}, dialKey{target: "dns:///app:1", tls: tlsKey(&tlsconf.Settings{})}},
		{Config{Endpoint: "app:1", GRPCTLS: &tlsconf.Settings{CA: []byte("ca")}}, dialKey{target: "dns:///app:1", tls: tlsKey(&tlsconf.Settings{CA: []byte("ca")})}},
	}
	for _, tc := range tests {
		if got := grpcDialKey(&tc.cfg); got != tc.want {
			t.Errorf("grpcDialKey(%+v) = %+v, want %+v", tc.cfg, got, tc.want)
		}
	}
}

func TestAllowList(t *testing.T) {
	got, dropped := allowList([]string{" Authorization ", "authorization", "Connection", "", "x-b", "Bad Name"}, isToken)
	want := []allowedName{{"Authorization", "authorization"}, {"X-B", "x-b"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("allowList = %v, want %v", got, want)
	}
	if strings.Join(dropped, ",") != "Connection,Bad Name" {
		t.Errorf("dropped = %v", dropped)
	}
}
