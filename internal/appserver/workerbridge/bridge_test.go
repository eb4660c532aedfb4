package workerbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// fakeExec records what the worker service sends and answers as told.
type fakeExec struct {
	mu    sync.Mutex
	got   []worker.Payload
	reply func(worker.Payload) (worker.Payload, error)
}

func (f *fakeExec) Exec(ctx context.Context, p worker.Payload) (worker.Payload, error) {
	f.mu.Lock()
	f.got = append(f.got, p)
	f.mu.Unlock()
	return f.reply(p)
}

func (f *fakeExec) last(t *testing.T) worker.Payload {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("worker got no request")
	}
	return f.got[len(f.got)-1]
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkerContextAndBody(t *testing.T) {
	hdr := http.Header{"X-Forwarded-For": {"1.2.3.4"}, "Type": {"evil"}, "User-Agent": {"a", "b"}}
	cases := []struct {
		name  string
		req   app.Request
		want  string
		reply app.Reply // of the type the reply must have
	}{
		{"connect", app.NewConnectRequest(&proxypb.ConnectRequest{Client: "c1", Name: "js", Data: []byte(`{"token":"t"}`)}, hdr), "connect", &proxypb.ConnectResponse{}},
		{"refresh", app.NewRefreshRequest(&proxypb.RefreshRequest{Client: "c1", User: "u"}, hdr), "refresh", &proxypb.RefreshResponse{}},
		{"subscribe", app.NewSubscribeRequest(&proxypb.SubscribeRequest{User: "u", Channel: "news"}, hdr), "subscribe", &proxypb.SubscribeResponse{}},
		{"publish", app.NewPublishRequest(&proxypb.PublishRequest{Channel: "news", Data: []byte(`{}`)}, hdr), "publish", &proxypb.PublishResponse{}},
		{"rpc", app.NewRPCRequest(&proxypb.RPCRequest{Method: "m", Data: []byte(`1`)}, hdr), "rpc", &proxypb.RPCResponse{}},
		{"sub_refresh", app.NewSubRefreshRequest(&proxypb.SubRefreshRequest{Channel: "news"}, hdr), "subrefresh", &proxypb.SubRefreshResponse{}},
		{"map_publish", app.NewMapPublishRequest(&proxypb.MapPublishRequest{User: "u", Channel: "seats", Key: "a1", Data: []byte(`{}`)}, hdr), "map_publish", &proxypb.MapPublishResponse{}},
		{"map_remove", app.NewMapRemoveRequest(&proxypb.MapRemoveRequest{User: "u", Channel: "seats", Key: "a1"}, hdr), "map_remove", &proxypb.MapRemoveResponse{}},
		{"shared_poll_refresh", app.NewSharedPollRefreshRequest(&proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 2}, {Key: "k2"}}}, hdr), "shared_poll_refresh", &proxypb.SharedPollRefreshResponse{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := &fakeExec{reply: func(worker.Payload) (worker.Payload, error) { return worker.Payload{}, nil }}
			rep, err := Handler(fx, nil)(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if rep.GetError() != nil || rep.GetDisconnect() != nil {
				t.Errorf("empty body should be an empty response, got %v", rep)
			}
			if fmt.Sprintf("%T", rep) != fmt.Sprintf("%T", tc.reply) {
				t.Errorf("reply %T does not fit %s, want %T", rep, tc.req.Type(), tc.reply)
			}
			p := fx.last(t)
			if p.Codec != frame.CodecProto {
				t.Errorf("codec %#x, want proto", p.Codec)
			}
			var ctx map[string][]string
			if err := json.Unmarshal(p.Context, &ctx); err != nil {
				t.Fatalf("context %q: %v", p.Context, err)
			}
			if got := ctx["type"]; len(got) != 1 || got[0] != tc.want {
				t.Errorf("type %q, want [%q] (set, not appended)", got, tc.want)
			}
			if got := ctx["x-forwarded-for"]; len(got) != 1 || got[0] != "1.2.3.4" {
				t.Errorf("x-forwarded-for %q (keys must be lower-case)", got)
			}
			if got := ctx["user-agent"]; len(got) != 2 {
				t.Errorf("user-agent %q, want both values", got)
			}
			if _, ok := ctx["X-Forwarded-For"]; ok {
				t.Error("canonical key leaked into the context")
			}
			if want := mustMarshal(t, tc.req.Proto()); string(p.Body) != string(want) {
				t.Errorf("body % x, want % x", p.Body, want)
			}
		})
	}
}

