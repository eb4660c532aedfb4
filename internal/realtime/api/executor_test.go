package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// stubNode records what the executor asks for and fails with err.
type stubNode struct {
	mu  sync.Mutex
	err error

	subUser, subCh string
	subOpts        node.SubscribeOptions
	disc           *node.Disconnect
	discWhitelist  []string
	published      []string

	mapKey     string
	mapData    []byte
	mapPubOpts node.MapPublishOptions
	mapIdem    string
	mapState   node.MapReadStateOptions
	mapSince   *engine.StreamPosition
	mapLimit   int
	mapReverse bool
	mapPubs    []*engine.Publication
	mapKeys    int
}

func (s *stubNode) Publish(_ context.Context, ch string, _ []byte, _ node.PublishOptions) (engine.StreamPosition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, ch)
	return engine.StreamPosition{Offset: 7, Epoch: "e"}, s.err
}

func (s *stubNode) Subscribe(_ context.Context, user, ch string, o node.SubscribeOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subUser, s.subCh, s.subOpts = user, ch, o
	return s.err
}

func (s *stubNode) Unsubscribe(context.Context, string, string, string, string) error { return s.err }

func (s *stubNode) Disconnect(_ context.Context, _ string, d *node.Disconnect, _ string, wl []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disc, s.discWhitelist = d, wl
	return s.err
}

func (s *stubNode) Refresh(context.Context, string, string, bool, int64, []byte) error { return s.err }

func (s *stubNode) Presence(context.Context, string) (map[string]*engine.ClientInfo, error) {
	return map[string]*engine.ClientInfo{"c1": {User: "u", Client: "c1", ConnInfo: []byte(`{"a":1}`)}, "nil": nil}, s.err
}

func (s *stubNode) PresenceStats(context.Context, string) (engine.PresenceStats, error) {
	return engine.PresenceStats{NumClients: 3, NumUsers: 2}, s.err
}

func (s *stubNode) History(context.Context, string, *engine.StreamPosition, int, bool) ([]*engine.Publication, engine.StreamPosition, error) {
	return nil, engine.StreamPosition{}, s.err
}

func (s *stubNode) HistoryRemove(context.Context, string) error { return s.err }

func (s *stubNode) Channels(context.Context, string) (map[string]int, error) {
	return map[string]int{"a": 2}, s.err
}

func (s *stubNode) Info(context.Context) ([]node.NodeInfo, error) {
	return []node.NodeInfo{{UID: "id", Name: "n", NumClients: -1, Uptime: math.MaxInt64}}, s.err
}

func (s *stubNode) MapPublish(_ context.Context, _, key string, data []byte, o node.MapPublishOptions) (engine.MapResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mapKey, s.mapData, s.mapPubOpts = key, data, o
	return engine.MapResult{Position: engine.StreamPosition{Offset: 4, Epoch: "e"}, Suppressed: true, SuppressReason: "version"}, s.err
}

func (s *stubNode) MapRemove(_ context.Context, _, key, idem string) (engine.MapResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mapKey, s.mapIdem = key, idem
	return engine.MapResult{Position: engine.StreamPosition{Offset: 5, Epoch: "e"}}, s.err
}

func (s *stubNode) MapReadState(_ context.Context, _ string, o node.MapReadStateOptions) (engine.MapState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mapState = o
	return engine.MapState{Entries: s.mapPubs, Position: engine.StreamPosition{Offset: 6, Epoch: "e"}, Cursor: "c"}, s.err
}

func (s *stubNode) MapReadStream(_ context.Context, _ string, since *engine.StreamPosition, limit int, reverse bool) ([]*engine.Publication, engine.StreamPosition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mapSince, s.mapLimit, s.mapReverse = since, limit, reverse
	return s.mapPubs, engine.StreamPosition{Offset: 7, Epoch: "e"}, s.err
}

func (s *stubNode) MapStats(context.Context, string) (int, error) { return s.mapKeys, s.err }

func (s *stubNode) MapClear(context.Context, string) error { return s.err }
func (s *stubNode) SharedPollPublish(context.Context, string, string, []byte, uint64, string) error {
	return s.err
}

