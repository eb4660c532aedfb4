package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/tlsconf"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestSetSharing(t *testing.T) {
	grpcAddr, _ := startGRPC(t, &fakeApp{})
	httpURL, _ := startHTTP(t, &fakeApp{}, nil)
	s := NewSet(Options{})

	connect := &Config{Name: "connect", Endpoint: "grpc://" + grpcAddr}
	rpc := &Config{Name: "rpc", Endpoint: grpcAddr, GRPCCompression: true} // same target, other call options
	tlsProxy := &Config{Name: "tls", Endpoint: grpcAddr, GRPCTLS: &tlsconf.Settings{}}
	tlsAlike := &Config{Name: "tls2", Endpoint: grpcAddr, GRPCTLS: &tlsconf.Settings{}}
	h1 := &Config{Name: "h1", Endpoint: httpURL + "/connect"}
	h2 := &Config{Name: "h2", Endpoint: httpURL + "/rpc"}

	get := func(cfg *Config) *Client {
		t.Helper()
		b, err := s.Get(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, again := get(connect), get(connect)
	if a != again {
		t.Error("same *Config gave two backends")
	}
	r := get(rpc)
	if r == a {
		t.Error("different proxies share one backend")
	}
	if a.t.(*grpcTransport).conn != r.t.(*grpcTransport).conn {
		t.Error("proxies with the same target and TLS settings do not share a connection")
	}
	if get(tlsProxy).t.(*grpcTransport).conn == a.t.(*grpcTransport).conn {
		t.Error("TLS and plaintext proxies share a connection")
	}
	if get(tlsProxy).t.(*grpcTransport).conn != get(tlsAlike).t.(*grpcTransport).conn {
		t.Error("proxies with equal TLS settings do not share a connection")
	}
	hTLS := &Config{Name: "h3", Endpoint: httpURL + "/rpc", HTTPTLS: &tlsconf.Settings{ServerName: "x"}}
	if get(hTLS).t.(*httpTransport).client.Transport == get(h1).t.(*httpTransport).client.Transport {
		t.Error("HTTP proxies with other TLS settings share a connection pool")
	}
	if get(h1).t.(*httpTransport).client.Transport != get(h2).t.(*httpTransport).client.Transport {
		t.Error("HTTP proxies do not share the connection pool")
	}
	// Closing a shared backend must not close the Set's connection.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := r.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"}); err != nil || resp.GetResult().GetUser() != "u-c" {
		t.Fatalf("after closing a sibling: %v, %v", resp, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"}); err == nil {
		t.Error("gRPC backend still works after Set.Close")
	}
	if _, err := s.Get(&Config{Endpoint: grpcAddr}); err == nil {
		t.Error("Get after Close: want error")
	}
}

func TestSetFailureNotRemembered(t *testing.T) {
	s := NewSet(Options{})
	defer s.Close()
	cfg := &Config{Endpoint: "ws://x:1"}
	if _, err := s.Get(cfg); err == nil {
		t.Fatal("want error")
	}
	cfg.Endpoint = "127.0.0.1:1"
	if _, err := s.Get(cfg); err != nil {
		t.Fatalf("retry after fixing the config: %v", err)
	}
	if _, err := s.Get(&Config{Name: "bad", Endpoint: "127.0.0.1:2", GRPCTLS: &tlsconf.Settings{CA: []byte("x")}}); err == nil || !strings.Contains(err.Error(), "proxy_grpc:bad") {
		t.Fatalf("unusable CA: %v, want an error naming proxy_grpc:bad", err)
	}
}
