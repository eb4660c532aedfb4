package node

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// permCase is one permission rule of publish, presence or history: who
// asks (user, "-" anonymous), on which channel, subscribed first or not.
type permCase struct {
	name      string
	user      string
	subscribe bool
	insecure  bool
	ch        string
	wantErr   uint32
	wantClose int
}

// runPermCases connects and (optionally) subscribes the case's client,
// then checks the reply to cmd(ch).
func runPermCases(t *testing.T, cases []permCase, cmd func(ch string) *clientpb.Command, check func(t *testing.T, tc *testClient, r *clientpb.Reply)) {
	env := newHubEnv(t, allowAnonymous)
	insecure := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.Insecure = true })
	for _, tt := range cases {
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
			if tt.subscribe {
				tc.ok(subCmd(tt.ch))
			}
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd(tt.ch)); got != tt.wantClose {
					t.Fatalf("close %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				if got := tc.errCode(cmd(tt.ch)); got != tt.wantErr {
					t.Fatalf("error %d, want %d", got, tt.wantErr)
				}
			default:
				check(t, tc, tc.ok(cmd(tt.ch)))
			}
		})
	}
}

func TestPublish(t *testing.T) {
	cases := []permCase{
		{name: "subscriber", user: "alice", subscribe: true, ch: "news"},
		{name: "not subscribed", user: "alice", ch: "news", wantErr: ErrorPermissionDenied.Code},
		{name: "any client", user: "alice", ch: "public:x"},
		{name: "anonymous where allowed", user: "-", ch: "public:x"},
		{name: "closed", user: "alice", ch: "closed:x", wantErr: ErrorPermissionDenied.Code},
		{name: "closed insecure", user: "alice", insecure: true, ch: "closed:x"},
		{name: "unknown namespace", user: "alice", ch: "nope:x", wantErr: ErrorUnknownChannel.Code},
		{name: "no channel", user: "alice", ch: "", wantClose: int(DisconnectBadRequest.Code)},
		{name: "proxy switch without backend", user: "alice", ch: "unproxied:x", wantErr: ErrorNotAvailable.Code},
	}
	runPermCases(t, cases, func(ch string) *clientpb.Command { return pubCmd(ch, `{"n":1}`) },
		func(t *testing.T, tc *testClient, r *clientpb.Reply) {
			if r.Publish == nil {
				t.Fatalf("reply %v", r)
			}
			// Publishing is not subscribing: only subscribers get it back.
			for _, rr := range tc.tr.allReplies() {
				if rr.Push != nil && rr.Push.Pub != nil {
					if ok, _ := tc.c.subscribed(rr.Push.Channel); !ok {
						t.Fatalf("publication pushed to a non-subscriber: %v", rr.Push)
					}
				}
			}
		})
}

func TestPublishDelivery(t *testing.T) {
	env := newHubEnv(t)
	alice := env.connect(t, connToken(t, "alice", 0, map[string]any{"info": map[string]any{"name": "A"}}))
	alice.ok(subCmd("news"))
	alice.ok(pubCmd("news", `{"text":"hi"}`))
	p := alice.nextPush()
	if p.Channel != "news" || string(p.Pub.GetData()) != `{"text":"hi"}` || p.Pub.Offset != 1 ||
		p.Pub.Info.GetUser() != "alice" || p.Pub.Info.GetClient() != alice.c.ID() || string(p.Pub.Info.GetConnInfo()) != `{"name":"A"}` {
		t.Fatalf("push %v", p)
	}
	pubs, top, err := env.node.History(t.Context(), "news", nil, -1, false)
	if err != nil || len(pubs) != 1 || top.Offset != 1 {
		t.Fatalf("history after publish %v %v %v", pubs, top, err)
	}

	t.Run("engine down", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		tc.ok(subCmd("public:x"))
		_ = env.engine.Engine.Close(t.Context())
		r := tc.call(pubCmd("public:x", `1`))
		if r.Error == nil || r.Error.Code != ErrorInternal.Code || !r.Error.Temporary {
			t.Fatalf("reply %v", r)
		}
	})
}