func TestWorkerReplies(t *testing.T) {
	cases := []struct {
		name    string
		reply   func(t *testing.T) (worker.Payload, error)
		check   func(t *testing.T, r *proxypb.ConnectResponse)
		wantLog []string
	}{
		{
			name: "result passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "42", Channels: []string{"a"}}})}, nil
			},
			check: func(t *testing.T, r *proxypb.ConnectResponse) {
				if r.GetResult().GetUser() != "42" || len(r.GetResult().GetChannels()) != 1 {
					t.Errorf("got %v", r)
				}
			},
		},
		{
			name: "application error passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.ConnectResponse{Error: &proxypb.Error{Code: 403, Message: "no"}})}, nil
			},
			check: func(t *testing.T, r *proxypb.ConnectResponse) {
				if r.GetError().GetCode() != 403 || r.GetError().GetTemporary() {
					t.Errorf("got %v", r)
				}
			},
		},
		{
			name: "disconnect passes through",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{Body: mustMarshal(t, &proxypb.ConnectResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "bye"}})}, nil
			},
			check: func(t *testing.T, r *proxypb.ConnectResponse) {
				if r.GetDisconnect().GetCode() != 4501 {
					t.Errorf("got %v", r)
				}
			},
		},
		{
			name: "worker error frame is 100 temporary, message logged",
			reply: func(t *testing.T) (worker.Payload, error) {
				return worker.Payload{}, fmt.Errorf("exec: %w", &worker.WorkerError{PID: 77, Message: "db down"})
			},
			check:   wantInternal,
			wantLog: []string{"error frame", "db down", "pid=77"},
		},
		{
			name:    "queue full is an internal error",
			reply:   func(*testing.T) (worker.Payload, error) { return worker.Payload{}, worker.ErrQueueFull },
			check:   wantInternal,
			wantLog: []string{"queue is full"},
		},
		{
			name:    "crash is an internal error",
			reply:   func(*testing.T) (worker.Payload, error) { return worker.Payload{}, worker.ErrWorkerCrashed },
			check:   wantInternal,
			wantLog: []string{"worker crashed"},
		},
		{
			name:    "reply that is not protobuf",
			reply:   func(*testing.T) (worker.Payload, error) { return worker.Payload{Body: []byte{0xff, 0xff}}, nil },
			check:   wantInternal,
			wantLog: []string{"decoding the worker's connect reply"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, lb := testApp(app.Options{})
			Use(a, &fakeExec{reply: func(worker.Payload) (worker.Payload, error) { return tc.reply(t) }})
			rep, err := a.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c1"})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, rep)
			if len(tc.wantLog) > 0 {
				lb.waitFor(t, tc.wantLog...)
			}
		})
	}
}

func wantInternal(t *testing.T, r *proxypb.ConnectResponse) {
	t.Helper()
	e := r.GetError()
	if e.GetCode() != app.CodeInternal || !e.GetTemporary() || e.GetMessage() != "internal server error" {
		t.Errorf("want error 100 temporary, got %v", r)
	}
}

func TestUseKeepsGoRPCMethods(t *testing.T) {
	a, _ := testApp(app.Options{})
	fx := &fakeExec{reply: func(worker.Payload) (worker.Payload, error) {
		return worker.Payload{Body: []byte{}}, nil
	}}
	a.HandleRPC("go", func(_ context.Context, r *app.RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte(`"go"`)), nil
	})
	Use(a, fx, app.TypeRPC)

	rep, err := a.RPC(context.Background(), &proxypb.RPCRequest{Method: "go"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rep.GetResult().GetData()); got != `"go"` {
		t.Errorf("Go method answered %q", got)
	}
	if len(fx.got) != 0 {
		t.Fatal("Go method went to the worker")
	}
	if _, err := a.RPC(context.Background(), &proxypb.RPCRequest{Method: "other"}); err != nil {
		t.Fatal(err)
	}
	if len(fx.got) != 1 {
		t.Fatalf("other method: worker got %d requests, want 1", len(fx.got))
	}
	// Types not given stay unserved.
	crep, _ := a.Connect(context.Background(), &proxypb.ConnectRequest{})
	if crep.GetError().GetCode() != app.CodeNotAvailable {
		t.Errorf("connect without workers: %v", crep)
	}
}

func TestWorkerGetsCallDeadline(t *testing.T) {
	a, _ := testApp(app.Options{Timeout: time.Hour})
	var got time.Time
	Use(a, execFunc(func(ctx context.Context, _ worker.Payload) (worker.Payload, error) {
		got, _ = ctx.Deadline()
		return worker.Payload{}, nil
	}))
	want := time.Now().Add(300 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), want)
	defer cancel()
	if _, err := a.Connect(ctx, &proxypb.ConnectRequest{}); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Errorf("worker deadline %v, want the call's %v", got, want)
	}
}

type execFunc func(ctx context.Context, p worker.Payload) (worker.Payload, error)

func (f execFunc) Exec(ctx context.Context, p worker.Payload) (worker.Payload, error) {
	return f(ctx, p)
}
