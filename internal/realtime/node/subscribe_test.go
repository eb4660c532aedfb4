package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func allowAnonymous(c *Config, _ *Proxy) { c.Client.AllowAnonymousConnectWithoutToken = true }

// TestSubscribe covers each answer to a client-side subscribe: success,
// every error code and every disconnect.
func TestSubscribe(t *testing.T) {
	type tcase struct {
		name      string
		user      string // "-" connects anonymously
		insecure  bool
		req       func(t *testing.T, tc *testClient) *clientpb.SubscribeRequest
		wantErr   uint32
		wantClose int
		check     func(t *testing.T, res *clientpb.SubscribeResult)
	}
	ch := func(name string) func(*testing.T, *testClient) *clientpb.SubscribeRequest {
		return func(*testing.T, *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: name}
		}
	}
	withToken := func(name string, tok func(t *testing.T, tc *testClient) string) func(*testing.T, *testClient) *clientpb.SubscribeRequest {
		return func(t *testing.T, tc *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: name, Token: tok(t, tc)}
		}
	}
	tests := []tcase{
		{name: "user in root", user: "alice", req: ch("news")},
		{name: "anonymous in root", user: "-", req: ch("news"), wantErr: ErrorPermissionDenied.Code},
		{name: "anonymous where allowed", user: "-", req: ch("public:lobby")},
		{name: "closed namespace", user: "alice", req: ch("closed:x"), wantErr: ErrorPermissionDenied.Code},
		{name: "closed namespace insecure", user: "alice", insecure: true, req: ch("closed:x")},
		{name: "unknown namespace", user: "alice", req: ch("nope:x"), wantErr: ErrorUnknownChannel.Code},
		{name: "empty channel", user: "alice", req: ch(""), wantClose: int(DisconnectBadRequest.Code)},
		{name: "regex mismatch", user: "alice", req: ch("strict:ABC"), wantErr: ErrorBadRequest.Code},
		{name: "regex match", user: "alice", req: ch("strict:abc")},
		{name: "not ascii", user: "alice", req: ch("news✓"), wantErr: ErrorBadRequest.Code},
		{name: "too long", user: "alice", req: ch(strings.Repeat("x", 256)), wantErr: ErrorBadRequest.Code},
		{name: "unknown delta", user: "alice", req: func(*testing.T, *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: "news", Delta: "xdelta"}
		}, wantClose: int(DisconnectBadRequest.Code)},
		{name: "fossil delta", user: "alice", req: func(*testing.T, *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: "news", Delta: "fossil"}
		}},
		{name: "map subscription to a stream namespace", user: "alice", req: func(*testing.T, *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: "news", Type: 1}
		}, wantErr: ErrorPermissionDenied.Code},
		{name: "shared poll subscription to a stream namespace", user: "alice", req: func(*testing.T, *testClient) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Channel: "news", Type: 4}
		}, wantErr: ErrorNotAvailable.Code},
		{name: "user limited, listed", user: "alice", req: ch("dm#alice,bob")},
		{name: "user limited, not listed", user: "carol", req: ch("dm#alice,bob"), wantErr: ErrorPermissionDenied.Code},
		{name: "user limited, anonymous", user: "-", req: ch("public:dm#alice"), wantErr: ErrorPermissionDenied.Code},
		{name: "user limited not allowed in namespace", user: "alice", req: ch("closed:dm#alice"), wantErr: ErrorPermissionDenied.Code},
		{name: "private without token", user: "alice", req: ch("$secret"), wantErr: ErrorPermissionDenied.Code},
		{name: "private with token", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "$secret", time.Hour, map[string]any{"data": map[string]any{"k": "v"}, "info": map[string]any{"seat": 1}})
		}), check: func(t *testing.T, res *clientpb.SubscribeResult) {
			if string(res.Data) != `{"k":"v"}` || !res.Expires || res.Ttl < 3590 {
				t.Fatalf("private subscribe result %v", res)
			}
		}},
		{name: "private token bound to this client", user: "alice", req: withToken("$secret", func(t *testing.T, tc *testClient) string {
			return subToken(t, "alice", "$secret", 0, map[string]any{"client": tc.c.ID()})
		})},
		{name: "private token of another client", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "$secret", 0, map[string]any{"client": "someone-else"})
		}), wantClose: int(DisconnectInvalidToken.Code)},
		{name: "private token for another channel", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "$other", 0, nil)
		}), wantClose: int(DisconnectInvalidToken.Code)},
		{name: "private token for another user", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "bob", "$secret", 0, nil)
		}), wantClose: int(DisconnectInvalidToken.Code)},
		{name: "private token expired", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "$secret", 0, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
		}), wantErr: ErrorTokenExpired.Code},
		{name: "private token expire_at passed", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "$secret", 0, map[string]any{"expire_at": time.Now().Add(-time.Minute).Unix()})
		}), wantErr: ErrorExpired.Code},
		{name: "private token signed with the connection key", user: "alice", req: withToken("$secret", func(t *testing.T, _ *testClient) string {
			return connToken(t, "alice", 0, map[string]any{"channel": "$secret"})
		}), wantErr: ErrorPermissionDenied.Code},
		{name: "token overrides namespace options", user: "alice", req: withToken("stream:t", func(t *testing.T, _ *testClient) string {
			return subToken(t, "alice", "stream:t", 0, map[string]any{"override": map[string]any{"force_recovery": map[string]any{"value": true}}})
		}), check: func(t *testing.T, res *clientpb.SubscribeResult) {
			if !res.Recoverable || !res.Positioned || res.Epoch == "" {
				t.Fatalf("override did not force recovery: %v", res)
			}
		}},
		{name: "proxy switch without backend", user: "alice", req: ch("unproxied:x"), wantErr: ErrorNotAvailable.Code},
	}
	env := newHubEnv(t, allowAnonymous)
	insecure := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.Insecure = true })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			if tt.insecure {
				e = insecure
			}
			var tc *testClient
			if tt.user == "-" {
				tc = e.connect(t, "")
			} else {
				tc = e.connectUser(t, tt.user)
			}
			defer tc.c.HandleClose()
			cmd := &clientpb.Command{Subscribe: tt.req(t, tc)}
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				if got := tc.errCode(cmd); got != tt.wantErr {
					t.Fatalf("error %d, want %d", got, tt.wantErr)
				}
				if ok, _ := tc.c.subscribed(cmd.Subscribe.Channel); ok {
					t.Fatal("refused subscription left behind")
				}
			default:
				r := tc.ok(cmd)
				if tt.check != nil {
					tt.check(t, r.Subscribe)
				}
				// Subscribed means receiving the channel's publications.
				if _, err := e.node.Publish(t.Context(), cmd.Subscribe.Channel, []byte(`"hello"`), PublishOptions{}); err != nil {
					t.Fatal(err)
				}
				if p := tc.nextPush(); p.Channel != cmd.Subscribe.Channel || string(p.Pub.GetData()) != `"hello"` {
					t.Fatalf("push %v", p)
				}
				if code := tc.errCode(cmd); code != ErrorAlreadySubscribed.Code {
					t.Fatalf("second subscribe: %d", code)
				}
			}
		})
	}
}

