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

// pollRequest is a poll of two keys, one with a version the server has.
func pollRequest() *proxypb.SharedPollRefreshRequest {
	return &proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 2}, {Key: "k2"}}}
}

// TestSharedPollRefreshOnWorkers: Use with no types hands shared-poll
// refreshes to the workers too, as "shared_poll_refresh" with the protobuf
// request as body, and maps the worker's answers and failures exactly as
// for the other events; the logs name the channel, since a poll has no
// client.
func TestSharedPollRefreshOnWorkers(t *testing.T) {
	internal := &proxypb.Error{Code: app.CodeInternal, Message: "internal server error", Temporary: true}
	result := &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Epoch: "e7", Items: []*proxypb.SharedPollRefreshResultItem{
		{Key: "k1", Data: []byte(`{"n":3}`), Version: 3, PrevData: []byte(`{"n":2}`)},
		{Key: "k2", Removed: true},
	}}}
	cases := []struct {
		name    string
		reply   func(t *testing.T) (worker.Payload, error)
		want    proto.Message
		wantLog []string
	}{
		{
			name:  "result passes through",
			reply: func(t *testing.T) (worker.Payload, error) { return worker.Payload{Body: mustMarshal(t, result)}, nil },
			want:  result,
		},
		{
			name: "error passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "store down"}})}, nil
			},
			want: &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "store down"}},
		},
		{
			name:  "empty body is an empty answer: nothing changed",
			reply: func(*testing.T) (worker.Payload, error) { return worker.Payload{}, nil },
			want:  &proxypb.SharedPollRefreshResponse{},
		},
		{
			name: "worker error frame is 100 temporary, message logged",
			reply: func(*testing.T) (worker.Payload, error) {
				return worker.Payload{}, fmt.Errorf("exec: %w", &worker.WorkerError{PID: 78, Message: "unknown request type shared_poll_refresh"})
			},
			want:    &proxypb.SharedPollRefreshResponse{Error: internal},
			wantLog: []string{"error frame", "unknown request type shared_poll_refresh", "type=shared_poll_refresh", "channel=poll:x", "pid=78"},
		},
		{
			name:    "reply that is not protobuf",
			reply:   func(*testing.T) (worker.Payload, error) { return worker.Payload{Body: []byte{0xff, 0xff}}, nil },
			want:    &proxypb.SharedPollRefreshResponse{Error: internal},
			wantLog: []string{"decoding the worker's shared_poll_refresh reply", "SharedPollRefreshResponse", "channel=poll:x"},
		},
		{
			name:    "pool failure",
			reply:   func(*testing.T) (worker.Payload, error) { return worker.Payload{}, fmt.Errorf("no free worker") },
			want:    &proxypb.SharedPollRefreshResponse{Error: internal},
			wantLog: []string{"service failed", "workers: shared_poll_refresh: no free worker", "channel=poll:x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, lb := testApp(app.Options{})
			fx := &fakeExec{reply: func(worker.Payload) (worker.Payload, error) { return tc.reply(t) }}
			Use(a, fx)
			got, err := a.SharedPollRefresh(context.Background(), pollRequest())
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			p := fx.last(t)
			var ctx map[string][]string
			if err := json.Unmarshal(p.Context, &ctx); err != nil {
				t.Fatal(err)
			}
			if typ := ctx["type"]; len(typ) != 1 || typ[0] != "shared_poll_refresh" {
				t.Fatalf("context type %v, want [shared_poll_refresh]", typ)
			}
			if want := mustMarshal(t, pollRequest()); string(p.Body) != string(want) {
				t.Fatalf("body % x, want % x", p.Body, want)
			}
			if len(tc.wantLog) > 0 {
				lb.waitFor(t, tc.wantLog...)
			}
		})
	}
}

// TestSharedPollRefreshOnANodeWorker drives a poll through the App's gRPC
// service to a real Node worker process, which decodes the repeated items
// and answers per key; a forged "type" metadata key does not re-route it.
func TestSharedPollRefreshOnANodeWorker(t *testing.T) {
	a, _ := testApp(app.Options{})
	Use(a, proxyWorkerPool(t, "pipes", 1, nil))
	c := grpcClient(t, serveTCP(t, a))
	ctx := metadata.AppendToOutgoingContext(ctxTimeout(t, 5*time.Second), "type", "forged")

	got, err := c.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{
		{Key: "k1", Version: 2}, {Key: "k2"}, {Key: "gone-3", Version: 9},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Epoch: "w-poll:x", Items: []*proxypb.SharedPollRefreshResultItem{
		{Key: "k1", Data: []byte(`{"key":"k1","was":2}`), Version: 3},
		{Key: "k2", Data: []byte(`{"key":"k2","was":0}`), Version: 1},
		{Key: "gone-3", Removed: true},
	}}}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	down, err := c.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{Channel: "poll:down", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "store down"}}); !proto.Equal(down, want) {
		t.Fatalf("poll:down: %v, want %v", down, want)
	}
}