func TestToAPIError(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		code     uint32
		msg      string
		internal bool
	}{
		{"node error keeps code and message", node.ErrorUnknownChannel, 102, "unknown channel", false},
		{"wrapped node error", fmt.Errorf("ctx: %w", node.ErrorNotAvailable), 108, "not available", false},
		{"104 uses the API wording", node.ErrorMethodNotFound, 104, "not found", false},
		{"unrecoverable", node.ErrorUnrecoverablePosition, 112, "unrecoverable position", false},
		{"plain error is internal", errors.New("redis down"), 100, "internal server error", true},
		{"context error is internal", context.DeadlineExceeded, 100, "internal server error", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, internal := toAPIError(tc.err)
			if e.GetCode() != tc.code || e.GetMessage() != tc.msg || internal != tc.internal {
				t.Fatalf("got %v internal=%v", e, internal)
			}
		})
	}
}

func TestTransportStatusMapping(t *testing.T) {
	cases := []struct {
		code uint32
		http int
		grpc codes.Code
	}{
		{100, http.StatusInternalServerError, codes.Internal},
		{102, http.StatusNotFound, codes.NotFound},
		{104, http.StatusNotFound, codes.NotFound},
		{107, http.StatusBadRequest, codes.InvalidArgument},
		{108, http.StatusBadRequest, codes.InvalidArgument},
		{112, http.StatusRequestedRangeNotSatisfiable, codes.OutOfRange},
		{113, http.StatusConflict, codes.AlreadyExists},
		{103, http.StatusInternalServerError, codes.Internal},
		{4000, http.StatusInternalServerError, codes.Internal},
	}
	for _, tc := range cases {
		e := &apipb.Error{Code: tc.code}
		if got := httpStatus(e); got != tc.http {
			t.Errorf("httpStatus(%d) = %d, want %d", tc.code, got, tc.http)
		}
		if got := grpcCode(e); got != tc.grpc {
			t.Errorf("grpcCode(%d) = %v, want %v", tc.code, got, tc.grpc)
		}
	}
}

