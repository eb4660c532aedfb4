package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func connectCmd(token string) *clientpb.Command {
	return &clientpb.Command{Connect: &clientpb.ConnectRequest{Token: token}}
}

func signWith(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

// TestConnectToken covers every answer to a connect that carries a
// connection token: the reply a client gets, or the close code.
func TestConnectToken(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name      string
		mutate    func(*Config, *Proxy)
		token     func(t *testing.T) string
		wantErr   uint32 // error reply code
		wantClose int    // close code
		check     func(t *testing.T, tc *testClient, res *clientpb.ConnectResult)
	}{
		{name: "valid", token: func(t *testing.T) string { return connToken(t, "alice", 0, nil) },
			check: func(t *testing.T, tc *testClient, res *clientpb.ConnectResult) {
				if res.Client != tc.c.ID() || res.Version != Version || res.Expires || res.Ping != 0 {
					t.Fatalf("connect result %v", res)
				}
				if tc.c.User() != "alice" {
					t.Fatalf("user %q", tc.c.User())
				}
			}},
		{name: "expiring", token: func(t *testing.T) string { return connToken(t, "alice", time.Hour, nil) },
			check: func(t *testing.T, _ *testClient, res *clientpb.ConnectResult) {
				if !res.Expires || res.Ttl < 3590 || res.Ttl > 3600 {
					t.Fatalf("want expires with ttl ~3600, got %v", res)
				}
			}},
		// exp 2^33 s from now used to wrap the 32-bit ttl to a few seconds,
		// sending the client into a refresh loop.
		{name: "expiry beyond 32 bits of ttl", token: func(t *testing.T) string {
			return connToken(t, "alice", 0, map[string]any{"exp": time.Now().Unix() + 1<<33})
		},
			check: func(t *testing.T, _ *testClient, res *clientpb.ConnectResult) {
				if !res.Expires || res.Ttl != math.MaxUint32 {
					t.Fatalf("want expires with the ttl clamped to %d, got %v", uint32(math.MaxUint32), res)
				}
			}},
		{name: "insecure ignores expiry", mutate: func(c *Config, _ *Proxy) { c.Client.Insecure = true },
			token: func(t *testing.T) string { return connToken(t, "alice", time.Hour, nil) },
			check: func(t *testing.T, _ *testClient, res *clientpb.ConnectResult) {
				if res.Expires {
					t.Fatalf("insecure connection expires: %v", res)
				}
			}},
		{name: "server time", mutate: func(c *Config, _ *Proxy) { c.Client.ConnectIncludeServerTime = true },
			token: func(t *testing.T) string { return connToken(t, "alice", 0, nil) },
			check: func(t *testing.T, _ *testClient, res *clientpb.ConnectResult) {
				if d := time.Since(time.UnixMilli(res.Time)); d < 0 || d > time.Minute {
					t.Fatalf("server time %d is off by %s", res.Time, d)
				}
			}},
		{name: "ping advertised", mutate: func(c *Config, _ *Proxy) { c.Client.PingInterval = 25 * time.Second },
			token: func(t *testing.T) string { return connToken(t, "alice", 0, nil) },
			check: func(t *testing.T, _ *testClient, res *clientpb.ConnectResult) {
				if res.Ping != 25 || !res.Pong {
					t.Fatalf("ping/pong not advertised: %v", res)
				}
			}},
		{name: "exp passed", token: func(t *testing.T) string {
			return connToken(t, "alice", 0, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
		}, wantErr: ErrorTokenExpired.Code},
		{name: "expire_at passed", token: func(t *testing.T) string {
			return connToken(t, "alice", 0, map[string]any{"expire_at": time.Now().Add(-time.Minute).Unix()})
		}, wantErr: ErrorExpired.Code},
		{name: "bad signature", token: func(t *testing.T) string {
			return signWith(t, jwt.SigningMethodHS256, []byte("other secret"), jwt.MapClaims{"sub": "alice"})
		}, wantClose: int(DisconnectInvalidToken.Code)},
		{name: "alg none", token: func(t *testing.T) string {
			return signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "alice"})
		}, wantClose: int(DisconnectInvalidToken.Code)},
		{name: "alg without key", token: func(t *testing.T) string {
			return signWith(t, jwt.SigningMethodES256, ecKey, jwt.MapClaims{"sub": "alice", "exp": future})
		}, wantClose: int(DisconnectInvalidToken.Code)},
		{name: "subscription token", token: func(t *testing.T) string {
			return signWith(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "alice", "channel": "news"})
		}, wantClose: int(DisconnectInvalidToken.Code)},
		{name: "not a jwt", token: func(*testing.T) string { return "garbage" }, wantClose: int(DisconnectInvalidToken.Code)},
		{name: "anonymous token allowed", token: func(t *testing.T) string { return connToken(t, "", 0, nil) },
			check: func(t *testing.T, tc *testClient, _ *clientpb.ConnectResult) {
				if tc.c.User() != "" {
					t.Fatalf("user %q", tc.c.User())
				}
			}},
		{name: "anonymous token refused",
			mutate: func(c *Config, _ *Proxy) { c.Client.DisallowAnonymousConnectionTokens = true },
			token:  func(t *testing.T) string { return connToken(t, "", 0, nil) }, wantClose: int(DisconnectPermissionDenied.Code)},
		{name: "token data", token: func(t *testing.T) string {
			return connToken(t, "alice", 0, map[string]any{"info": map[string]any{"name": "Alice"}})
		}, check: func(t *testing.T, tc *testClient, _ *clientpb.ConnectResult) {
			if got := string(tc.c.clientInfo(nil).ConnInfo); got != `{"name":"Alice"}` {
				t.Fatalf("conn info %s", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*Config, *Proxy)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			env := newHubEnv(t, mutate...)
			tc := env.newClient(t, protocol.TypeProtobuf)
			cmd := connectCmd(tt.token(t))
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close code %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				if got := tc.errCode(cmd); got != tt.wantErr {
					t.Fatalf("error %d, want %d", got, tt.wantErr)
				}
				// A failed connect leaves nothing to do but reconnect.
				if got := tc.disconnectCode(rpcCmd("ping", "")); got != int(DisconnectBadRequest.Code) {
					t.Fatalf("command after failed connect: close %d", got)
				}
			default:
				r := tc.ok(cmd)
				if r.Connect == nil {
					t.Fatalf("no connect result: %v", r)
				}
				tt.check(t, tc, r.Connect)
				if env.node.NumClients() != 1 {
					t.Fatalf("NumClients %d", env.node.NumClients())
				}
			}
		})
	}
}