// A JSON client cannot receive a publication that is not JSON: it is
// disconnected with 3506 rather than sent a broken frame.
func TestBinaryPublicationToJSONClient(t *testing.T) {
	env := newHubEnv(t)
	js := env.newClient(t, protocol.TypeJSON)
	js.ok(connectCmd(connToken(t, "alice", 0, nil)))
	js.ok(subCmd("public:bin"))
	pb := env.connectUser(t, "bob")
	pb.ok(subCmd("public:bin"))
	pb.ok(pubCmd("public:bin", "\x00\x01 not json"))
	if p := pb.nextPush(); string(p.Pub.GetData()) != "\x00\x01 not json" {
		t.Fatalf("protobuf subscriber got %v", p)
	}
	if got := js.tr.waitClosed(t); got != int(DisconnectInappropriateProtocol.Code) {
		t.Fatalf("close %d", got)
	}
}

func TestPublishViaProxy(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error)
		binary    bool
		json      bool // the publisher uses the JSON format
		wantErr   uint32
		wantClose int
		wantData  string
		inHistory bool
	}{
		{name: "as sent", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{}, nil
		}, wantData: `{"orig":1}`, inHistory: true},
		{name: "rewritten", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: []byte(`{"new":1}`)}}, nil
		}, wantData: `{"new":1}`, inHistory: true},
		{name: "rewritten base64, skip history", binary: true, answer: func(r *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			if r.B64Data == "" {
				return nil, errors.New("binary proxy got no b64data")
			}
			return &proxypb.PublishResponse{Result: &proxypb.PublishResult{B64Data: "eyJiIjoxfQ==", SkipHistory: true}}, nil
		}, wantData: `{"b":1}`},
		{name: "bad base64", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{Result: &proxypb.PublishResult{B64Data: "!!"}}, nil
		}, wantErr: ErrorInternal.Code},
		// A rewrite a JSON subscriber could not decode would close every one
		// of them: the publisher's call fails instead.
		{name: "rewritten to non-JSON bytes", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: []byte{'{', 0xff}}}, nil
		}, json: true, wantErr: ErrorInternal.Code},
		{name: "deny", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{Error: &proxypb.Error{Code: 1000, Message: "moderated"}}, nil
		}, wantErr: 1000},
		{name: "disconnect", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return &proxypb.PublishResponse{Disconnect: &proxypb.Disconnect{Code: 4600, Reason: "spam"}}, nil
		}, wantClose: 4600},
		{name: "backend error", answer: func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
			return nil, errors.New("boom")
		}, wantErr: ErrorInternal.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newHubEnv(t, func(_ *Config, p *Proxy) { p.BinaryEncoding = tt.binary })
			env.backend.set(func(b *fakeBackend) {
				b.publish = tt.answer
				b.subscribe = func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
					return &proxypb.SubscribeResponse{}, nil
				}
			})
			sub := env.connectUser(t, "bob")
			sub.ok(subCmd("proxied:room"))
			tc := env.connectUser(t, "alice")
			if tt.json {
				tc = env.newClient(t, protocol.TypeJSON)
				tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
			}
			cmd := pubCmd("proxied:room", `{"orig":1}`)
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d", got)
				}
				return
			case tt.wantErr != 0:
				if got := tc.errCode(cmd); got != tt.wantErr {
					t.Fatalf("error %d", got)
				}
				return
			}
			tc.ok(cmd)
			if p := sub.nextPush(); string(p.Pub.GetData()) != tt.wantData {
				t.Fatalf("subscriber got %v, want %s", p, tt.wantData)
			}
			pubs, _, err := env.node.History(t.Context(), "proxied:room", nil, -1, false)
			if err != nil || (len(pubs) == 1) != tt.inHistory {
				t.Fatalf("history %v %v, want in history %v", pubs, err, tt.inHistory)
			}
			if r := requests[*proxypb.PublishRequest](env.backend); len(r) != 1 || r[0].User != "alice" || r[0].Channel != "proxied:room" {
				t.Fatalf("publish proxy requests %v", r)
			}
		})
	}
}

