package workerrpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/internal/appserver/worker"
	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// fakeAPI answers Publish, Presence and Batch; any other method panics
// through the nil embedded interface, which the server must survive.
type fakeAPI struct {
	apiclient.Client
	mu        sync.Mutex
	published []*apipb.PublishRequest
	publish   func(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error)
}

func (f *fakeAPI) Publish(ctx context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error) {
	f.mu.Lock()
	f.published = append(f.published, req)
	f.mu.Unlock()
	if f.publish != nil {
		return f.publish(ctx, req)
	}
	return &apipb.PublishResult{Offset: 7, Epoch: "ep"}, nil
}

func (f *fakeAPI) Presence(ctx context.Context, req *apipb.PresenceRequest) (*apipb.PresenceResult, error) {
	return nil, &apiclient.Error{Code: 102, Message: "unknown channel"}
}

func (f *fakeAPI) Batch(ctx context.Context, req *apipb.BatchRequest) (*apipb.BatchResponse, error) {
	return &apipb.BatchResponse{Replies: make([]*apipb.Reply, len(req.GetCommands()))}, nil
}

type fakePool struct {
	resets int
	err    error
}

func (p *fakePool) Workers() []worker.WorkerInfo {
	return []worker.WorkerInfo{{PID: 4242, State: worker.StateReady, NumExecs: 3, MemoryBytes: 1 << 20, Created: time.Unix(1, 5)}}
}

func (p *fakePool) Reset(context.Context) error { p.resets++; return p.err }