func TestConnectWithoutVerifierClosesWithInvalidToken(t *testing.T) {
	env := newHubEnv(t)
	env.setVerifiers(t, nil, env.node.settings().subTok) // as with Options.ConnectTokens unset
	tc := env.newClient(t, protocol.TypeProtobuf)
	if got := tc.disconnectCode(connectCmd(connToken(t, "alice", 0, nil))); got != int(DisconnectInvalidToken.Code) {
		t.Fatalf("close %d", got)
	}
}

func TestConnectAnonymous(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*Config, *Proxy)
		ok     bool
	}{
		{"refused", nil, false},
		{"allowed", func(c *Config, _ *Proxy) { c.Client.AllowAnonymousConnectWithoutToken = true }, true},
		{"insecure", func(c *Config, _ *Proxy) { c.Client.Insecure = true }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m []func(*Config, *Proxy)
			if tt.mutate != nil {
				m = append(m, tt.mutate)
			}
			env := newHubEnv(t, m...)
			tc := env.newClient(t, protocol.TypeJSON)
			if !tt.ok {
				if got := tc.disconnectCode(connectCmd("")); got != int(DisconnectBadRequest.Code) {
					t.Fatalf("close %d", got)
				}
				return
			}
			r := tc.ok(connectCmd(""))
			if r.Connect.Client == "" || tc.c.User() != "" {
				t.Fatalf("anonymous connect %v user %q", r, tc.c.User())
			}
			// Anonymous clients may use what allows anonymous ...
			tc.ok(subCmd("public:lobby"))
			// ... and nothing else, unless insecure.
			r = tc.call(subCmd("news"))
			if tt.name == "insecure" && r.Error != nil || tt.name == "allowed" && r.GetError().GetCode() != ErrorPermissionDenied.Code {
				t.Fatalf("anonymous subscribe to news: %v", r)
			}
		})
	}
}

func withConnectProxy(c *Config, p *Proxy) { c.Connect = p }