func TestSubscribeWithoutSubTokenVerifier(t *testing.T) {
	env := newHubEnv(t)
	env.setVerifiers(t, env.node.settings().tokens, nil) // as with Options.SubTokens unset
	tc := env.connectUser(t, "alice")
	cmd := &clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "$secret", Token: subToken(t, "alice", "$secret", 0, nil)}}
	if code := tc.errCode(cmd); code != ErrorPermissionDenied.Code {
		t.Fatalf("error %d", code)
	}
}

func TestSubscribeViaProxy(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error)
		req       *clientpb.SubscribeRequest
		wantErr   uint32
		wantClose int
		check     func(t *testing.T, tc *testClient, res *clientpb.SubscribeResult)
	}{
		{name: "allow with defaults", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:a", Positioned: true, Data: []byte(`{"q":1}`)},
			check: func(t *testing.T, tc *testClient, res *clientpb.SubscribeResult) {
				// The backend decides: the client's own flags do not count.
				if res.Positioned {
					t.Fatalf("client flag honoured on a proxied subscribe: %v", res)
				}
				reqs := requests[*proxypb.SubscribeRequest](tc.env.backend)
				if len(reqs) != 1 || reqs[0].User != "alice" || reqs[0].Channel != "proxied:a" || string(reqs[0].Data) != `{"q":1}` || string(reqs[0].Meta) != `{"m":1}` {
					t.Fatalf("subscribe proxy request %v", reqs)
				}
			}},
		{name: "allow with result", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{
				Data: []byte(`{"d":1}`), Info: []byte(`{"i":1}`),
				Override: &proxypb.SubscribeOptionOverride{ForceRecovery: &proxypb.BoolValue{Value: true}},
			}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:b"},
			check: func(t *testing.T, tc *testClient, res *clientpb.SubscribeResult) {
				if string(res.Data) != `{"d":1}` || !res.Recoverable {
					t.Fatalf("result %v", res)
				}
				if _, info := tc.c.subscribed("proxied:b"); string(info) != `{"i":1}` {
					t.Fatalf("chan info %s", info)
				}
			}},
		{name: "expiry from backend", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{ExpireAt: time.Now().Add(-time.Minute).Unix()}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:c"}, wantErr: ErrorExpired.Code},
		{name: "deny", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Error: &proxypb.Error{Code: ErrorPermissionDenied.Code, Message: "no"}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:d"}, wantErr: ErrorPermissionDenied.Code},
		{name: "disconnect", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Disconnect: &proxypb.Disconnect{Code: 4000, Reason: "later"}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:e"}, wantClose: 4000},
		{name: "backend error", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return nil, errors.New("timeout")
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:f"}, wantErr: ErrorInternal.Code},
		{name: "bad base64", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{B64Data: "!!"}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:g"}, wantErr: ErrorInternal.Code},
		{name: "bad base64 info", answer: func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
			return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{B64Info: "!!"}}, nil
		}, req: &clientpb.SubscribeRequest{Channel: "proxied:h"}, wantErr: ErrorInternal.Code},
	}
	env := newHubEnv(t, func(_ *Config, p *Proxy) { p.IncludeConnectionMeta = true })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.backend.set(func(b *fakeBackend) { b.subscribe = tt.answer; b.calls = nil })
			tc := env.connect(t, connToken(t, "alice", 0, map[string]any{"meta": map[string]any{"m": 1}}))
			defer tc.c.HandleClose()
			cmd := &clientpb.Command{Subscribe: tt.req}
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d", got)
				}
			case tt.wantErr != 0:
				if got := tc.errCode(cmd); got != tt.wantErr {
					t.Fatalf("error %d, want %d", got, tt.wantErr)
				}
			default:
				tt.check(t, tc, tc.ok(cmd).Subscribe)
			}
		})
	}
}

