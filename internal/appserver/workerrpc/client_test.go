package workerrpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/proto/apipb"
)

func TestClient(t *testing.T) {
	pool := &fakePool{}
	addr := start(t, Options{API: &fakeAPI{}, Pool: pool})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "tcp://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := c.Reset(ctx); err != nil || pool.resets != 1 {
		t.Fatalf("reset: %v (resets %d)", err, pool.resets)
	}
	ws, err := c.Workers(ctx)
	if err != nil || len(ws) != 1 || ws[0].PID != 4242 {
		t.Fatalf("workers: %v %v", ws, err)
	}
	arg, _ := proto.Marshal(&apipb.PublishRequest{Channel: "c"})
	out, err := c.Call(ctx, "centrifuge.Publish", frame.CodecProto, arg)
	var resp apipb.PublishResponse
	if err != nil || proto.Unmarshal(out, &resp) != nil || resp.GetResult().GetOffset() != 7 {
		t.Fatalf("publish: %v %v", &resp, err)
	}
	_, err = c.Call(ctx, "centrifuge.Missing", frame.CodecProto, nil)
	var ce *CallError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "can't find method") {
		t.Fatalf("got %v", err)
	}
	// The connection survives an error answer.
	pool.err = errors.New("boom")
	if err := c.Reset(ctx); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

func TestClientDialError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := Dial(ctx, "unix://"+t.TempDir()+"/none.sock"); err == nil || !strings.Contains(err.Error(), "worker RPC endpoint") {
		t.Fatalf("got %v", err)
	}
}