func TestPresence(t *testing.T) {
	cases := []permCase{
		{name: "subscriber", user: "alice", subscribe: true, ch: "news"},
		{name: "not subscribed", user: "alice", ch: "news", wantErr: ErrorPermissionDenied.Code},
		{name: "anonymous where allowed", user: "-", ch: "public:p"},
		{name: "presence off", user: "alice", ch: "closed:x", wantErr: ErrorNotAvailable.Code},
		{name: "presence off insecure", user: "alice", insecure: true, ch: "closed:x", wantErr: ErrorNotAvailable.Code},
		{name: "insecure", user: "alice", insecure: true, ch: "news"},
		{name: "unknown namespace", user: "alice", ch: "nope:x", wantErr: ErrorUnknownChannel.Code},
		{name: "no channel", user: "alice", ch: "", wantClose: int(DisconnectBadRequest.Code)},
	}
	t.Run("presence", func(t *testing.T) {
		runPermCases(t, cases, func(ch string) *clientpb.Command {
			return &clientpb.Command{Presence: &clientpb.PresenceRequest{Channel: ch}}
		}, func(t *testing.T, tc *testClient, r *clientpb.Reply) {
			if r.Presence == nil {
				t.Fatalf("reply %v", r)
			}
			if ok, _ := tc.c.subscribed("news"); ok {
				if got := r.Presence.Presence[tc.c.ID()]; got.GetUser() != tc.c.User() || got.GetClient() != tc.c.ID() {
					t.Fatalf("presence %v lacks the subscriber", r.Presence)
				}
			}
		})
	})
	t.Run("stats", func(t *testing.T) {
		runPermCases(t, cases, func(ch string) *clientpb.Command {
			return &clientpb.Command{PresenceStats: &clientpb.PresenceStatsRequest{Channel: ch}}
		}, func(t *testing.T, tc *testClient, r *clientpb.Reply) {
			if r.PresenceStats == nil {
				t.Fatalf("reply %v", r)
			}
			if ok, _ := tc.c.subscribed("news"); ok && (r.PresenceStats.NumClients != 1 || r.PresenceStats.NumUsers != 1) {
				t.Fatalf("stats %v", r.PresenceStats)
			}
		})
	})
}

func TestHistoryPermissions(t *testing.T) {
	runPermCases(t, []permCase{
		{name: "subscriber", user: "alice", subscribe: true, ch: "news"},
		{name: "not subscribed", user: "alice", ch: "news", wantErr: ErrorPermissionDenied.Code},
		{name: "anonymous where allowed", user: "-", ch: "public:h"},
		{name: "history off", user: "alice", ch: "nohistory:x", wantErr: ErrorNotAvailable.Code},
		{name: "insecure", user: "alice", insecure: true, ch: "news"},
		{name: "unknown namespace", user: "alice", ch: "nope:x", wantErr: ErrorUnknownChannel.Code},
		{name: "no channel", user: "alice", ch: "", wantClose: int(DisconnectBadRequest.Code)},
	}, func(ch string) *clientpb.Command {
		return &clientpb.Command{History: &clientpb.HistoryRequest{Channel: ch}}
	}, func(t *testing.T, _ *testClient, r *clientpb.Reply) {
		if r.History == nil || r.History.Epoch == "" {
			t.Fatalf("reply %v", r)
		}
	})
}