func TestSubscribePositioning(t *testing.T) {
	env := newHubEnv(t)
	for i := 0; i < 3; i++ {
		if _, err := env.node.Publish(t.Context(), "stream:p", []byte(`1`), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name                    string
		req                     *clientpb.SubscribeRequest
		positioned, recoverable bool
	}{
		{"not asked", &clientpb.SubscribeRequest{Channel: "stream:p"}, false, false},
		{"positioned", &clientpb.SubscribeRequest{Channel: "stream:p", Positioned: true}, true, false},
		{"recoverable implies positioned", &clientpb.SubscribeRequest{Channel: "stream:p", Recoverable: true}, true, true},
		{"forced", &clientpb.SubscribeRequest{Channel: "forced:p"}, true, true},
		{"allowed through history permission", &clientpb.SubscribeRequest{Channel: "news", Positioned: true}, true, false},
		{"without history", &clientpb.SubscribeRequest{Channel: "nohistory:p", Positioned: true}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := env.connectUser(t, "alice")
			defer tc.c.HandleClose()
			res := tc.ok(&clientpb.Command{Subscribe: tt.req}).Subscribe
			if res.Positioned != tt.positioned || res.Recoverable != tt.recoverable {
				t.Fatalf("result %v", res)
			}
			if tt.positioned && res.Epoch == "" {
				t.Fatalf("positioned without epoch: %v", res)
			}
			if tt.req.Channel == "stream:p" && tt.positioned && res.Offset != 3 {
				t.Fatalf("offset %d, want the stream top 3", res.Offset)
			}
		})
	}
}