func TestConnectViaProxy(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error)
		binary    bool
		wantErr   uint32
		wantClose int
		check     func(t *testing.T, tc *testClient, res *clientpb.ConnectResult)
	}{
		{name: "allow", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{
				User: "bob", Data: []byte(`{"welcome":true}`), Info: []byte(`{"n":1}`), Channels: []string{"news"},
			}}, nil
		}, check: func(t *testing.T, tc *testClient, res *clientpb.ConnectResult) {
			if tc.c.User() != "bob" || string(res.Data) != `{"welcome":true}` || res.Subs["news"] == nil {
				t.Fatalf("proxy connect result %v (user %q)", res, tc.c.User())
			}
			reqs := requests[*proxypb.ConnectRequest](tc.env.backend)
			if len(reqs) != 1 || reqs[0].Client != tc.c.ID() || reqs[0].Transport != "websocket" ||
				reqs[0].Protocol != "protobuf" || reqs[0].Encoding != "json" || string(reqs[0].Data) != `{"hi":1}` ||
				len(reqs[0].Channels) != 1 || reqs[0].Channels[0] != "news" || reqs[0].Name != "test-sdk" {
				t.Fatalf("proxy connect request %v", reqs)
			}
		}},
		{name: "binary", binary: true, answer: func(r *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			if r.B64Data == "" || r.Data != nil || r.Encoding != "binary" {
				return nil, errors.New("binary proxy got json request")
			}
			return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "bob", B64Data: "AQID", B64Info: "e30=",
				Subs: map[string]*proxypb.SubscribeOptions{"news": {B64Data: "BAU=", Override: &proxypb.SubscribeOptionOverride{Presence: &proxypb.BoolValue{Value: false}}}}}}, nil
		}, check: func(t *testing.T, tc *testClient, res *clientpb.ConnectResult) {
			if string(res.Data) != "\x01\x02\x03" || string(res.Subs["news"].GetData()) != "\x04\x05" {
				t.Fatalf("binary result %v", res)
			}
		}},
		{name: "bad base64", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "bob", B64Data: "!!"}}, nil
		}, wantErr: ErrorInternal.Code},
		{name: "bad base64 in subs", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "bob",
				Subs: map[string]*proxypb.SubscribeOptions{"news": {B64Info: "!!"}}}}, nil
		}, wantErr: ErrorInternal.Code},
		{name: "deny", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{Error: &proxypb.Error{Code: 1403, Message: "go away"}}, nil
		}, wantErr: 1403},
		{name: "disconnect", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "banned"}}, nil
		}, wantClose: 4501},
		{name: "backend error", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return nil, errors.New("connection refused")
		}, wantErr: ErrorInternal.Code},
		{name: "no credentials", answer: func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
			return &proxypb.ConnectResponse{}, nil
		}, wantClose: int(DisconnectBadRequest.Code)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newHubEnv(t, withConnectProxy, func(_ *Config, p *Proxy) { p.BinaryEncoding = tt.binary })
			env.backend.set(func(b *fakeBackend) { b.connect = tt.answer })
			tc := env.newClient(t, protocol.TypeProtobuf)
			cmd := &clientpb.Command{Connect: &clientpb.ConnectRequest{Name: "test-sdk", Data: []byte(`{"hi":1}`),
				Subs: map[string]*clientpb.SubscribeRequest{"news": {}}}}
			switch {
			case tt.wantClose != 0:
				if got := tc.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				r := tc.call(cmd)
				if r.Error == nil || r.Error.Code != tt.wantErr {
					t.Fatalf("reply %v, want error %d", r, tt.wantErr)
				}
				if tt.wantErr == ErrorInternal.Code && !r.Error.Temporary {
					t.Fatalf("backend failure not temporary: %v", r.Error)
				}
			default:
				tt.check(t, tc, tc.ok(cmd).Connect)
			}
		})
	}
}

// A token wins over the connect proxy: the backend is not asked.
func TestConnectTokenSkipsProxy(t *testing.T) {
	env := newHubEnv(t, withConnectProxy)
	env.connectUser(t, "alice")
	if n := len(requests[*proxypb.ConnectRequest](env.backend)); n != 0 {
		t.Fatalf("connect proxy called %d times for a token connect", n)
	}
}

