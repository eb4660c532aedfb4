package workerbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestMapEventsOnWorkers: Use with no types hands the map events to the
// workers too, with our type names in the context, and maps the worker's
// answers and failures exactly as for the other events.
func TestMapEventsOnWorkers(t *testing.T) {
	cases := []struct {
		name    string
		reply   func(t *testing.T) (worker.Payload, error)
		call    func(a *app.App) (app.Reply, error)
		want    proto.Message
		wantLog []string
	}{
		{
			name: "map_publish result passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{
					Key: "a2", Data: []byte(`{"w":1}`), Tags: map[string]string{"t": "1"}, KeyMode: "if_new", Version: 2,
				}})}, nil
			},
			call: func(a *app.App) (app.Reply, error) {
				return a.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: "c1", Channel: "seats", Key: "a1"})
			},
			want: &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{
				Key: "a2", Data: []byte(`{"w":1}`), Tags: map[string]string{"t": "1"}, KeyMode: "if_new", Version: 2,
			}},
		},
		{
			name: "map_remove error passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1403, Message: "kept"}})}, nil
			},
			call: func(a *app.App) (app.Reply, error) {
				return a.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c1", Channel: "seats", Key: "a1"})
			},
			want: &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1403, Message: "kept"}},
		},
		{
			name: "map_remove disconnect passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.MapRemoveResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "bye"}})}, nil
			},
			call: func(a *app.App) (app.Reply, error) {
				return a.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c1"})
			},
			want: &proxypb.MapRemoveResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "bye"}},
		},
		{
			name: "worker error frame is 100 temporary, message logged",
			reply: func(*testing.T) (worker.Payload, error) {
				return worker.Payload{}, fmt.Errorf("exec: %w", &worker.WorkerError{PID: 78, Message: "unknown request type map_publish"})
			},
			call: func(a *app.App) (app.Reply, error) {
				return a.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: "c1"})
			},
			want:    &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: app.CodeInternal, Message: "internal server error", Temporary: true}},
			wantLog: []string{"error frame", "unknown request type map_publish", "type=map_publish", "pid=78"},
		},
		{
			name:  "reply that is not protobuf",
			reply: func(*testing.T) (worker.Payload, error) { return worker.Payload{Body: []byte{0xff, 0xff}}, nil },
			call: func(a *app.App) (app.Reply, error) {
				return a.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: "c1"})
			},
			want:    &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: app.CodeInternal, Message: "internal server error", Temporary: true}},
			wantLog: []string{"decoding the worker's map_remove reply", "MapRemoveResponse"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, lb := testApp(app.Options{})
			fx := &fakeExec{reply: func(worker.Payload) (worker.Payload, error) { return tc.reply(t) }}
			Use(a, fx)
			got, err := tc.call(a)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var ctx map[string][]string
			if err := json.Unmarshal(fx.last(t).Context, &ctx); err != nil {
				t.Fatal(err)
			}
			if typ := ctx["type"]; len(typ) != 1 || typ[0] != wantType(got) {
				t.Fatalf("context type %v, want [%s]", typ, wantType(got))
			}
			if len(tc.wantLog) > 0 {
				lb.waitFor(t, tc.wantLog...)
			}
		})
	}
}

// wantType is the context "type" a worker gets for the event r answers.
func wantType(r app.Reply) string {
	switch r.(type) {
	case *proxypb.MapPublishResponse:
		return "map_publish"
	case *proxypb.MapRemoveResponse:
		return "map_remove"
	}
	return "?"
}

// TestMapEventsOnANodeWorker drives the two map events through the App's
// gRPC service to a real Node worker process.
func TestMapEventsOnANodeWorker(t *testing.T) {
	a, _ := testApp(app.Options{})
	Use(a, proxyWorkerPool(t, "pipes", 1, nil))
	c := grpcClient(t, serveTCP(t, a))
	ctx := metadata.AppendToOutgoingContext(ctxTimeout(t, 5*time.Second), "type", "forged")

	pub, err := c.MapPublish(ctx, &proxypb.MapPublishRequest{Client: "c1", User: "u1", Channel: "seats", Key: "a1", Data: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{Key: "w-a1", Data: []byte(`{"n":1}`)}}); !proto.Equal(pub, want) {
		t.Fatalf("map_publish: %v, want %v", pub, want)
	}
	rem, err := c.MapRemove(ctx, &proxypb.MapRemoveRequest{Client: "c1", User: "u1", Channel: "seats", Key: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1403, Message: "kept a1"}}); !proto.Equal(rem, want) {
		t.Fatalf("map_remove: %v, want %v", rem, want)
	}
}