// publishN publishes data "1".."n" (after the stream's current top) and
// returns the last position.
func publishN(t *testing.T, n *Node, ch string, from, count int) engine.StreamPosition {
	t.Helper()
	var sp engine.StreamPosition
	for i := from; i < from+count; i++ {
		var err error
		if sp, err = n.Publish(t.Context(), ch, []byte(fmt.Sprint(i)), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return sp
}

func TestRecovery(t *testing.T) {
	env := newHubEnv(t)
	// visit subscribes once (the position a client would keep) and leaves;
	// three publications follow while it is away.
	visit := func(t *testing.T, ch string) string {
		first := env.connectUser(t, "alice")
		pos := first.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recoverable: true}}).Subscribe
		first.c.HandleClose()
		publishN(t, env.node, ch, 1, 3)
		return pos.Epoch
	}
	tests := []struct {
		name      string
		ch        string
		req       func(epoch string) *clientpb.SubscribeRequest
		wantErr   uint32
		recovered bool
		pubs      []string
		offset    uint64
	}{
		{name: "all missed", ch: "stream:r", req: func(e string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: e, Offset: 0}
		}, recovered: true, pubs: []string{"1", "2", "3"}},
		{name: "some missed", ch: "stream:r", req: func(e string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: e, Offset: 2}
		}, recovered: true, pubs: []string{"3"}, offset: 2},
		{name: "none missed", ch: "stream:r", req: func(e string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: e, Offset: 3}
		}, recovered: true, offset: 3},
		{name: "empty epoch matches", ch: "stream:r", req: func(string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Offset: 1}
		}, recovered: true, pubs: []string{"2", "3"}, offset: 1},
		{name: "epoch changed", ch: "stream:r", req: func(string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: "lost", Offset: 1}
		}, recovered: false, offset: 3},
		{name: "epoch changed, client wants an error", ch: "stream:r", req: func(string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: "lost", Offset: 1, Flag: 2}
		}, wantErr: ErrorUnrecoverablePosition.Code},
		{name: "ahead of the stream", ch: "stream:r", req: func(e string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Recoverable: true, Recover: true, Epoch: e, Offset: 10}
		}, recovered: false, offset: 3},
		{name: "recover without recoverable", ch: "stream:r", req: func(e string) *clientpb.SubscribeRequest {
			return &clientpb.SubscribeRequest{Positioned: true, Recover: true, Epoch: e, Offset: 0}
		}, recovered: false, offset: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := fmt.Sprintf("%s%d", tt.ch, i)
			epoch := visit(t, ch)
			tc := env.connectUser(t, "alice")
			defer tc.c.HandleClose()
			req := tt.req(epoch)
			req.Channel = ch
			cmd := &clientpb.Command{Subscribe: req}
			if tt.wantErr != 0 {
				if code := tc.errCode(cmd); code != tt.wantErr {
					t.Fatalf("error %d", code)
				}
				return
			}
			res := tc.ok(cmd).Subscribe
			var got []string
			for _, p := range res.Publications {
				got = append(got, string(p.Data))
			}
			if res.Recovered != tt.recovered || !slices.Equal(got, tt.pubs) || res.Offset != tt.offset || res.Epoch != epoch || !res.WasRecovering {
				t.Fatalf("recovered %v pubs %v offset %d epoch %q (want %v %v %d %q)", res.Recovered, got, res.Offset, res.Epoch, tt.recovered, tt.pubs, tt.offset, epoch)
			}
			// Live publications continue the recovered stream.
			publishN(t, env.node, ch, 100, 1)
			if p := tc.nextPush(); string(p.Pub.GetData()) != "100" {
				t.Fatalf("live push %v", p)
			}
		})
	}
	t.Run("too many missed", func(t *testing.T) {
		top := publishN(t, env.node, "stream:many", 1, 60) // recovery limit is 50
		tc := env.connectUser(t, "alice")
		res := tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "stream:many", Recoverable: true, Recover: true, Epoch: top.Epoch, Offset: 1}}).Subscribe
		if res.Recovered || len(res.Publications) != 0 || res.Offset != 60 {
			t.Fatalf("recovered %v with %d pubs offset %d", res.Recovered, len(res.Publications), res.Offset)
		}
	})
	t.Run("cache mode", func(t *testing.T) {
		top := publishN(t, env.node, "cache:c", 1, 3)
		tc := env.connectUser(t, "alice")
		res := tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "cache:c", Recover: true, Epoch: top.Epoch, Offset: 1}}).Subscribe
		if !res.Recovered || len(res.Publications) != 1 || string(res.Publications[0].Data) != "3" {
			t.Fatalf("cache recovery %v", res)
		}
		res = tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "cache:d", Recover: true, Offset: 0}}).Subscribe
		if !res.Recovered || len(res.Publications) != 0 {
			t.Fatalf("cache recovery of an empty stream %v", res)
		}
	})
	t.Run("engine failure", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		_ = env.engine.Engine.Close(context.Background())
		r := tc.call(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "stream:x", Positioned: true}})
		if r.Error == nil || r.Error.Code != ErrorInternal.Code || !r.Error.Temporary {
			t.Fatalf("reply %v", r)
		}
		if env.node.NumSubscriptions() != 0 {
			t.Fatal("failed subscription left in the hub")
		}
	})
}