func TestConnectLimits(t *testing.T) {
	t.Run("user connections", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.UserConnectionLimit = 2 })
		env.connectUser(t, "alice")
		env.connectUser(t, "alice")
		env.connectUser(t, "bob")
		tc := env.newClient(t, protocol.TypeProtobuf)
		if got := tc.disconnectCode(connectCmd(connToken(t, "alice", 0, nil))); got != int(DisconnectConnectionLimit.Code) {
			t.Fatalf("third connection of alice: close %d", got)
		}
		// Anonymous connections are not counted per user.
		env.connect(t, connToken(t, "", 0, nil))
		env.connect(t, connToken(t, "", 0, nil))
		env.connect(t, connToken(t, "", 0, nil))
	})
	t.Run("channels", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.ChannelLimit = 2 })
		tc := env.newClient(t, protocol.TypeProtobuf)
		tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"a", "b", "c"}})
		if got := tc.disconnectCode(connectCmd(tok)); got != int(DisconnectChannelLimit.Code) {
			t.Fatalf("close %d", got)
		}
		ok := env.connect(t, connToken(t, "alice", 0, map[string]any{"channels": []string{"a", "b"}}))
		if code := ok.errCode(subCmd("c")); code != ErrorLimitExceeded.Code {
			t.Fatalf("third subscription: %d", code)
		}
	})
}

func TestConnectServerSideSubscriptions(t *testing.T) {
	t.Run("channels and personal channel", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, _ *Proxy) {
			c.Client.SubscribeToUserPersonalChannel = true
			c.Client.PersonalChannelNamespace = "public"
		})
		tc := env.newClient(t, protocol.TypeJSON)
		tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"news", "news"}})
		r := tc.ok(connectCmd(tok))
		if len(r.Connect.Subs) != 2 || r.Connect.Subs["news"] == nil || r.Connect.Subs["public:#alice"] == nil {
			t.Fatalf("server-side subs %v", r.Connect.Subs)
		}
		if _, err := env.node.Publish(t.Context(), "public:#alice", []byte(`{"to":"alice"}`), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		if p := tc.nextPush(); p.Channel != "public:#alice" || string(p.Pub.GetData()) != `{"to":"alice"}` {
			t.Fatalf("push %v", p)
		}
		// A server-side subscription cannot be subscribed again.
		if code := tc.errCode(subCmd("news")); code != ErrorAlreadySubscribed.Code {
			t.Fatalf("resubscribe: %d", code)
		}
	})
	t.Run("subs with options", func(t *testing.T) {
		env := newHubEnv(t)
		tok := connToken(t, "alice", 0, map[string]any{
			"channels": []string{"ignored"},
			"subs": map[string]any{"jl:room": map[string]any{
				"data": map[string]any{"x": 1}, "info": map[string]any{"role": "admin"},
				"override": map[string]any{"presence": map[string]any{"value": false}},
			}},
		})
		tc := env.connect(t, tok)
		r := tc.c
		if ok, info := r.subscribed("jl:room"); !ok || string(info) != `{"role":"admin"}` {
			t.Fatalf("jl:room subscribed %v info %s", ok, info)
		}
		if ok, _ := r.subscribed("ignored"); ok {
			t.Fatal("channels claim used although subs is set")
		}
		p, err := env.node.Presence(t.Context(), "jl:room")
		if err != nil || len(p) != 0 {
			t.Fatalf("presence overridden off, got %v %v", p, err)
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.newClient(t, protocol.TypeProtobuf)
		tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"nope:x"}})
		if code := tc.errCode(connectCmd(tok)); code != ErrorUnknownChannel.Code {
			t.Fatalf("error %d", code)
		}
	})
	t.Run("broker failure", func(t *testing.T) {
		env := newHubEnv(t)
		env.engine.setHooks(func(h *hookEngine) { h.subscribeErr = errors.New("broker down") })
		tc := env.newClient(t, protocol.TypeProtobuf)
		tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"news"}})
		if got := tc.disconnectCode(connectCmd(tok)); got != int(DisconnectServerError.Code) {
			t.Fatalf("close %d", got)
		}
		eventually(t, "client gone", func() bool { return env.node.NumClients() == 0 })
	})
	t.Run("recovery at connect", func(t *testing.T) {
		env := newHubEnv(t)
		tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"forced:feed"}})
		first := env.connect(t, tok)
		res := first.tr.allReplies()[0].Connect.Subs["forced:feed"]
		if !res.Recoverable || !res.Positioned {
			t.Fatalf("forced recovery sub %v", res)
		}
		first.c.HandleClose()
		for _, d := range []string{`1`, `2`} {
			if _, err := env.node.Publish(t.Context(), "forced:feed", []byte(d), PublishOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		tc := env.newClient(t, protocol.TypeProtobuf)
		r := tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: tok, Subs: map[string]*clientpb.SubscribeRequest{
			"forced:feed": {Recover: true, Epoch: res.Epoch, Offset: res.Offset},
		}}})
		got := r.Connect.Subs["forced:feed"]
		if !got.Recovered || len(got.Publications) != 2 || got.Publications[1].Offset != 2 || got.Epoch != res.Epoch {
			t.Fatalf("recovery at connect %v", got)
		}
	})
}

