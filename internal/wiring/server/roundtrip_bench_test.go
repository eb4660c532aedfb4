package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/realtime/proxy"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// benchApp answers every event the cheapest way, so the benchmark
// measures the hop, not the service.
func benchApp() *app.App {
	a := app.New(app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a.HandleConnect(func(_ context.Context, r *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
		return r.Allow("42"), nil
	})
	a.HandleRefresh(func(_ context.Context, r *app.RefreshRequest) (*proxypb.RefreshResponse, error) {
		return r.Extend(time.Now().Add(time.Hour).Unix()), nil
	})
	a.HandleSubscribe(func(_ context.Context, r *app.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return r.Allow(), nil
	})
	a.HandlePublish(func(_ context.Context, r *app.PublishRequest) (*proxypb.PublishResponse, error) {
		return r.Allow(), nil
	})
	a.HandleRPC("echo", func(_ context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) { return r.Answer(r.Data), nil })
	a.HandleSubRefresh(func(_ context.Context, r *app.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
		return r.Extend(time.Now().Add(time.Hour).Unix()), nil
	})
	return a
}

// BenchmarkProxyRoundTrip is the full server→app→server hop of each
// proxied event: the server's proxy client (package proxy) calling a real
// app over loopback, gRPC and HTTP, next to a bare grpc-go unary call
// (the health service) as the floor, all in one run.
func BenchmarkProxyRoundTrip(b *testing.B) {
	ln, err := app.Listen("tcp://127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = benchApp().Serve(ctx, ln) }()
	addr := ln.Addr().String()

	data := []byte(`{"token":"abc"}`)
	events := []struct {
		name string
		call func(context.Context, node.Backend) error
	}{
		{"connect", func(ctx context.Context, p node.Backend) error {
			_, err := p.Connect(ctx, &proxypb.ConnectRequest{Client: "c1", Transport: "websocket", Protocol: "json", Encoding: "json", Name: "js", Data: data})
			return err
		}},
		{"refresh", func(ctx context.Context, p node.Backend) error {
			_, err := p.Refresh(ctx, &proxypb.RefreshRequest{Client: "c1", User: "42"})
			return err
		}},
		{"subscribe", func(ctx context.Context, p node.Backend) error {
			_, err := p.Subscribe(ctx, &proxypb.SubscribeRequest{Client: "c1", User: "42", Channel: "chat:1", Data: data})
			return err
		}},
		{"publish", func(ctx context.Context, p node.Backend) error {
			_, err := p.Publish(ctx, &proxypb.PublishRequest{Client: "c1", User: "42", Channel: "chat:1", Data: data})
			return err
		}},
		{"rpc", func(ctx context.Context, p node.Backend) error {
			_, err := p.RPC(ctx, &proxypb.RPCRequest{Client: "c1", User: "42", Method: "echo", Data: data})
			return err
		}},
		{"sub_refresh", func(ctx context.Context, p node.Backend) error {
			_, err := p.SubRefresh(ctx, &proxypb.SubRefreshRequest{Client: "c1", User: "42", Channel: "chat:1"})
			return err
		}},
	}
	for _, transport := range []struct{ name, endpoint string }{
		{"grpc", "grpc://" + addr},
		// Centrifugo's HTTP proxies have one URL per event.
		{"http", "http://" + addr + "/centrifugo/"},
	} {
		for _, ev := range events {
			endpoint := transport.endpoint
			if transport.name == "http" {
				endpoint += ev.name
			}
			backend, err := proxy.New(&proxy.Config{Name: "bench", Endpoint: endpoint, Timeout: 5 * time.Second}, proxy.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(transport.name+"/"+ev.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := ev.call(ctx, backend); err != nil {
						b.Fatal(err)
					}
				}
			})
			_ = backend.Close()
		}
	}

	b.Run("floor/grpc-health", func(b *testing.B) {
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		gs := grpc.NewServer()
		healthpb.RegisterHealthServer(gs, health.NewServer())
		go func() { _ = gs.Serve(hl) }()
		defer gs.Stop()
		cc, err := grpc.NewClient(hl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Close()
		hc := healthpb.NewHealthClient(cc)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
