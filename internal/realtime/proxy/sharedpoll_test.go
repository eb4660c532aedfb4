package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// pollRequest is a poll of two tracked keys, one with a known version.
func pollRequest() *proxypb.SharedPollRefreshRequest {
	return &proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 3}, {Key: "k2"}}}
}

// TestSharedPollRefreshHTTPAnswers: the backend's JSON answer is read with
// Centrifugo's conventions — data and prev_data are raw JSON, versions plain
// numbers, unknown keys ignored — and an answer that holds an error, or no
// result at all, comes back as the backend's answer, not as a failed call:
// what it means for the channel is the node's to decide.
func TestSharedPollRefreshHTTPAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *proxypb.SharedPollRefreshResponse
	}{
		{
			name: "the spec's example",
			body: `{"result":{"items":[{"key":"k1","data":{"score": 5, "tags":["a"]},"version":4},{"key":"k2","removed":true}],"epoch":"ep1"}}`,
			want: &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Epoch: "ep1", Items: []*proxypb.SharedPollRefreshResultItem{
				{Key: "k1", Data: []byte(`{"score": 5, "tags":["a"]}`), Version: 4}, // as sent
				{Key: "k2", Removed: true},
			}}},
		},
		{
			name: "delta base and unknown keys",
			body: `{"result":{"items":[{"key":"k1","data":"text","prev_data":"tex","version":2,"zzz":1}]},"other":true}`,
			want: &proxypb.SharedPollRefreshResponse{Result: &proxypb.SharedPollRefreshResult{Items: []*proxypb.SharedPollRefreshResultItem{
				{Key: "k1", Data: []byte(`"text"`), PrevData: []byte(`"tex"`), Version: 2},
			}}},
		},
		{
			name: "error",
			body: `{"error":{"code":1500,"message":"store down","temporary":true}}`,
			want: &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "store down", Temporary: true}},
		},
		{name: "no result", body: `{}`, want: &proxypb.SharedPollRefreshResponse{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, rec := startHTTP(t, nil, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			})
			b, err := New(&Config{Endpoint: url + "/shared_poll_refresh", StaticHTTPHeaders: map[string]string{"X-Poller": "spindle"}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.SharedPollRefresh(context.Background(), pollRequest())
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			h, _, _, _ := rec.last()
			if h.Get("Content-Type") != "application/json" || h.Get("X-Poller") != "spindle" {
				t.Errorf("headers %v: want JSON content type and the static header", h)
			}
		})
	}
}