func TestConnectExpiry(t *testing.T) {
	t.Parallel()
	env := newHubEnv(t)
	// exp is whole seconds: the connection expires within a second.
	tok := connToken(t, "alice", time.Second, nil)
	refreshed := env.connect(t, tok)
	expiring := env.connect(t, tok)
	r := refreshed.ok(&clientpb.Command{Refresh: &clientpb.RefreshRequest{Token: connToken(t, "alice", 0, nil)}})
	if r.Refresh.Expires || r.Refresh.Client != refreshed.c.ID() {
		t.Fatalf("refresh result %v", r.Refresh)
	}
	if got := expiring.tr.waitClosed(t); got != int(DisconnectExpired.Code) {
		t.Fatalf("expired connection closed with %d", got)
	}
	refreshed.ok(rpcCmd("ping", ""))
}

func TestRefresh(t *testing.T) {
	env := newHubEnv(t)
	tests := []struct {
		name      string
		token     string
		wantClose int
	}{
		{"empty", "", int(DisconnectBadRequest.Code)},
		{"bad", "garbage", int(DisconnectInvalidToken.Code)},
		{"expired", connToken(t, "alice", 0, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}), int(DisconnectExpired.Code)},
		{"other user", connToken(t, "mallory", 0, nil), int(DisconnectInvalidToken.Code)},
		{"expire_at passed", connToken(t, "alice", 0, map[string]any{"expire_at": time.Now().Add(-time.Minute).Unix()}), int(DisconnectExpired.Code)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := env.connectUser(t, "alice")
			if got := tc.disconnectCode(&clientpb.Command{Refresh: &clientpb.RefreshRequest{Token: tt.token}}); got != tt.wantClose {
				t.Fatalf("close %d, want %d", got, tt.wantClose)
			}
		})
	}
	t.Run("new expiry and info", func(t *testing.T) {
		tc := env.connectUser(t, "alice")
		tok := connToken(t, "alice", time.Hour, map[string]any{"info": map[string]any{"v": 2}})
		r := tc.ok(&clientpb.Command{Refresh: &clientpb.RefreshRequest{Token: tok}})
		if !r.Refresh.Expires || r.Refresh.Ttl < 3590 {
			t.Fatalf("refresh %v", r.Refresh)
		}
		if got := string(tc.c.clientInfo(nil).ConnInfo); got != `{"v":2}` {
			t.Fatalf("info after refresh %s", got)
		}
	})
	t.Run("refresh proxy configured", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, p *Proxy) { c.Refresh = p })
		tc := env.connectUser(t, "alice")
		if got := tc.disconnectCode(&clientpb.Command{Refresh: &clientpb.RefreshRequest{Token: connToken(t, "alice", 0, nil)}}); got != int(DisconnectBadRequest.Code) {
			t.Fatalf("client refresh with refresh proxy: close %d", got)
		}
	})
}