func TestExecutorInternalErrorsAreLoggedNotLeaked(t *testing.T) {
	var logs bytes.Buffer
	st := &stubNode{err: errors.New("engine exploded")}
	e := NewExecutor(st, ExecutorOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	resp := e.Publish(context.Background(), &apipb.PublishRequest{Channel: "c", Data: []byte("1")})
	if resp.GetError().GetCode() != CodeInternal || strings.Contains(resp.GetError().GetMessage(), "exploded") {
		t.Fatalf("error = %v", resp.GetError())
	}
	if resp.GetResult() != nil {
		t.Fatalf("result alongside error: %v", resp.GetResult())
	}
	if !strings.Contains(logs.String(), "engine exploded") || !strings.Contains(logs.String(), "channel=c") {
		t.Fatalf("cause not logged: %q", logs.String())
	}
}

func TestExecutorTranslatesRequests(t *testing.T) {
	ctx := context.Background()
	st := &stubNode{}
	e := NewExecutor(st, ExecutorOptions{Logger: discard})

	sub := e.Subscribe(ctx, &apipb.SubscribeRequest{
		Channel: "ch", User: "u", Client: "c", Session: "s", ExpireAt: 9,
		Info: []byte(`"raw"`), B64Info: "ImI2NCI=", // "b64"
		Data:         []byte(`{"d":1}`),
		RecoverSince: &apipb.StreamPosition{Offset: 3, Epoch: "ep"},
		Override:     &apipb.SubscribeOptionOverride{Presence: &apipb.BoolValue{Value: false}, ForceRecovery: &apipb.BoolValue{Value: true}},
	})
	if sub.GetError() != nil {
		t.Fatalf("subscribe: %v", sub.GetError())
	}
	o := st.subOpts
	if st.subUser != "u" || st.subCh != "ch" || o.Client != "c" || o.Session != "s" || o.ExpireAt != 9 {
		t.Fatalf("subscribe target = %q %q %+v", st.subUser, st.subCh, o)
	}
	if string(o.Info) != `"b64"` || string(o.Data) != `{"d":1}` {
		t.Fatalf("info %q data %q: b64info must win over info", o.Info, o.Data)
	}
	if o.RecoverSince == nil || *o.RecoverSince != (engine.StreamPosition{Offset: 3, Epoch: "ep"}) {
		t.Fatalf("recover_since = %v", o.RecoverSince)
	}
	ov := o.Override
	if ov == nil || ov.Presence == nil || *ov.Presence || ov.ForceRecovery == nil || !*ov.ForceRecovery || ov.JoinLeave != nil {
		t.Fatalf("override = %+v", ov)
	}

	e.Disconnect(ctx, &apipb.DisconnectRequest{User: "u"})
	if st.disc != nil {
		t.Fatalf("no disconnect object must leave the default to the node, got %v", st.disc)
	}
	e.Disconnect(ctx, &apipb.DisconnectRequest{User: "u", Disconnect: &apipb.Disconnect{Code: 4001, Reason: "r"}, Whitelist: []string{"keep"}})
	if st.disc == nil || *st.disc != (node.Disconnect{Code: 4001, Reason: "r"}) || len(st.discWhitelist) != 1 {
		t.Fatalf("disconnect = %v %v", st.disc, st.discWhitelist)
	}

	p := e.Presence(ctx, &apipb.PresenceRequest{Channel: "ch"}).GetResult().GetPresence()
	if len(p) != 1 || p["c1"].GetUser() != "u" || string(p["c1"].GetConnInfo()) != `{"a":1}` {
		t.Fatalf("presence = %v", p)
	}
	ps := e.PresenceStats(ctx, &apipb.PresenceStatsRequest{Channel: "ch"}).GetResult()
	if ps.GetNumClients() != 3 || ps.GetNumUsers() != 2 {
		t.Fatalf("presence_stats = %v", ps)
	}
	info := e.Info(ctx, nil).GetResult().GetNodes()
	if len(info) != 1 || info[0].GetNumClients() != 0 || info[0].GetUptime() != math.MaxUint32 {
		t.Fatalf("info must clamp counts, got %v", info)
	}
	if ch := e.Channels(ctx, &apipb.ChannelsRequest{}).GetResult().GetChannels(); ch["a"].GetNumClients() != 2 {
		t.Fatalf("channels = %v", ch)
	}
}

func TestExecutorRPCExtensions(t *testing.T) {
	ctx := context.Background()
	e := NewExecutor(&stubNode{}, ExecutorOptions{Logger: discard, RPC: map[string]RPCHandler{
		"echo":   func(_ context.Context, p []byte) ([]byte, error) { return p, nil },
		"denied": func(context.Context, []byte) ([]byte, error) { return nil, node.ErrorPermissionDenied },
		"broken": func(context.Context, []byte) ([]byte, error) { return nil, errors.New("boom") },
		"nil":    nil,
	}})
	cases := []struct {
		method string
		code   uint32
		data   string
	}{
		{"echo", 0, `{"x":1}`},
		{"denied", 103, ""},
		{"broken", 100, ""},
		{"nil", 104, ""},
		{"", 107, ""},
	}
	for _, tc := range cases {
		resp := e.RPC(ctx, &apipb.RPCRequest{Method: tc.method, Params: []byte(`{"x":1}`)})
		if resp.GetError().GetCode() != tc.code || string(resp.GetResult().GetData()) != tc.data {
			t.Errorf("rpc %q = %v", tc.method, resp)
		}
	}
}

func TestExecutorNilRequestsDoNotPanic(t *testing.T) {
	ctx := context.Background()
	e := NewExecutor(&stubNode{}, ExecutorOptions{Logger: discard})
	if e.Publish(ctx, nil).GetError().GetCode() != CodeBadRequest {
		t.Fatal("nil publish")
	}
	if e.Broadcast(ctx, nil).GetError().GetCode() != CodeBadRequest {
		t.Fatal("nil broadcast")
	}
	if len(e.Batch(ctx, nil).GetReplies()) != 0 {
		t.Fatal("nil batch")
	}
	if r := e.Batch(ctx, &apipb.BatchRequest{Commands: []*apipb.Command{nil}}); r.GetReplies()[0].GetError().GetCode() != CodeNotFound {
		t.Fatalf("nil command = %v", r)
	}
}

func TestHTTPInternalErrorInTransportMode(t *testing.T) {
	srv := newHTTPServer(t, &stubNode{err: errors.New("down")}, HTTPConfig{Key: testKey, ErrorMode: "transport"})
	r := post(t, srv, "/api/publish", `{"channel":"a","data":{}}`, nil)
	if r.status != 500 || r.body != `{"code":100,"message":"internal server error"}` {
		t.Fatalf("got %d %q", r.status, r.body)
	}
}

func TestU32(t *testing.T) {
	cases := []struct {
		in   int64
		want uint32
	}{{-5, 0}, {0, 0}, {42, 42}, {math.MaxUint32, math.MaxUint32}, {math.MaxUint32 + 1, math.MaxUint32}}
	for _, tc := range cases {
		if got := u32(tc.in); got != tc.want {
			t.Errorf("u32(%d) = %d", tc.in, got)
		}
	}
}