// start serves opts on a loopback port until the test ends.
func start(t *testing.T, opts Options) string {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rpcFrame encodes a call as a goridge RPC client does.
func rpcFrame(t *testing.T, seq uint32, flags byte, method string, body []byte) []byte {
	t.Helper()
	b, err := frame.Append(nil, frame.Frame{Flags: flags, Options: []uint32{seq, uint32(len(method))}, Payload: append([]byte(method), body...)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type reply struct {
	seq    uint32
	flags  byte
	method string
	body   []byte
}

func readReply(t *testing.T, c net.Conn) reply {
	t.Helper()
	f, err := frame.Read(c, 0)
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	if len(f.Options) != 2 || int(f.Options[1]) > len(f.Payload) {
		t.Fatalf("reply options %v for %d-byte payload", f.Options, len(f.Payload))
	}
	return reply{seq: f.Options[0], flags: f.Flags, method: string(f.Payload[:f.Options[1]]), body: f.Payload[f.Options[1]:]}
}

func roundTrip(t *testing.T, addr string, seq uint32, flags byte, method string, body []byte) reply {
	t.Helper()
	c := dial(t, addr)
	if _, err := c.Write(rpcFrame(t, seq, flags, method, body)); err != nil {
		t.Fatal(err)
	}
	r := readReply(t, c)
	if r.seq != seq || r.method != method {
		t.Fatalf("reply seq %d method %q, want %d %q", r.seq, r.method, seq, method)
	}
	return r
}

// TestSpecVector sends the exact bytes of the fact sheet's RPC test
// vector (seq 1, centrifuge.Publish, channel "news", data "{}").
func TestSpecVector(t *testing.T) {
	api := &fakeAPI{}
	addr := start(t, Options{API: api})
	req, _ := hex.DecodeString("1580" + "1c000000" + "3e6af049" + "0000" + "01000000" + "12000000")
	req = append(req, "centrifuge.Publish"...)
	body, _ := hex.DecodeString("0a046e65777312027b7d")
	req = append(req, body...)
	if got, err := rpcFrameBytes(req); err != nil || !bytes.Equal(got, rpcFrame(t, 1, frame.CodecProto, "centrifuge.Publish", body)) {
		t.Fatalf("our encoder disagrees with the vector: %v", err)
	}

	c := dial(t, addr)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	r := readReply(t, c)
	if r.seq != 1 || r.method != "centrifuge.Publish" || r.flags != frame.CodecProto {
		t.Fatalf("reply seq %d method %q flags %#x", r.seq, r.method, r.flags)
	}
	var resp apipb.PublishResponse
	if err := proto.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.GetError() != nil || resp.GetResult().GetOffset() != 7 || resp.GetResult().GetEpoch() != "ep" {
		t.Errorf("response %v", &resp)
	}
	if len(api.published) != 1 || api.published[0].GetChannel() != "news" || string(api.published[0].GetData()) != "{}" {
		t.Errorf("API got %v", api.published)
	}
}

func rpcFrameBytes(b []byte) ([]byte, error) {
	f, err := frame.Read(bytes.NewReader(b), 0)
	if err != nil {
		return nil, err
	}
	return frame.Append(nil, f)
}

func TestCalls(t *testing.T) {
	pool := &fakePool{}
	api := &fakeAPI{}
	addr := start(t, Options{API: api, Pool: pool, Version: "2025.1.0", WorkerCommand: "node w.js"})
	pb := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name    string
		flags   byte
		method  string
		body    []byte
		wantErr string // substring of the ERROR frame text; "" = success
		check   func(t *testing.T, body []byte)
	}{
		{"api error is a successful call", frame.CodecProto, "centrifuge.Presence", pb(&apipb.PresenceRequest{Channel: "x"}), "", func(t *testing.T, b []byte) {
			var r apipb.PresenceResponse
			if err := proto.Unmarshal(b, &r); err != nil || r.GetError().GetCode() != 102 || r.GetError().GetMessage() != "unknown channel" {
				t.Errorf("got %v %v", &r, err)
			}
		}},
		{"json codec", frame.CodecJSON, "centrifuge.Publish", []byte(`{"channel":"j","data":{"a":1}}`), "", func(t *testing.T, b []byte) {
			var r struct {
				Result struct {
					Offset uint64 `json:"offset"`
				} `json:"result"`
			}
			if err := json.Unmarshal(b, &r); err != nil || r.Result.Offset != 7 {
				t.Errorf("got %s %v", b, err)
			}
		}},
		{"batch", frame.CodecProto, "centrifuge.Batch", pb(&apipb.BatchRequest{Commands: []*apipb.Command{{}, {}}}), "", func(t *testing.T, b []byte) {
			var r apipb.BatchResponse
			if err := proto.Unmarshal(b, &r); err != nil || len(r.GetReplies()) != 2 {
				t.Errorf("got %v %v", &r, err)
			}
		}},
		{"version", frame.CodecJSON, "rpc.Version", []byte(`true`), "", func(t *testing.T, b []byte) {
			if string(b) != `"2025.1.0"` {
				t.Errorf("got %s", b)
			}
		}},
		{"informer workers", frame.CodecJSON, "informer.Workers", []byte(`"centrifuge"`), "", func(t *testing.T, b []byte) {
			var l WorkerList
			if err := json.Unmarshal(b, &l); err != nil || len(l.Workers) != 1 {
				t.Fatalf("got %s %v", b, err)
			}
			w := l.Workers[0]
			if w.PID != 4242 || w.Status != 1 || w.StatusStr != "ready" || w.NumExecs != 3 || w.MemoryUsage != 1<<20 || w.Created != 1_000_000_005 || w.Command != "node w.js" {
				t.Errorf("got %+v", w)
			}
			if !strings.Contains(string(b), `"memoryUsage"`) || !strings.Contains(string(b), `"numExecs"`) {
				t.Errorf("keys differ from RoadRunner's: %s", b)
			}
		}},
		{"informer list", frame.CodecJSON, "informer.List", nil, "", func(t *testing.T, b []byte) {
			if string(b) != `["centrifuge"]` {
				t.Errorf("got %s", b)
			}
		}},
		{"reset", frame.CodecJSON, "resetter.Reset", []byte(`"centrifuge"`), "", func(t *testing.T, b []byte) {
			if string(b) != "true" || pool.resets != 1 {
				t.Errorf("got %s, resets %d", b, pool.resets)
			}
		}},
		{"reset raw", frame.CodecRaw, "resetter.Reset", []byte(`centrifuge`), "the raw codec carries only strings", nil},
		{"reset other plugin", frame.CodecJSON, "resetter.Reset", []byte(`"http"`), `no such plugin "http"`, nil},
		{"informer over proto", frame.CodecProto, "informer.Workers", []byte(`centrifuge`), "not a proto", nil},
		{"unknown method", frame.CodecProto, "centrifuge.Nope", nil, "can't find method centrifuge.Nope", nil},
		{"unknown service", frame.CodecProto, "http.Reset", nil, "can't find service http.Reset", nil},
		{"ill-formed", frame.CodecProto, "Publish", nil, "ill-formed", nil},
		{"pro method", frame.CodecProto, "centrifuge.BlockUser", nil, "PRO", nil},
		{"msgpack", frame.CodecMsgpack, "centrifuge.Publish", []byte{0x80}, "codec msgpack is not supported", nil},
		{"bad protobuf", frame.CodecProto, "centrifuge.Publish", []byte{0xff, 0xff}, "decoding PublishRequest from protobuf", nil},
		{"raw for a message", frame.CodecRaw, "centrifuge.Publish", []byte("x"), "not raw bytes", nil},
		{"panicking API", frame.CodecProto, "centrifuge.Info", nil, "centrifuge.Info: internal error", nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := roundTrip(t, addr, uint32(100+i), tc.flags, tc.method, tc.body)
			if tc.wantErr != "" {
				if r.flags&frame.FlagError == 0 {
					t.Fatalf("want an ERROR frame, got flags %#x body %q", r.flags, r.body)
				}
				if !strings.Contains(string(r.body), tc.wantErr) {
					t.Errorf("error %q lacks %q", r.body, tc.wantErr)
				}
				return
			}
			if r.flags != tc.flags {
				t.Fatalf("flags %#x, want %#x (body %q)", r.flags, tc.flags, r.body)
			}
			tc.check(t, r.body)
		})
	}
}

func TestTransportErrorAndNoAPI(t *testing.T) {
	api := &fakeAPI{publish: func(context.Context, *apipb.PublishRequest) (*apipb.PublishResult, error) {
		return nil, errors.New("server API publish over gRPC: connection refused")
	}}
	r := roundTrip(t, start(t, Options{API: api}), 5, frame.CodecProto, "centrifuge.Publish", nil)
	if r.flags != frame.CodecProto|frame.FlagError || !strings.Contains(string(r.body), "connection refused") {
		t.Errorf("flags %#x body %q", r.flags, r.body)
	}
	r = roundTrip(t, start(t, Options{}), 6, frame.CodecProto, "centrifuge.Publish", nil)
	if r.flags&frame.FlagError == 0 || !strings.Contains(string(r.body), "not configured") {
		t.Errorf("flags %#x body %q", r.flags, r.body)
	}
	r = roundTrip(t, start(t, Options{}), 7, frame.CodecJSON, "informer.Workers", []byte(`"centrifuge"`))
	if r.flags&frame.FlagError == 0 || !strings.Contains(string(r.body), "no worker pool") {
		t.Errorf("flags %#x body %q", r.flags, r.body)
	}
}

func TestAPIDeadline(t *testing.T) {
	api := &fakeAPI{publish: func(ctx context.Context, _ *apipb.PublishRequest) (*apipb.PublishResult, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("publish: %w", ctx.Err())
	}}
	start0 := time.Now()
	r := roundTrip(t, start(t, Options{API: api, APITimeout: 100 * time.Millisecond}), 1, frame.CodecProto, "centrifuge.Publish", nil)
	if r.flags&frame.FlagError == 0 || !strings.Contains(string(r.body), "deadline exceeded") {
		t.Errorf("flags %#x body %q", r.flags, r.body)
	}
	if d := time.Since(start0); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestConcurrentCalls: a slow call does not hold up a fast one on the same
// connection, and each reply carries its own seq.
func TestConcurrentCalls(t *testing.T) {
	release := make(chan struct{})
	api := &fakeAPI{publish: func(_ context.Context, req *apipb.PublishRequest) (*apipb.PublishResult, error) {
		if req.GetChannel() == "slow" {
			<-release
		}
		return &apipb.PublishResult{Epoch: req.GetChannel()}, nil
	}}
	c := dial(t, start(t, Options{API: api}))
	slow, _ := proto.Marshal(&apipb.PublishRequest{Channel: "slow"})
	fast, _ := proto.Marshal(&apipb.PublishRequest{Channel: "fast"})
	if _, err := c.Write(append(rpcFrame(t, 1, frame.CodecProto, "centrifuge.Publish", slow), rpcFrame(t, 2, frame.CodecProto, "centrifuge.Publish", fast)...)); err != nil {
		t.Fatal(err)
	}
	first := readReply(t, c)
	close(release)
	second := readReply(t, c)
	for _, x := range []struct {
		r    reply
		seq  uint32
		want string
	}{{first, 2, "fast"}, {second, 1, "slow"}} {
		var resp apipb.PublishResponse
		if err := proto.Unmarshal(x.r.body, &resp); err != nil {
			t.Fatal(err)
		}
		if x.r.seq != x.seq || resp.GetResult().GetEpoch() != x.want {
			t.Errorf("seq %d epoch %q, want %d %q", x.r.seq, resp.GetResult().GetEpoch(), x.seq, x.want)
		}
	}
}

func TestMalformedCallClosesConnection(t *testing.T) {
	addr := start(t, Options{})
	cases := map[string][]byte{
		"one option":         mustAppend(t, frame.Frame{Flags: frame.CodecProto, Options: []uint32{1}, Payload: []byte("rpc.Version")}),
		"method past end":    mustAppend(t, frame.Frame{Flags: frame.CodecJSON, Options: []uint32{1, 99}, Payload: []byte("rpc.Version")}),
		"control frame":      mustAppend(t, frame.Frame{Flags: frame.FlagControl, Options: []uint32{1, 3}, Payload: []byte("abc")}),
		"not a frame at all": []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
			if _, err := frame.Read(c, 0); !errors.Is(err, io.EOF) {
				t.Errorf("want the connection closed, got %v", err)
			}
		})
	}
}

func mustAppend(t *testing.T, f frame.Frame) []byte {
	t.Helper()
	b, err := frame.Append(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShutdownLetsCallsFinish: cancelling Serve's context stops reading
// but the call in flight is still answered.
func TestShutdownLetsCallsFinish(t *testing.T) {
	entered := make(chan struct{})
	api := &fakeAPI{publish: func(context.Context, *apipb.PublishRequest) (*apipb.PublishResult, error) {
		close(entered)
		time.Sleep(200 * time.Millisecond)
		return &apipb.PublishResult{Offset: 1}, nil
	}}
	ln, err := Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Options{API: api, Logger: slog.New(slog.DiscardHandler)}).Serve(ctx, ln) }()
	c := dial(t, ln.Addr().String())
	if _, err := c.Write(rpcFrame(t, 9, frame.CodecProto, "centrifuge.Publish", nil)); err != nil {
		t.Fatal(err)
	}
	<-entered
	cancel()
	r := readReply(t, c)
	if r.seq != 9 || r.flags&frame.FlagError != 0 {
		t.Errorf("in-flight call got %+v", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepting after shutdown")
	}
}

func TestListenRejectsBareAddress(t *testing.T) {
	if _, err := Listen("127.0.0.1:6001"); err == nil || !strings.Contains(err.Error(), "tcp://") {
		t.Errorf("got %v", err)
	}
}

func TestUnixSocket(t *testing.T) {
	path := t.TempDir() + "/rpc.sock"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- New(Options{Version: "v", Logger: slog.New(slog.DiscardHandler)}).ListenAndServe(ctx, "unix://"+path)
	}()
	var c net.Conn
	for i := 0; ; i++ {
		var err error
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer c.Close()
	if _, err := c.Write(rpcFrame(t, 3, frame.CodecRaw, "rpc.Version", nil)); err != nil {
		t.Fatal(err)
	}
	if r := readReply(t, c); r.seq != 3 || string(r.body) != "v" || r.flags != frame.CodecRaw {
		t.Errorf("got %+v", r)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
