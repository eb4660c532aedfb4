package apiclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/internal/realtime/api"
	"github.com/spindle-rt/spindle/proto/apipb"
)

func TestDial(t *testing.T) {
	n := newNode(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	api.RegisterGRPC(gs, api.NewExecutor(n, api.ExecutorOptions{Logger: discard}), api.GRPCConfig{Key: key, Logger: discard})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	tests := []struct {
		name     string
		cfg      DialConfig
		wantCode codes.Code
	}{
		{"key and tcp prefix", DialConfig{Address: "tcp://" + lis.Addr().String(), Key: key, Compress: true}, codes.OK},
		{"wrong key", DialConfig{Address: lis.Addr().String(), Key: "nope"}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, conn, err := Dial(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = c.Publish(context.Background(), &apipb.PublishRequest{Channel: "news", Data: []byte(`{}`)})
			if got := status.Code(errors.Unwrap(err)); err != nil && got != tt.wantCode || err == nil && tt.wantCode != codes.OK {
				t.Fatalf("publish error = %v, want code %v", err, tt.wantCode)
			}
		})
	}
}

func TestDialTimeoutBoundsCallsWithoutDeadline(t *testing.T) {
	// A listener that accepts TCP but never speaks HTTP/2: without a
	// default deadline the call would wait forever.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	c, conn, err := Dial(DialConfig{Address: lis.Addr().String(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, err = c.Info(context.Background(), &apipb.InfoRequest{})
	if err == nil {
		t.Fatal("call to a silent server succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("call took %v, want it bounded by the 200ms default timeout", took)
	}
}

func TestDialRejectsEmptyAddress(t *testing.T) {
	if _, _, err := Dial(DialConfig{}); err == nil {
		t.Fatal("Dial with no address succeeded")
	}
}