// With a refresh proxy the server prolongs connections itself; the client
// is never told its connection expires.
func TestServerSideRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error)
		closed int // 0: stays open
	}{
		{"prolonged", func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
			return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: time.Now().Add(time.Hour).Unix(), Info: []byte(`{"r":1}`), Meta: []byte(`{}`)}}, nil
		}, 0},
		{"expired", func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
			return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{Expired: true}}, nil
		}, int(DisconnectExpired.Code)},
		{"expiry in the past", func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
			return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: 1}}, nil
		}, int(DisconnectExpired.Code)},
		{"bad info", func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
			return &proxypb.RefreshResponse{Result: &proxypb.RefreshResult{ExpireAt: time.Now().Add(time.Hour).Unix(), B64Info: "!!"}}, nil
		}, 0},
		{"backend down", func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
			return nil, errors.New("unreachable")
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newHubEnv(t, func(c *Config, p *Proxy) { c.Refresh = p; p.IncludeConnectionMeta = true })
			env.backend.set(func(b *fakeBackend) { b.refresh = tt.answer })
			tc := env.newClient(t, protocol.TypeProtobuf)
			r := tc.ok(connectCmd(connToken(t, "alice", time.Second, map[string]any{"meta": map[string]any{"m": 1}})))
			if r.Connect.Expires {
				t.Fatalf("server-side refresh told the client to refresh: %v", r.Connect)
			}
			if tt.closed != 0 {
				if got := tc.tr.waitClosed(t); got != tt.closed {
					t.Fatalf("close %d, want %d", got, tt.closed)
				}
				return
			}
			eventually(t, "refresh proxy call", func() bool { return len(requests[*proxypb.RefreshRequest](env.backend)) > 0 })
			req := requests[*proxypb.RefreshRequest](env.backend)[0]
			if req.User != "alice" || string(req.Meta) != `{"m":1}` {
				t.Fatalf("refresh request %v", req)
			}
			tc.ok(rpcCmd("ping", ""))
		})
	}
}

func TestPingPong(t *testing.T) {
	ping := func(c *Config, _ *Proxy) {
		c.Client.PingInterval = 30 * time.Millisecond
		c.Client.PongTimeout = 30 * time.Millisecond
	}
	isPing := func(r *clientpb.Reply) bool {
		return r.Id == 0 && r.Push == nil && r.Error == nil && r.Connect == nil
	}
	countPings := func(tc *testClient) int {
		n := 0
		for _, r := range tc.tr.replies {
			if isPing(r) {
				n++
			}
		}
		return n
	}
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		t.Run(string(pt), func(t *testing.T) {
			t.Run("no pong", func(t *testing.T) {
				env := newHubEnv(t, ping)
				tc := env.newClient(t, pt)
				tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
				if got := tc.tr.waitClosed(t); got != int(DisconnectNoPong.Code) {
					t.Fatalf("close %d", got)
				}
				if n := countPings(tc); n == 0 {
					t.Fatal("closed for no pong without a ping")
				}
			})
			t.Run("pongs keep it open", func(t *testing.T) {
				env := newHubEnv(t, ping)
				tc := env.newClient(t, pt)
				tc.ok(connectCmd(connToken(t, "alice", 0, nil)))
				for i := 1; i <= 3; i++ {
					tc.tr.waitUntil(t, "ping", func() bool { return countPings(tc) >= i })
					if !tc.send(&clientpb.Command{}) {
						t.Fatalf("pong %d ended the session", i)
					}
				}
				if closed, code := tc.tr.isClosed(); closed {
					t.Fatalf("closed with %d although every ping got its pong", code)
				}
			})
		})
	}
	t.Run("stray pong", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		if tc.send(&clientpb.Command{}) {
			t.Fatal("stray pong accepted")
		}
		if got := tc.tr.waitClosed(t); got != int(DisconnectBadRequest.Code) {
			t.Fatalf("close %d", got)
		}
	})
}

func TestStaleConnectionClosed(t *testing.T) {
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.StaleCloseDelay = 20 * time.Millisecond })
	stale := env.newClient(t, protocol.TypeProtobuf)
	live := env.connectUser(t, "alice")
	if got := stale.tr.waitClosed(t); got != int(DisconnectStale.Code) {
		t.Fatalf("close %d", got)
	}
	// The stale timer of a connected client was stopped.
	live.ok(rpcCmd("ping", ""))
	if closed, code := live.tr.isClosed(); closed {
		t.Fatalf("connected client closed with %d", code)
	}
}