// Publications that arrive while a subscribe is in progress are neither
// lost, nor duplicated, nor delivered before the subscribe reply: those
// already in the history read come in the reply, later ones follow it.
func TestPublicationsDuringSubscribe(t *testing.T) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		t.Run(string(pt), func(t *testing.T) {
			env := newHubEnv(t)
			const ch = "stream:live"
			first := env.connectUser(t, "alice")
			pos := first.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recoverable: true}}).Subscribe
			first.c.HandleClose()
			publishN(t, env.node, ch, 1, 2) // missed while away

			var once sync.Once
			env.engine.setHooks(func(h *hookEngine) {
				// Before the history read: in history and in flight.
				h.beforeHistory = func(c string) {
					if c == ch {
						publishN(t, env.node, ch, 3, 2)
					}
				}
				// After it: only in flight.
				h.afterHistory = func(c string) {
					if c == ch {
						once.Do(func() { publishN(t, env.node, ch, 5, 2) })
					}
				}
			})
			tc := env.newClient(t, pt)
			tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
			res := tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recoverable: true, Recover: true, Epoch: pos.Epoch, Offset: 0}}).Subscribe
			env.engine.setHooks(func(h *hookEngine) { h.beforeHistory, h.afterHistory = nil, nil })
			publishN(t, env.node, ch, 7, 1)

			var got []string
			for _, p := range res.Publications {
				got = append(got, string(p.Data))
			}
			tc.tr.waitUntil(t, "all publications", func() bool { return len(tc.tr.replies) >= 2+3 })
			// Nothing on the channel may come before the reply.
			replyAt := -1
			for i, r := range tc.tr.allReplies() {
				if r.Subscribe != nil {
					replyAt = i
				}
				if r.Push != nil && r.Push.Pub != nil && replyAt < 0 {
					t.Fatalf("publication %s delivered before the subscribe reply", r.Push.Pub.Data)
				}
			}
			got = append(got, tc.pubs(ch)...)
			if want := []string{"1", "2", "3", "4", "5", "6", "7"}; !slices.Equal(got, want) {
				t.Fatalf("client saw %v, want %v", got, want)
			}
		})
	}
}

// A server API subscribe finishing while a client subscribe waits for the
// engine must not release the client's subscription before its reply:
// publications would reach the client before it knows it is subscribed.
func TestServerSubscribeDoesNotReleaseAPendingSubscribe(t *testing.T) {
	env := newHubEnv(t)
	const slow = "stream:slow"
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	env.engine.setHooks(func(h *hookEngine) {
		h.beforeHistory = func(c string) {
			if c == slow {
				once.Do(func() { close(entered); <-release })
			}
		}
	})
	tc := env.connectUser(t, "alice")
	done := make(chan struct{})
	go func() {
		defer close(done)
		tc.c.HandleFrame(encodeFrame(protocol.TypeProtobuf, &clientpb.Command{Id: 7, Subscribe: &clientpb.SubscribeRequest{Channel: slow, Positioned: true}}))
	}()
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		t.Fatal("subscribe never read history")
	}
	if err := env.node.Subscribe(t.Context(), "alice", "public:other", SubscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.waitPush("server-side subscribe push", func(p *clientpb.Push) bool { return p.Subscribe != nil })
	publishN(t, env.node, slow, 1, 1)
	close(release)
	<-done
	tc.reply(7) // the subscribe runs off the reader: wait for its reply
	publishN(t, env.node, slow, 2, 1)
	tc.waitPush("live publication", func(p *clientpb.Push) bool { return p.Pub != nil && string(p.Pub.Data) == "2" })
	replyAt := -1
	for i, r := range tc.tr.allReplies() {
		if r.Id == 7 {
			replyAt = i
		}
		if r.Push != nil && r.Push.Channel == slow && r.Push.Pub != nil && replyAt < 0 {
			t.Fatalf("publication %s before the subscribe reply", r.Push.Pub.Data)
		}
	}
	if got := tc.pubs(slow); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("publications %v, want [2] (1 is before the reply's position)", got)
	}
}

// A positioned subscriber that misses a publication is told to
// resubscribe (2500) as soon as the next one shows the gap; a server-side
// one is disconnected (3010).
func TestPositionGap(t *testing.T) {
	dropOffset := func(env *hubEnv, off uint64) {
		env.engine.setHooks(func(h *hookEngine) {
			h.dropPub = func(_ string, p *engine.Publication) bool { return p.Offset == off }
		})
	}
	t.Run("client-side", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "stream:g", Positioned: true}})
		dropOffset(env, 2)
		publishN(t, env.node, "stream:g", 1, 3)
		p := tc.waitPush("unsubscribe", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
		if p.Channel != "stream:g" || p.Unsubscribe.Code != UnsubscribeCodeInsufficientState {
			t.Fatalf("push %v", p)
		}
		if got := tc.pubs("stream:g"); !slices.Equal(got, []string{"1"}) {
			t.Fatalf("publications %v", got)
		}
	})
	t.Run("server-side", func(t *testing.T) {
		env := newHubEnv(t)
		env.connect(t, connToken(t, "alice", 0, map[string]any{"channels": []string{"forced:g"}}))
		tc := env.connect(t, connToken(t, "alice", 0, map[string]any{"channels": []string{"forced:g"}}))
		dropOffset(env, 1)
		publishN(t, env.node, "forced:g", 1, 2)
		if got := tc.tr.waitClosed(t); got != int(DisconnectInsufficientState.Code) {
			t.Fatalf("close %d", got)
		}
	})
}