// TestSharedPollRefreshHTTPFailures: a non-200 status, an answer that is not
// the response's JSON, a backend that is down or too slow all fail the call
// with the event and endpoint named, so the node logs one line that says
// which poll failed where and keeps the channel's state. A status
// transformed into an error is an answer (with that error); one transformed
// into a disconnect is not, since a poll has no connection to close.
func TestSharedPollRefreshHTTPFailures(t *testing.T) {
	transforms := []StatusCodeTransform{
		{StatusCode: 403, ToDisconnect: &TransformDisconnect{Code: 4501, Reason: "forbidden"}},
		{StatusCode: 500, ToError: &TransformError{Code: 1500, Message: "backend down", Temporary: true}},
	}
	tests := []struct {
		name    string
		status  int
		body    string
		want    *proxypb.SharedPollRefreshResponse
		wantErr string
	}{
		{name: "500", status: 500, body: `{"result":{}}`, wantErr: "unexpected HTTP status 500"},
		{name: "204", status: 204, wantErr: "unexpected HTTP status 204"},
		{name: "403 has no disconnect to become", status: 403, wantErr: "unexpected HTTP status 403"},
		{name: "500 with a transform is an error answer", status: 500,
			want: &proxypb.SharedPollRefreshResponse{Error: &proxypb.Error{Code: 1500, Message: "backend down", Temporary: true}}},
		{name: "not JSON", status: 200, body: `<html>oops`, wantErr: "decode response"},
		{name: "data not JSON", status: 200, body: `{"result":{"items":[{"key":"k1","data":nope}]}}`, wantErr: "decode response"},
		{name: "version not a number", status: 200, body: `{"result":{"items":[{"key":"k1","version":"four"}]}}`, wantErr: "decode response"},
		{name: "items not a list", status: 200, body: `{"result":{"items":{"key":"k1"}}}`, wantErr: "decode response"},
		{name: "truncated", status: 200, body: `{"result":{"items":[`, wantErr: "decode response"},
		{name: "empty", status: 200, wantErr: "decode response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := startHTTP(t, nil, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			cfg := &Config{Endpoint: url + "/shared_poll_refresh", Timeout: 2 * time.Second}
			if tc.want != nil || tc.status == 403 {
				cfg.StatusCodeTransforms = transforms
			}
			b, err := New(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.SharedPollRefresh(context.Background(), pollRequest())
			if tc.wantErr == "" {
				if err != nil || !proto.Equal(got, tc.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("got %v, %v; want an error", got, err)
			}
			for _, s := range []string{"proxy shared_poll_refresh " + cfg.Endpoint + ":", tc.wantErr} {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestSharedPollRefreshDownOrSlow: over both transports, a backend that is
// down fails at once and one slower than the proxy's timeout fails after
// it, as a timeout, with the event and endpoint named.
func TestSharedPollRefreshDownOrSlow(t *testing.T) {
	down := closedPort(t)
	for proto, ep := range map[string]string{"grpc": "grpc://" + down, "http": "http://" + down + "/shared_poll_refresh"} {
		t.Run(proto+"/down", func(t *testing.T) {
			b, err := New(&Config{Endpoint: ep, Timeout: 2 * time.Second}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.SharedPollRefresh(context.Background(), pollRequest())
			if err == nil || !strings.Contains(err.Error(), "proxy shared_poll_refresh "+ep+":") {
				t.Fatalf("error %v does not name event and endpoint", err)
			}
		})
	}
	slow := &fakeApp{delay: 3 * time.Second}
	grpcAddr, _ := startGRPC(t, slow)
	httpURL, _ := startHTTP(t, slow, nil)
	for proto, ep := range map[string]string{"grpc": "grpc://" + grpcAddr, "http": httpURL + "/shared_poll_refresh"} {
		t.Run(proto+"/slow", func(t *testing.T) {
			const timeout = 100 * time.Millisecond
			b, err := New(&Config{Endpoint: ep, Timeout: timeout}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = b.SharedPollRefresh(context.Background(), pollRequest())
			if elapsed := time.Since(start); err == nil || elapsed < timeout || elapsed > timeout+900*time.Millisecond {
				t.Fatalf("error %v after %v, want a timeout after %v", err, elapsed, timeout)
			}
			var te interface{ Timeout() bool }
			if !strings.Contains(err.Error(), "proxy shared_poll_refresh") || !errors.As(err, &te) || !te.Timeout() {
				t.Fatalf("error %q is not a named timeout", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %q does not match context.DeadlineExceeded", err)
			}
		})
	}
}

// TestSharedPollRefreshOnAnOlderBackend: a CentrifugoProxy server from
// before v6.8 (RoadRunner's plugin, say) answers Unimplemented; the poll
// fails with that status kept, as MapPublish does, rather than passing for
// an answer that changed nothing.
func TestSharedPollRefreshOnAnOlderBackend(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	proxypb.RegisterCentrifugoProxyServer(srv, proxypb.UnimplementedCentrifugoProxyServer{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	ep := "grpc://" + lis.Addr().String()
	b, err := New(&Config{Endpoint: ep, Timeout: 2 * time.Second}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.SharedPollRefresh(context.Background(), pollRequest())
	if status.Code(err) != codes.Unimplemented || resp != nil {
		t.Fatalf("got %v, %v; want an Unimplemented error", resp, err)
	}
	if !strings.Contains(err.Error(), "proxy shared_poll_refresh "+ep+":") {
		t.Fatalf("error %q does not name event and endpoint", err)
	}
}

// TestSharedPollRefreshMetrics: polls are observed under their own event
// label, so a slow poll backend shows apart from the per-client events.
func TestSharedPollRefreshMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	grpcAddr, _ := startGRPC(t, &fakeApp{})
	b, err := New(&Config{Endpoint: grpcAddr}, Options{Metrics: NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.SharedPollRefresh(context.Background(), pollRequest()); err != nil {
			t.Fatal(err)
		}
	}
	m := series(t, reg, "spindle_proxy_duration_seconds", map[string]string{"event": "shared_poll_refresh", "protocol": "grpc", "outcome": "ok"})
	if got := m.GetHistogram().GetSampleCount(); got != 2 {
		t.Fatalf("duration{shared_poll_refresh,grpc,ok} count = %d, want 2", got)
	}
}
