package proxy

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func benchConnectRequest() *proxypb.ConnectRequest {
	return &proxypb.ConnectRequest{
		Client: "9336a3e6-2ad4-4f7b-a5e2-0a4a29d9b3b1", Transport: "websocket", Protocol: "json", Encoding: "json",
		Name: "js", Version: "5.0.0", Data: []byte(`{"x":1}`),
	}
}

// BenchmarkProxyRoundTrip measures one Connect through our backends on
// loopback, next to bare grpc-go unary calls as the floor.
func BenchmarkProxyRoundTrip(b *testing.B) {
	ctx := clientheaders.With(context.Background(), http.Header{"Authorization": {"Bearer t"}, "Cookie": {"a=1"}})
	cfgHeaders := []string{"Authorization", "Cookie"}

	b.Run("grpc", func(b *testing.B) {
		addr, _ := startGRPC(b, &fakeApp{})
		be, err := New(&Config{Endpoint: "grpc://" + addr, Timeout: 5 * time.Second, HTTPHeaders: cfgHeaders}, Options{Metrics: NewMetrics(nil)})
		if err != nil {
			b.Fatal(err)
		}
		benchConnect(b, ctx, be)
	})
	b.Run("http", func(b *testing.B) {
		url, _ := startHTTP(b, &fakeApp{}, nil)
		be, err := New(&Config{Endpoint: url + "/connect", Timeout: 5 * time.Second, HTTPHeaders: cfgHeaders}, Options{Metrics: NewMetrics(nil)})
		if err != nil {
			b.Fatal(err)
		}
		benchConnect(b, ctx, be)
	})
	b.Run("floor-proxypb-client", func(b *testing.B) {
		addr, _ := startGRPC(b, &fakeApp{})
		conn := benchConn(b, addr)
		c := proxypb.NewCentrifugoProxyClient(conn)
		req := benchConnectRequest()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Connect(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor-proxypb-client-same-metadata-deadline", func(b *testing.B) {
		addr, _ := startGRPC(b, &fakeApp{})
		c := proxypb.NewCentrifugoProxyClient(benchConn(b, addr))
		req := benchConnectRequest()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cctx = metadata.AppendToOutgoingContext(cctx, "authorization", "Bearer t", "cookie", "a=1")
			if _, err := c.Connect(cctx, req); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
	b.Run("floor-grpc-health", func(b *testing.B) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := grpc.NewServer()
		healthpb.RegisterHealthServer(srv, health.NewServer())
		go func() { _ = srv.Serve(lis) }()
		b.Cleanup(srv.Stop)
		c := healthpb.NewHealthClient(benchConn(b, lis.Addr().String()))
		req := &healthpb.HealthCheckRequest{}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Check(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchConn(b *testing.B, addr string) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return conn
}

func benchConnect(b *testing.B, ctx context.Context, be *Client) {
	req := benchConnectRequest()
	if _, err := be.Connect(ctx, req); err != nil { // warm the connection
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := be.Connect(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.GetResult().GetUser() == "" {
			b.Fatal("empty answer")
		}
	}
}