// The periodic position check finds a subscriber left behind by a lost
// publication even when no later publication shows the gap.
func TestPositionCheck(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) {
		c.Client.PresenceUpdateInterval = 10 * time.Millisecond
		c.Client.PositionCheckDelay = 10 * time.Millisecond
	})
	tc := env.connectUser(t, "alice")
	tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "stream:quiet", Positioned: true}})
	other := env.connectUser(t, "bob")
	other.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "stream:fine", Positioned: true}})
	env.engine.setHooks(func(h *hookEngine) {
		h.dropPub = func(ch string, _ *engine.Publication) bool { return ch == "stream:quiet" }
	})
	publishN(t, env.node, "stream:quiet", 1, 1)
	publishN(t, env.node, "stream:fine", 1, 1)
	p := tc.waitPush("unsubscribe", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
	if p.Channel != "stream:quiet" || p.Unsubscribe.Code != UnsubscribeCodeInsufficientState {
		t.Fatalf("push %v", p)
	}
	// bob got his publication: the same checks leave him subscribed.
	if got := other.pubs("stream:fine"); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("bob's publications %v", got)
	}
	for _, r := range other.tr.allReplies() {
		if r.Push != nil && r.Push.Unsubscribe != nil {
			t.Fatalf("up-to-date subscriber unsubscribed: %v", r.Push)
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	env := newHubEnv(t)
	tc := env.connectUser(t, "alice")
	tc.ok(subCmd("news"))
	tc.ok(subCmd("public:x"))
	tc.ok(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "news"}})
	tc.ok(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "never-subscribed"}})
	publishN(t, env.node, "news", 1, 1)
	publishN(t, env.node, "public:x", 1, 1)
	if p := tc.nextPush(); p.Channel != "public:x" {
		t.Fatalf("push after unsubscribe %v", p)
	}
	if n := env.node.NumSubscriptions(); n != 1 {
		t.Fatalf("subscriptions %d", n)
	}
	if got := tc.disconnectCode(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{}}); got != int(DisconnectBadRequest.Code) {
		t.Fatalf("close %d", got)
	}
}

func TestJoinLeave(t *testing.T) {
	env := newHubEnv(t)
	alice := env.connectUser(t, "alice")
	alice.ok(subCmd("jl:room"))
	if p := alice.nextPush(); p.Join == nil || p.Join.Info.GetUser() != "alice" {
		t.Fatalf("own join %v", p)
	}
	bob := env.connectUser(t, "bob")
	bob.ok(subCmd("jl:room"))
	if p := alice.nextPush(); p.Join == nil || p.Join.Info.GetUser() != "bob" {
		t.Fatalf("bob's join %v", p)
	}
	st, err := env.node.PresenceStats(t.Context(), "jl:room")
	if err != nil || st.NumClients != 2 || st.NumUsers != 2 {
		t.Fatalf("presence stats %v %v", st, err)
	}
	bob.ok(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "jl:room"}})
	if p := alice.nextPush(); p.Leave == nil || p.Leave.Info.GetUser() != "bob" {
		t.Fatalf("bob's leave %v", p)
	}
	bob.ok(subCmd("jl:room"))
	alice.waitPush("bob's second join", func(p *clientpb.Push) bool { return p.Join != nil })
	bob.c.HandleClose()
	if p := alice.nextPush(); p.Leave == nil || p.Leave.Info.GetUser() != "bob" {
		t.Fatalf("leave on close %v", p)
	}
	p, err := env.node.Presence(t.Context(), "jl:room")
	if err != nil || len(p) != 1 || p[alice.c.ID()] == nil {
		t.Fatalf("presence after bob left: %v %v", p, err)
	}
}

// A close that races a subscribe leaves nothing behind: no hub entry, no
// broker subscription, no presence.
func TestCloseRacingSubscribe(t *testing.T) {
	env := newHubEnv(t)
	for i := 0; i < 100; i++ {
		tc := env.connectUser(t, "alice")
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			tc.c.HandleFrame(encodeFrame(protocol.TypeProtobuf,
				&clientpb.Command{Id: 10, Subscribe: &clientpb.SubscribeRequest{Channel: "jl:race"}},
				&clientpb.Command{Id: 11, Subscribe: &clientpb.SubscribeRequest{Channel: "stream:race", Recoverable: true}},
			))
		}()
		go func() { defer wg.Done(); tc.c.HandleClose() }()
		wg.Wait()
	}
	eventually(t, "hub empty", func() bool {
		return env.node.NumClients() == 0 && env.node.NumSubscriptions() == 0 && env.node.NumChannels() == 0
	})
	if p, err := env.node.Presence(t.Context(), "jl:race"); err != nil || len(p) != 0 {
		t.Fatalf("presence of closed clients: %d entries, %v", len(p), err)
	}
}

