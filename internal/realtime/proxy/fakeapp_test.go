package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// fakeApp is the application logic behind both fake servers: each answer
// is derived from the request so a round trip proves both directions.
type fakeApp struct {
	delay time.Duration // sleep (until the call's context ends) before answering
	fail  error         // gRPC: returned as the call's error
}

// wait sleeps for the configured delay; false when the caller gave up
// first, and then the fake does not answer at all (a late answer could
// otherwise beat the client's own deadline timer and look like success).
func (a *fakeApp) wait(ctx context.Context) bool {
	if a.delay <= 0 {
		return true
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(a.delay):
		return true
	}
}

// answer returns the response for req, nil when the caller gave up.
func (a *fakeApp) answer(ctx context.Context, req proto.Message) proto.Message {
	if !a.wait(ctx) {
		return nil
	}
	switch r := req.(type) {
	case *proxypb.ConnectRequest:
		return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{
			User: "u-" + r.Client, Data: r.Data, Channels: r.Channels,
		}}
	case *proxypb.RefreshRequest:
		return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{
			ExpireAt: 1700000000, Info: []byte(`{"user":"` + r.User + `"}`),
		}}
	case *proxypb.SubscribeRequest:
		return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{
			Info: []byte(`"` + r.Channel + `"`),
		}}
	case *proxypb.PublishRequest:
		return &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: r.Data, SkipHistory: true}}
	case *proxypb.RPCRequest:
		return &proxypb.RPCResponse{Error: &proxypb.Error{Code: 1000, Message: r.Method, Temporary: true}}
	case *proxypb.SubRefreshRequest:
		return &proxypb.SubRefreshResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: r.Channel}}
	case *proxypb.MapPublishRequest:
		return &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{
			Key: r.Key + "-ok", Data: r.Data, Tags: map[string]string{"user": r.User}, KeyMode: "if_new", Version: 3,
		}}
	case *proxypb.MapRemoveRequest:
		return &proxypb.MapRemoveResponse{Result: &proxypb.MapRemoveResult{
			Key: r.Key, Tags: map[string]string{"channel": r.Channel}, IdempotencyKey: r.Client,
		}}
	case *proxypb.SharedPollRefreshRequest:
		return sharedPollAnswer(r)
	}
	return nil
}

// sharedPollAnswer moves every requested item one version on, with its old
// version as data and as the delta base, except keys starting with "gone",
// which are removed; the epoch is the channel's name.
func sharedPollAnswer(r *proxypb.SharedPollRefreshRequest) *proxypb.SharedPollRefreshResponse {
	res := &proxypb.SharedPollRefreshResult{Epoch: "e-" + r.Channel}
	for _, it := range r.Items {
		if strings.HasPrefix(it.Key, "gone") {
			res.Items = append(res.Items, &proxypb.SharedPollRefreshResultItem{Key: it.Key, Removed: true})
			continue
		}
		res.Items = append(res.Items, &proxypb.SharedPollRefreshResultItem{
			Key:      it.Key,
			Data:     []byte(fmt.Sprintf(`{"key":%q,"was":%d}`, it.Key, it.Version)),
			Version:  it.Version + 1,
			PrevData: []byte(fmt.Sprintf(`{"was":%d}`, it.Version)),
		})
	}
	return &proxypb.SharedPollRefreshResponse{Result: res}
}

// recorder keeps what the last request carried besides its body.
type recorder struct {
	mu          sync.Mutex
	header      http.Header
	md          metadata.MD
	body        []byte
	compression string
}

func (r *recorder) last() (http.Header, metadata.MD, []byte, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header, r.md, r.body, r.compression
}

// grpcApp serves fakeApp over CentrifugoProxy.
type grpcApp struct {
	proxypb.UnimplementedCentrifugoProxyServer
	app *fakeApp
	rec *recorder
}

func (g *grpcApp) serve(ctx context.Context, req, resp proto.Message) error {
	md, _ := metadata.FromIncomingContext(ctx)
	g.rec.mu.Lock()
	g.rec.md = md
	g.rec.mu.Unlock()
	if g.app.fail != nil {
		return g.app.fail
	}
	out := g.app.answer(ctx, req)
	if out == nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	proto.Merge(resp, out)
	return nil
}

func (g *grpcApp) Connect(ctx context.Context, r *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	resp := new(proxypb.ConnectResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) Refresh(ctx context.Context, r *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	resp := new(proxypb.RefreshResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) Subscribe(ctx context.Context, r *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	resp := new(proxypb.SubscribeResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) Publish(ctx context.Context, r *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	resp := new(proxypb.PublishResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) RPC(ctx context.Context, r *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	resp := new(proxypb.RPCResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) SubRefresh(ctx context.Context, r *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	resp := new(proxypb.SubRefreshResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) MapPublish(ctx context.Context, r *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
	resp := new(proxypb.MapPublishResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) MapRemove(ctx context.Context, r *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
	resp := new(proxypb.MapRemoveResponse)
	return resp, g.serve(ctx, r, resp)
}

func (g *grpcApp) SharedPollRefresh(ctx context.Context, r *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	resp := new(proxypb.SharedPollRefreshResponse)
	return resp, g.serve(ctx, r, resp)
}

// compressionRecorder notes which compression the client used.
type compressionRecorder struct{ rec *recorder }

func (c compressionRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}
func (c compressionRecorder) HandleRPC(_ context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok {
		c.rec.mu.Lock()
		c.rec.compression = h.Compression
		c.rec.mu.Unlock()
	}
}
func (c compressionRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (c compressionRecorder) HandleConn(context.Context, stats.ConnStats) {}

// startGRPC serves app on a loopback port and returns its host:port.
func startGRPC(t testing.TB, app *fakeApp, opts ...grpc.ServerOption) (string, *recorder) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts = append(opts, grpc.StatsHandler(compressionRecorder{rec}))
	srv := grpc.NewServer(opts...)
	proxypb.RegisterCentrifugoProxyServer(srv, &grpcApp{app: app, rec: rec})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), rec
}

// httpRequestFor maps an HTTP proxy path to the request type it carries.
func httpRequestFor(path string) proto.Message {
	switch strings.TrimPrefix(path, "/") {
	case "connect":
		return new(proxypb.ConnectRequest)
	case "refresh":
		return new(proxypb.RefreshRequest)
	case "subscribe":
		return new(proxypb.SubscribeRequest)
	case "publish":
		return new(proxypb.PublishRequest)
	case "rpc":
		return new(proxypb.RPCRequest)
	case "sub_refresh":
		return new(proxypb.SubRefreshRequest)
	case "map_publish":
		return new(proxypb.MapPublishRequest)
	case "map_remove":
		return new(proxypb.MapRemoveRequest)
	case "shared_poll_refresh":
		return new(proxypb.SharedPollRefreshRequest)
	}
	return nil
}

// startHTTP serves app as Centrifugo HTTP proxy endpoints /connect,
// /refresh, … and returns the base URL. handler, when set, replaces the
// app (for status and garbage tests).
func startHTTP(t testing.TB, app *fakeApp, handler http.HandlerFunc) (string, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.header, rec.body = r.Header.Clone(), body
		rec.mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		req := httpRequestFor(r.URL.Path)
		if r.Method != http.MethodPost || req == nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := pbjson.Unmarshal(body, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer := app.answer(r.Context(), req)
		if answer == nil {
			return // the client is gone
		}
		out, err := pbjson.Marshal(answer)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}
