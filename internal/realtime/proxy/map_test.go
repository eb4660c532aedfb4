package proxy

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestMapEventsFailLikeTheOthers: a map proxy that is down or too slow
// fails the call with the event and endpoint named, so the node answers
// the client's write with a temporary internal error.
func TestMapEventsFailLikeTheOthers(t *testing.T) {
	down := closedPort(t)
	for proto, ep := range map[string]string{"grpc": "grpc://" + down, "http": "http://" + down + "/map_publish"} {
		t.Run(proto+"/down", func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: 2 * time.Second}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: "c", Channel: "m:x", Key: "k"})
			if err == nil || !strings.Contains(err.Error(), "proxy map_publish "+ep+":") {
				t.Fatalf("error %v does not name event and endpoint", err)
			}
			_, err = b.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c", Channel: "m:x", Key: "k"})
			if err == nil || !strings.Contains(err.Error(), "proxy map_remove "+ep+":") {
				t.Fatalf("error %v does not name event and endpoint", err)
			}
		})
	}
	for proto, ep := range endpoints(t, &fakeApp{delay: 3 * time.Second}) {
		t.Run(proto+"/slow", func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: 100 * time.Millisecond}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = b.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c"})
			if err == nil || time.Since(start) > time.Second {
				t.Fatalf("error %v after %v, want a timeout after 100ms", err, time.Since(start))
			}
			var te interface{ Timeout() bool }
			if !strings.Contains(err.Error(), "proxy map_remove") || !errors.As(err, &te) || !te.Timeout() {
				t.Fatalf("error %q is not a named timeout", err)
			}
		})
	}
}

// TestMapEventsOnAnOlderBackend: a CentrifugoProxy server that predates the
// map methods (the RoadRunner plugin's schema) answers Unimplemented; the
// call fails, it is not mistaken for an empty, allowing answer.
func TestMapEventsOnAnOlderBackend(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	proxypb.RegisterCentrifugoProxyServer(srv, proxypb.UnimplementedCentrifugoProxyServer{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	b, err := New(&Config{Endpoint: "grpc://" + lis.Addr().String(), Timeout: 2 * time.Second}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: "c"})
	if status.Code(err) != codes.Unimplemented || resp != nil {
		t.Fatalf("got %v, %v; want an Unimplemented error", resp, err)
	}
}