func TestSubRefresh(t *testing.T) {
	env := newHubEnv(t)
	tok := func(t *testing.T, ch string, extra map[string]any) string {
		return subToken(t, "alice", ch, time.Hour, extra)
	}
	subscribed := func(t *testing.T) *testClient {
		tc := env.connectUser(t, "alice")
		t.Cleanup(tc.c.HandleClose)
		tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "$p", Token: tok(t, "$p", nil)}})
		return tc
	}
	ref := func(ch, token string) *clientpb.Command {
		return &clientpb.Command{SubRefresh: &clientpb.SubRefreshRequest{Channel: ch, Token: token}}
	}
	t.Run("prolonged", func(t *testing.T) {
		tc := subscribed(t)
		r := tc.ok(ref("$p", tok(t, "$p", map[string]any{"info": map[string]any{"v": 2}})))
		if !r.SubRefresh.Expires || r.SubRefresh.Ttl < 3590 {
			t.Fatalf("sub refresh %v", r.SubRefresh)
		}
		if _, info := tc.c.subscribed("$p"); string(info) != `{"v":2}` {
			t.Fatalf("info %s", info)
		}
		r = tc.ok(ref("$p", subToken(t, "alice", "$p", 0, nil)))
		if r.SubRefresh.Expires {
			t.Fatalf("token without exp still expires: %v", r.SubRefresh)
		}
	})
	for _, tt := range []struct {
		name      string
		cmd       func(t *testing.T) *clientpb.Command
		wantErr   uint32
		wantClose int
	}{
		{"not subscribed", func(t *testing.T) *clientpb.Command { return ref("$q", tok(t, "$q", nil)) }, ErrorPermissionDenied.Code, 0},
		{"no channel", func(t *testing.T) *clientpb.Command { return ref("", "x") }, 0, int(DisconnectBadRequest.Code)},
		{"no token", func(*testing.T) *clientpb.Command { return ref("$p", "") }, ErrorBadRequest.Code, 0},
		{"other channel", func(t *testing.T) *clientpb.Command { return ref("$p", tok(t, "$q", nil)) }, 0, int(DisconnectInvalidToken.Code)},
		{"expired", func(t *testing.T) *clientpb.Command {
			return ref("$p", tok(t, "$p", map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))
		}, ErrorTokenExpired.Code, 0},
		{"expire_at passed", func(t *testing.T) *clientpb.Command {
			return ref("$p", tok(t, "$p", map[string]any{"expire_at": time.Now().Add(-time.Minute).Unix()}))
		}, ErrorExpired.Code, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := subscribed(t)
			if tt.wantClose != 0 {
				if got := tc.disconnectCode(tt.cmd(t)); got != tt.wantClose {
					t.Fatalf("close %d", got)
				}
				return
			}
			if got := tc.errCode(tt.cmd(t)); got != tt.wantErr {
				t.Fatalf("error %d, want %d", got, tt.wantErr)
			}
		})
	}
	t.Run("proxied namespace", func(t *testing.T) {
		env.backend.set(func(b *fakeBackend) {
			b.subscribe = func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
				return &proxypb.SubscribeResponse{}, nil
			}
		})
		tc := env.connectUser(t, "alice")
		tc.ok(subCmd("proxied:r"))
		if got := tc.disconnectCode(ref("proxied:r", tok(t, "proxied:r", nil))); got != int(DisconnectBadRequest.Code) {
			t.Fatalf("close %d", got)
		}
	})
}