func TestHistory(t *testing.T) {
	env := newHubEnv(t)
	top := publishN(t, env.node, "public:h", 1, 30)
	tc := env.connectUser(t, "alice")
	hist := func(req *clientpb.HistoryRequest) *clientpb.Reply {
		req.Channel = "public:h"
		return tc.call(&clientpb.Command{History: req})
	}
	data := func(r *clientpb.Reply) []string {
		var out []string
		for _, p := range r.History.Publications {
			out = append(out, string(p.Data))
		}
		return out
	}
	tests := []struct {
		name string
		req  *clientpb.HistoryRequest
		want []string
	}{
		{"position only", &clientpb.HistoryRequest{}, nil},
		{"limit", &clientpb.HistoryRequest{Limit: 2}, []string{"1", "2"}},
		{"over the client maximum", &clientpb.HistoryRequest{Limit: 1000}, nums(1, 20)},
		{"all is capped too", &clientpb.HistoryRequest{Limit: -1}, nums(1, 20)},
		{"since", &clientpb.HistoryRequest{Limit: 3, Since: &clientpb.StreamPosition{Offset: 27, Epoch: top.Epoch}}, []string{"28", "29", "30"}},
		{"reverse", &clientpb.HistoryRequest{Limit: 2, Reverse: true}, []string{"30", "29"}},
		{"reverse since", &clientpb.HistoryRequest{Limit: 2, Reverse: true, Since: &clientpb.StreamPosition{Offset: 3, Epoch: top.Epoch}}, []string{"2", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hist(tt.req)
			if r.Error != nil || r.History.Offset != 30 || r.History.Epoch != top.Epoch || !slices.Equal(data(r), tt.want) {
				t.Fatalf("history %v, want %v", r, tt.want)
			}
		})
	}
	t.Run("reverse since zero", func(t *testing.T) {
		if r := hist(&clientpb.HistoryRequest{Reverse: true, Since: &clientpb.StreamPosition{Offset: 0}}); r.GetError().GetCode() != ErrorBadRequest.Code {
			t.Fatalf("reply %v", r)
		}
	})
	t.Run("since another epoch", func(t *testing.T) {
		if r := hist(&clientpb.HistoryRequest{Since: &clientpb.StreamPosition{Offset: 1, Epoch: "old"}}); r.GetError().GetCode() != ErrorUnrecoverablePosition.Code {
			t.Fatalf("reply %v", r)
		}
	})
}

func nums(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestRPC(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*Config, *Proxy)
		method    string
		answer    func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error)
		wantErr   uint32
		wantClose int
		wantData  string
	}{
		{name: "ping", method: "ping"},
		{name: "ping off goes to the proxy", mutate: func(c *Config, _ *Proxy) { c.RPC.Ping = false }, method: "ping",
			answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
				return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`"pong"`)}}, nil
			}, wantData: `"pong"`},
		{name: "namespace", method: "app:sum", answer: func(r *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			if r.Method != "app:sum" || string(r.Data) != `[1,2]` || r.User != "alice" {
				return nil, errors.New("unexpected request")
			}
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`3`)}}, nil
		}, wantData: `3`},
		{name: "default proxy", method: "plain", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{B64Data: "WzFd"}}, nil
		}, wantData: `[1]`},
		{name: "empty result", method: "plain", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{}, nil
		}},
		{name: "unknown namespace", method: "other:x", wantErr: ErrorMethodNotFound.Code},
		{name: "namespace without proxy", method: "dead:x", wantErr: ErrorNotAvailable.Code},
		{name: "no default proxy", mutate: func(c *Config, _ *Proxy) { c.RPCProxy = nil }, method: "plain", wantErr: ErrorNotAvailable.Code},
		{name: "custom boundary", mutate: func(c *Config, _ *Proxy) { c.RPC.NamespaceBoundary = "." }, method: "app.sum",
			answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
				return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte(`1`)}}, nil
			}, wantData: `1`},
		{name: "application error", method: "app:x", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Error: &proxypb.Error{Code: 1500, Message: "nope"}}, nil
		}, wantErr: 1500},
		{name: "disconnect", method: "app:x", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Disconnect: &proxypb.Disconnect{Code: 4700, Reason: "bye"}}, nil
		}, wantClose: 4700},
		{name: "bad base64", method: "app:x", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{B64Data: "!!"}}, nil
		}, wantErr: ErrorInternal.Code},
		{name: "backend error", method: "app:x", answer: func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return nil, errors.New("down")
		}, wantErr: ErrorInternal.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m []func(*Config, *Proxy)
			if tt.mutate != nil {
				m = append(m, tt.mutate)
			}
			env := newHubEnv(t, m...)
			env.backend.set(func(b *fakeBackend) { b.rpc = tt.answer })
			tc := env.connectUser(t, "alice")
			cmd := rpcCmd(tt.method, `[1,2]`)
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
				r := tc.ok(cmd)
				if r.Rpc == nil || string(r.Rpc.Data) != tt.wantData {
					t.Fatalf("rpc reply %v, want data %s", r, tt.wantData)
				}
			}
		})
	}
}