func TestCommandOrderRules(t *testing.T) {
	env := newHubEnv(t)
	tests := []struct {
		name      string
		connected bool
		cmd       *clientpb.Command
		want      int
	}{
		{"subscribe before connect", false, subCmd("news"), int(DisconnectBadRequest.Code)},
		{"connect twice", true, connectCmd(connToken(t, "alice", 0, nil)), int(DisconnectBadRequest.Code)},
		{"empty command with id", true, &clientpb.Command{}, int(DisconnectBadRequest.Code)},
		{"send", true, &clientpb.Command{Send: &clientpb.SendRequest{Data: []byte(`{}`)}}, int(DisconnectNotAvailable.Code)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tc *testClient
			if tt.connected {
				tc = env.connectUser(t, "alice")
			} else {
				tc = env.newClient(t, protocol.TypeProtobuf)
			}
			if got := tc.disconnectCode(tt.cmd); got != tt.want {
				t.Fatalf("close %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("ping command", func(t *testing.T) {
		tc := env.connectUser(t, "alice")
		if code := tc.errCode(&clientpb.Command{Ping: &clientpb.PingRequest{}}); code != ErrorNotAvailable.Code {
			t.Fatalf("ping command: %d", code)
		}
	})
	t.Run("bad frame", func(t *testing.T) {
		for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
			tc := env.newClient(t, pt)
			if tc.c.HandleFrame([]byte("\xff\xff not a command")) {
				t.Fatal("bad frame accepted")
			}
			if got := tc.tr.waitClosed(t); got != int(DisconnectBadRequest.Code) {
				t.Fatalf("%s: close %d", pt, got)
			}
		}
	})
	t.Run("commands after close", func(t *testing.T) {
		tc := env.connectUser(t, "alice")
		tc.c.HandleClose()
		if tc.send(subCmd("news")) {
			t.Fatal("closed client handled a command")
		}
	})
	t.Run("batch in one frame", func(t *testing.T) {
		for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
			tc := env.newClient(t, pt)
			if !tc.send(
				&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}},
				&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}},
				&clientpb.Command{Id: 3, Rpc: &clientpb.RPCRequest{Method: "ping"}},
			) {
				t.Fatal("batch ended the session")
			}
			if tc.reply(1).Connect == nil || tc.reply(2).Subscribe == nil || tc.reply(3).Rpc == nil {
				t.Fatalf("%s: batch replies %v", pt, tc.tr.allReplies())
			}
		}
	})
}

// A close that races a connect must not leave the client registered: the
// hub would count it and control messages would reach it forever.
func TestCloseRacingConnect(t *testing.T) {
	env := newHubEnv(t)
	tok := connToken(t, "alice", 0, map[string]any{"channels": []string{"news", "public:x"}})
	for i := 0; i < 200; i++ {
		tc := env.newClient(t, protocol.TypeProtobuf)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			tc.c.HandleFrame(encodeFrame(protocol.TypeProtobuf, &clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: tok}}))
		}()
		go func() { defer wg.Done(); tc.c.HandleClose() }()
		wg.Wait()
	}
	eventually(t, "no client left", func() bool {
		return env.node.NumClients() == 0 && env.node.NumSubscriptions() == 0 && env.node.NumChannels() == 0
	})
}

func TestShutdown(t *testing.T) {
	env := newHubEnv(t)
	tc := env.connectUser(t, "alice")
	if err := env.node.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := tc.tr.waitClosed(t); got != int(DisconnectShutdown.Code) {
		t.Fatalf("close %d", got)
	}
	if _, err := env.node.NewClient(newFakeTransport(protocol.TypeJSON), RequestInfo{}); !errors.Is(err, DisconnectShutdown) {
		t.Fatalf("new client after shutdown: %v", err)
	}
}

// The user connection limit holds for connects that arrive together, not
// only one after another.
func TestUserConnectionLimitUnderConcurrentConnects(t *testing.T) {
	const limit, tries = 2, 16
	env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.UserConnectionLimit = limit })
	tok := connToken(t, "alice", 0, nil)
	for round := 0; round < 20; round++ {
		clients := make([]*testClient, tries)
		for i := range clients {
			clients[i] = env.newClient(t, protocol.TypeProtobuf)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, tc := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tc.c.HandleFrame(encodeFrame(protocol.TypeProtobuf, &clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Token: tok}}))
			}()
		}
		close(start)
		wg.Wait()
		if n := len(env.node.hub.userConnections("alice")); n > limit {
			t.Fatalf("round %d: %d connections of alice, limit %d", round, n, limit)
		}
		for _, tc := range clients {
			tc.c.HandleClose()
		}
		eventually(t, "clients closed", func() bool { return env.node.NumClients() == 0 })
	}
}