// Subscriptions with an expiry end when it passes without a refresh: a
// client-side one with an unsubscribe push (2501), a server-side one by
// closing the connection (3006). A sub_refresh proxy is asked instead.
func TestSubscriptionExpiry(t *testing.T) {
	t.Parallel()
	fastTicks := func(c *Config, _ *Proxy) { c.Client.PresenceUpdateInterval = 20 * time.Millisecond }
	t.Run("client-side", func(t *testing.T) {
		t.Parallel()
		env := newHubEnv(t, fastTicks)
		tc := env.connectUser(t, "alice")
		tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "$e", Token: subToken(t, "alice", "$e", time.Second, nil)}})
		p := tc.waitPush("unsubscribe", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
		if p.Channel != "$e" || p.Unsubscribe.Code != UnsubscribeCodeExpired {
			t.Fatalf("push %v", p)
		}
	})
	t.Run("server-side", func(t *testing.T) {
		t.Parallel()
		env := newHubEnv(t, fastTicks)
		tc := env.connectUser(t, "alice")
		if err := env.node.Subscribe(t.Context(), "alice", "news", SubscribeOptions{ExpireAt: time.Now().Add(time.Second).Unix()}); err != nil {
			t.Fatal(err)
		}
		if got := tc.tr.waitClosed(t); got != int(DisconnectSubExpired.Code) {
			t.Fatalf("close %d", got)
		}
	})
	for _, tt := range []struct {
		name         string
		answer       func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error)
		unsubscribed bool
	}{
		{"proxy prolongs", func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{ExpireAt: time.Now().Add(time.Hour).Unix(), Info: []byte(`{"r":2}`)}}, nil
		}, false},
		{"proxy expires", func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{Expired: true}}, nil
		}, true},
		{"proxy gives a past expiry", func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{ExpireAt: 1}}, nil
		}, true},
		{"proxy down", func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			return nil, errors.New("unreachable")
		}, false},
		{"proxy answers bad info", func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
			return &proxypb.SubRefreshResponse{Result: &proxypb.SubRefreshResult{B64Info: "!!"}}, nil
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newHubEnv(t, fastTicks)
			env.backend.set(func(b *fakeBackend) {
				b.subscribe = func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
					return &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{ExpireAt: time.Now().Add(time.Second).Unix()}}, nil
				}
				b.subRefresh = tt.answer
			})
			tc := env.connectUser(t, "alice")
			res := tc.ok(subCmd("proxied:exp")).Subscribe
			if res.Expires {
				t.Fatalf("client told to refresh a proxy-refreshed subscription: %v", res)
			}
			if tt.unsubscribed {
				p := tc.waitPush("unsubscribe", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
				if p.Unsubscribe.Code != UnsubscribeCodeExpired {
					t.Fatalf("push %v", p)
				}
				return
			}
			eventually(t, "sub refresh call", func() bool { return len(requests[*proxypb.SubRefreshRequest](env.backend)) > 0 })
			if r := requests[*proxypb.SubRefreshRequest](env.backend)[0]; r.Channel != "proxied:exp" || r.User != "alice" {
				t.Fatalf("sub refresh request %v", r)
			}
			publishN(t, env.node, "proxied:exp", 1, 1)
			if p := tc.nextPush(); p.Pub == nil {
				t.Fatalf("still subscribed? got %v", p)
			}
		})
	}
}

// A sub_refresh that lands while the server unsubscribes the channel must
// not race with the leave announcement reading the channel info. The
// refresh holds the subscription while its token is verified; the server
// unsubscribe removes it meanwhile; the refresh then writes its info.
func TestSubRefreshRacingServerUnsubscribe(t *testing.T) {
	env := newHubEnv(t)
	const ch = "$jl:room"
	tc := env.connectUser(t, "alice")
	tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Token: subToken(t, "alice", ch, time.Hour, nil)}})
	verifying, release := make(chan struct{}), make(chan struct{})
	s := env.node.settings()
	env.setVerifiers(t, s.tokens, &hookVerifier{TokenVerifier: s.subTok, before: func() { close(verifying); <-release }})
	done := make(chan struct{})
	go func() {
		defer close(done)
		refresh := subToken(t, "alice", ch, time.Hour, map[string]any{"info": map[string]any{"new": true}})
		tc.c.HandleFrame(encodeFrame(protocol.TypeProtobuf, &clientpb.Command{Id: 50, SubRefresh: &clientpb.SubRefreshRequest{Channel: ch, Token: refresh}}))
	}()
	<-verifying
	// The unsubscribe stalls between its last lock and its reading of
	// the channel info for the leave; the refresh writes meanwhile. The
	// stall is a sleep on purpose: any synchronisation with the test
	// would order the two accesses and hide a missing lock from -race.
	stalled := make(chan struct{})
	var once sync.Once
	env.engine.setHooks(func(h *hookEngine) {
		h.beforeRemovePresence = func(string) {
			once.Do(func() { close(stalled); time.Sleep(50 * time.Millisecond) })
		}
	})
	go tc.c.serverUnsubscribe(ch, UnsubscribeCodeServer, "server unsubscribe")
	<-stalled
	close(release)
	<-done
	tc.waitPush("unsubscribe", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
	tc.reply(50)
}

// hookVerifier runs before ahead of every subscription token check.
type hookVerifier struct {
	TokenVerifier
	before func()
}

func (h *hookVerifier) VerifySubscribeToken(ctx context.Context, token string) (auth.SubscribeToken, error) {
	h.before()
	return h.TokenVerifier.VerifySubscribeToken(ctx, token)
}