// A client that stops reading is disconnected as slow (3008) once its
// queue is over the limit, instead of holding memory or fan-out.
func TestSlowClientDisconnected(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.QueueMaxSize = 4 << 10 })
	slow := env.connectUser(t, "alice")
	slow.ok(subCmd("public:fire"))
	release := slow.tr.blockWrites()
	defer release()
	payload := `"` + strings.Repeat("x", 200) + `"`
	for i := 0; i < 100; i++ {
		if _, err := env.node.Publish(t.Context(), "public:fire", []byte(payload), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "slow client dropped from the hub", func() bool { return env.node.NumClients() == 0 })
	release()
	if got := slow.tr.waitClosed(t); got != int(DisconnectSlow.Code) {
		t.Fatalf("close %d", got)
	}
	// What was queued before the overflow is still delivered, then the
	// close frame; nothing after it.
	if n := len(slow.pubs("public:fire")); n == 0 || n >= 100 {
		t.Fatalf("slow client got %d of 100 publications", n)
	}
}

func TestWriteErrorClosesConnection(t *testing.T) {
	env := newHubEnv(t)
	tc := env.connectUser(t, "alice")
	tc.ok(subCmd("public:w"))
	tc.tr.failWrites(errors.New("broken pipe"))
	publishN(t, env.node, "public:w", 1, 1)
	if got := tc.tr.waitClosed(t); got != int(DisconnectWriteError.Code) {
		t.Fatalf("close %d", got)
	}
	eventually(t, "client gone", func() bool { return env.node.NumClients() == 0 && env.node.NumSubscriptions() == 0 })
}

// A backend answer a JSON client cannot read (binary RPC result) fails
// that one call with error 100 and leaves the connection open; a Protobuf
// client gets the bytes as they are.
func TestBinaryReplyToJSONClient(t *testing.T) {
	env := newHubEnv(t)
	env.backend.set(func(b *fakeBackend) {
		b.rpc = func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
			return &proxypb.RPCResponse{Result: &proxypb.RPCResult{Data: []byte{0xff, 0x00}}}, nil
		}
	})
	tc := env.newClient(t, protocol.TypeJSON)
	tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
	// Twice: the first failure left the connection open.
	for i := 0; i < 2; i++ {
		if code := tc.errCode(&clientpb.Command{Rpc: &clientpb.RPCRequest{Method: "app:bin"}}); code != 100 {
			t.Fatalf("binary reply to a JSON client, call %d: error %d, want 100", i, code)
		}
	}
	pb := env.newClient(t, protocol.TypeProtobuf)
	pb.ok(connectCmd(connToken(t, "bob", 0, nil)))
	r := pb.ok(&clientpb.Command{Rpc: &clientpb.RPCRequest{Method: "app:bin"}})
	if !bytes.Equal(r.GetRpc().GetData(), []byte{0xff, 0x00}) {
		t.Fatalf("protobuf client rpc data %x", r.GetRpc().GetData())
	}
}
