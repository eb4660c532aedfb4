package node

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// mapState reads a map channel's keys through the server API: key → data.
func (e *hubEnv) mapState(t *testing.T, ch string) map[string]string {
	t.Helper()
	st, err := e.node.MapReadState(context.Background(), ch, MapReadStateOptions{})
	if err != nil {
		t.Fatalf("map state %s: %v", ch, err)
	}
	out := map[string]string{}
	for _, p := range st.Entries {
		out[p.Key] = string(p.Data)
	}
	return out
}

// metaToken is a connection token whose connection meta the map proxy
// requests carry when the proxy includes it.
func metaToken(t testing.TB, user string) string {
	return connToken(t, user, 0, map[string]any{"meta": map[string]any{"m": 1}})
}

func TestMapPublishViaProxy(t *testing.T) {
	type answer = func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error)
	result := func(r *proxypb.MapPublishResult) answer {
		return func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return &proxypb.MapPublishResponse{Result: r}, nil
		}
	}
	tests := []struct {
		name      string
		answer    answer
		binary    bool
		json      bool // the writer uses the JSON format
		wantErr   uint32
		wantClose int
		wantKey   string
		wantData  string
		wantTags  map[string]string
	}{
		{name: "no result: written as sent", answer: result(nil), wantKey: "seat-1", wantData: `{"orig":1}`},
		{name: "empty result: written as sent", answer: result(&proxypb.MapPublishResult{}), wantKey: "seat-1", wantData: `{"orig":1}`},
		{name: "data rewritten", answer: result(&proxypb.MapPublishResult{Data: []byte(`{"new":1}`)}), wantKey: "seat-1", wantData: `{"new":1}`},
		{name: "key renamed, tags set", answer: result(&proxypb.MapPublishResult{Key: "seat-9", Tags: map[string]string{"row": "a"}}),
			wantKey: "seat-9", wantData: `{"orig":1}`, wantTags: map[string]string{"row": "a"}},
		{name: "binary proxy: b64data both ways", binary: true, answer: func(r *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			if r.B64Data != base64.StdEncoding.EncodeToString([]byte(`{"orig":1}`)) || len(r.Data) != 0 || r.Encoding != "binary" {
				return nil, errors.New("binary proxy got no b64data")
			}
			return &proxypb.MapPublishResponse{Result: &proxypb.MapPublishResult{B64Data: "eyJiIjoxfQ=="}}, nil
		}, wantKey: "seat-1", wantData: `{"b":1}`},
		{name: "data wins over b64data", answer: result(&proxypb.MapPublishResult{Data: []byte(`{"d":1}`), B64Data: "eyJiIjoxfQ=="}),
			wantKey: "seat-1", wantData: `{"d":1}`},
		{name: "score and stream data accepted and ignored", answer: result(&proxypb.MapPublishResult{Score: 7, StreamData: []byte(`{"s":1}`), B64StreamData: "eyJzIjoxfQ=="}),
			wantKey: "seat-1", wantData: `{"orig":1}`},
		{name: "JSON writer, JSON rewrite", json: true, answer: result(&proxypb.MapPublishResult{Data: []byte(`{"new":1}`)}), wantKey: "seat-1", wantData: `{"new":1}`},

		{name: "bad base64", answer: result(&proxypb.MapPublishResult{B64Data: "!!"}), wantErr: ErrorInternal.Code},
		{name: "unknown key_mode", answer: result(&proxypb.MapPublishResult{KeyMode: "sometimes"}), wantErr: ErrorInternal.Code},
		{name: "oversize key", answer: result(&proxypb.MapPublishResult{Key: strings.Repeat("k", maxMapKeyLength+1)}), wantErr: ErrorInternal.Code},
		// A rewrite a JSON subscriber could not decode would close every
		// one of them: the writer's call fails instead.
		{name: "non-JSON rewrite for a JSON writer", json: true, answer: result(&proxypb.MapPublishResult{Data: []byte{'{', 0xff}}), wantErr: ErrorInternal.Code},
		{name: "deny", answer: func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: 1000, Message: "seat taken"}}, nil
		}, wantErr: 1000},
		{name: "disconnect", answer: func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return &proxypb.MapPublishResponse{Disconnect: &proxypb.Disconnect{Code: 4600, Reason: "spam"}}, nil
		}, wantClose: 4600},
		{name: "backend down", answer: func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return nil, errors.New("connection refused")
		}, wantErr: ErrorInternal.Code},
	}
	const ch = "mproxied:room"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newHubEnv(t, func(_ *Config, p *Proxy) { p.BinaryEncoding, p.IncludeConnectionMeta = tt.binary, true })
			env.backend.set(func(b *fakeBackend) { b.mapPublish = tt.answer })
			watcher := env.connectUser(t, "bob")
			watcher.mapSync(ch, 0)
			var writer *testClient
			if tt.json {
				writer = env.newClient(t, protocol.TypeJSON)
				writer.ok(connectCmd(metaToken(t, "alice")))
			} else {
				writer = env.connect(t, metaToken(t, "alice"))
			}
			cmd := mapPubCmd(ch, "seat-1", `{"orig":1}`)
			switch {
			case tt.wantClose != 0:
				if got := writer.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				if got := writer.errCode(cmd); got != tt.wantErr {
					t.Fatalf("error %d, want %d", got, tt.wantErr)
				}
			default:
				if r := writer.ok(cmd); r.Publish == nil {
					t.Fatalf("reply %v, want a publish result", r)
				}
				p := watcher.waitPush("the write", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
				if p.Key != tt.wantKey || string(p.Data) != tt.wantData || !maps.Equal(p.Tags, tt.wantTags) {
					t.Fatalf("push key %q data %s tags %v, want %q %s %v", p.Key, p.Data, p.Tags, tt.wantKey, tt.wantData, tt.wantTags)
				}
				if p.Info == nil || p.Info.User != "alice" || p.Info.Client != writer.c.ID() {
					t.Fatalf("push info %v, want the writer's", p.Info)
				}
			}
			if tt.wantErr != 0 || tt.wantClose != 0 {
				if st := env.mapState(t, ch); len(st) != 0 {
					t.Fatalf("refused write changed the map: %v", st)
				}
			}
			reqs := requests[*proxypb.MapPublishRequest](env.backend)
			if len(reqs) != 1 {
				t.Fatalf("%d map publish requests, want 1", len(reqs))
			}
			r := reqs[0]
			wantProto, wantEnc := "protobuf", "json"
			if tt.json {
				wantProto = "json"
			}
			if tt.binary {
				wantEnc = "binary"
			}
			if r.Client != writer.c.ID() || r.Transport != "websocket" || r.Protocol != wantProto || r.Encoding != wantEnc ||
				r.User != "alice" || r.Channel != ch || r.Key != "seat-1" || string(r.Meta) != `{"m":1}` {
				t.Fatalf("map publish request %v", r)
			}
			if !tt.binary && string(r.Data) != `{"orig":1}` {
				t.Fatalf("request data %s, want the client's", r.Data)
			}
		})
	}
}

// TestMapPublishViaProxyWriteOptions: key_mode, idempotency_key and
// version of a proxy result reach the map broker, whose suppressions stay
// invisible to the writer (an empty publish result, as in Centrifugo).
func TestMapPublishViaProxyWriteOptions(t *testing.T) {
	const ch = "mproxied:opts"
	env := newHubEnv(t)
	env.seed(t, ch, "taken")
	writer := env.connectUser(t, "alice")
	answer := func(r *proxypb.MapPublishResult) {
		env.backend.set(func(b *fakeBackend) {
			b.mapPublish = func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
				return &proxypb.MapPublishResponse{Result: r}, nil
			}
		})
	}

	answer(&proxypb.MapPublishResult{KeyMode: "if_new"})
	writer.ok(mapPubCmd(ch, "taken", `{"over":1}`))
	answer(&proxypb.MapPublishResult{KeyMode: "if_exists"})
	writer.ok(mapPubCmd(ch, "absent", `{"new":1}`))
	answer(&proxypb.MapPublishResult{KeyMode: "if_new"})
	writer.ok(mapPubCmd(ch, "fresh", `{"fresh":1}`))

	answer(&proxypb.MapPublishResult{IdempotencyKey: "once", Data: []byte(`{"v":1}`)})
	writer.ok(mapPubCmd(ch, "idem", `{}`))
	answer(&proxypb.MapPublishResult{IdempotencyKey: "once", Data: []byte(`{"v":2}`)})
	writer.ok(mapPubCmd(ch, "idem", `{}`))

	answer(&proxypb.MapPublishResult{Version: 5, VersionEpoch: "e1", Data: []byte(`{"ver":5}`)})
	writer.ok(mapPubCmd(ch, "ver", `{}`))
	answer(&proxypb.MapPublishResult{Version: 3, VersionEpoch: "e1", Data: []byte(`{"ver":3}`)})
	writer.ok(mapPubCmd(ch, "ver", `{}`))

	want := map[string]string{"taken": `{"k":"taken"}`, "fresh": `{"fresh":1}`, "idem": `{"v":1}`, "ver": `{"ver":5}`}
	if got := env.mapState(t, ch); !maps.Equal(got, want) {
		t.Fatalf("state %v, want %v", got, want)
	}
}

func TestMapRemoveViaProxy(t *testing.T) {
	type answer = func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error)
	result := func(r *proxypb.MapRemoveResult) answer {
		return func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return &proxypb.MapRemoveResponse{Result: r}, nil
		}
	}
	tests := []struct {
		name      string
		answer    answer
		wantErr   uint32
		wantClose int
		wantKey   string // the key removed
		wantTags  map[string]string
	}{
		{name: "no result: removed as asked", answer: result(nil), wantKey: "a"},
		{name: "key renamed, tags set", answer: result(&proxypb.MapRemoveResult{Key: "b", Tags: map[string]string{"why": "sold"}}),
			wantKey: "b", wantTags: map[string]string{"why": "sold"}},
		{name: "idempotency key accepted", answer: result(&proxypb.MapRemoveResult{IdempotencyKey: "r1"}), wantKey: "a"},
		{name: "deny", answer: func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1001, Message: "keep it", Temporary: true}}, nil
		}, wantErr: 1001},
		{name: "disconnect", answer: func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return &proxypb.MapRemoveResponse{Disconnect: &proxypb.Disconnect{Code: 4601, Reason: "go away"}}, nil
		}, wantClose: 4601},
		{name: "non-UTF-8 key", answer: result(&proxypb.MapRemoveResult{Key: "\xff"}), wantErr: ErrorInternal.Code},
		{name: "backend down", answer: func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return nil, errors.New("connection refused")
		}, wantErr: ErrorInternal.Code},
	}
	const ch = "mproxied:seats"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newHubEnv(t, func(_ *Config, p *Proxy) { p.IncludeConnectionMeta = true })
			env.seed(t, ch, "a", "b")
			env.backend.set(func(b *fakeBackend) { b.mapRemove = tt.answer })
			watcher := env.connectUser(t, "bob")
			watcher.mapSync(ch, 0)
			writer := env.connect(t, metaToken(t, "alice"))
			cmd := mapRemoveCmd(ch, "a")
			switch {
			case tt.wantClose != 0:
				if got := writer.disconnectCode(cmd); got != tt.wantClose {
					t.Fatalf("close %d, want %d", got, tt.wantClose)
				}
			case tt.wantErr != 0:
				r := writer.call(cmd)
				if r.Error == nil || r.Error.Code != tt.wantErr {
					t.Fatalf("reply %v, want error %d", r, tt.wantErr)
				}
				if tt.wantErr == 1001 && (!r.Error.Temporary || r.Error.Message != "keep it") {
					t.Fatalf("backend error not passed verbatim: %v", r.Error)
				}
			default:
				writer.ok(cmd)
				p := watcher.waitPush("the removal", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed }).Pub
				if p.Key != tt.wantKey || !maps.Equal(p.Tags, tt.wantTags) {
					t.Fatalf("removal push key %q tags %v, want %q %v", p.Key, p.Tags, tt.wantKey, tt.wantTags)
				}
			}
			st := env.mapState(t, ch)
			if _, ok := st[tt.wantKey]; tt.wantKey != "" && ok {
				t.Fatalf("key %q still in the map: %v", tt.wantKey, st)
			}
			if tt.wantKey == "" && len(st) != 2 {
				t.Fatalf("refused removal changed the map: %v", st)
			}
			reqs := requests[*proxypb.MapRemoveRequest](env.backend)
			if len(reqs) != 1 {
				t.Fatalf("%d map remove requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Client != writer.c.ID() || r.Transport != "websocket" || r.Protocol != "protobuf" || r.Encoding != "json" ||
				r.User != "alice" || r.Channel != ch || r.Key != "a" || string(r.Meta) != `{"m":1}` {
				t.Fatalf("map remove request %v", r)
			}
		})
	}
}

// TestMapProxyPermissions: an enabled map proxy decides instead of the
// allow_* options and client.insecure; without a backend the write is 108;
// each switch covers only its own kind of write; a key the hub refuses
// never reaches the backend.
func TestMapProxyPermissions(t *testing.T) {
	deny := func(b *fakeBackend) {
		b.mapPublish = func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return &proxypb.MapPublishResponse{Error: &proxypb.Error{Code: 1403, Message: "no"}}, nil
		}
		b.mapRemove = func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return &proxypb.MapRemoveResponse{Error: &proxypb.Error{Code: 1404, Message: "no"}}, nil
		}
	}
	t.Run("proxy over insecure", func(t *testing.T) {
		env := newHubEnv(t, func(c *Config, _ *Proxy) { c.Client.Insecure = true })
		env.backend.set(deny)
		tc := env.connectUser(t, "alice")
		if code := tc.errCode(mapPubCmd("mproxied:x", "k", `1`)); code != 1403 {
			t.Fatalf("publish: %d, want the backend's 1403", code)
		}
		if code := tc.errCode(mapRemoveCmd("mproxied:x", "k")); code != 1404 {
			t.Fatalf("remove: %d, want the backend's 1404", code)
		}
	})
	t.Run("switch on without backend", func(t *testing.T) {
		env := newHubEnv(t)
		env.backend.set(deny)
		tc := env.connectUser(t, "alice")
		for _, cmd := range []*clientpb.Command{mapPubCmd("munproxied:x", "k", `1`), mapRemoveCmd("munproxied:x", "k")} {
			if code := tc.errCode(cmd); code != ErrorNotAvailable.Code {
				t.Fatalf("%v: %d, want 108", cmd, code)
			}
		}
	})
	t.Run("invalid key refused before the backend", func(t *testing.T) {
		env := newHubEnv(t)
		env.backend.set(deny)
		tc := env.connectUser(t, "alice")
		for _, cmd := range []*clientpb.Command{mapPubCmd("mproxied:x", "", `1`), mapRemoveCmd("mproxied:x", strings.Repeat("k", maxMapKeyLength+1))} {
			if code := tc.errCode(cmd); code != ErrorBadRequest.Code {
				t.Fatalf("%v: %d, want 107", cmd, code)
			}
		}
		if n := len(requests[any](env.backend)); n != 0 {
			t.Fatalf("backend called %d times", n)
		}
	})
	t.Run("only publishes proxied", func(t *testing.T) {
		env := newHubEnv(t)
		env.backend.set(func(b *fakeBackend) {
			b.mapPublish = func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
				return &proxypb.MapPublishResponse{}, nil
			}
		})
		tc := env.connectUser(t, "alice")
		tc.ok(mapPubCmd("mpubproxy:x", "k", `1`))
		tc.ok(mapRemoveCmd("mpubproxy:x", "k")) // allow_remove_for_client
		if n, m := len(requests[*proxypb.MapPublishRequest](env.backend)), len(requests[*proxypb.MapRemoveRequest](env.backend)); n != 1 || m != 0 {
			t.Fatalf("%d map publish and %d map remove calls, want 1 and 0", n, m)
		}
		if st := env.mapState(t, "mpubproxy:x"); len(st) != 0 {
			t.Fatalf("state %v, want the key removed", st)
		}
	})
}

// TestMapProxyTimeout: the node bounds a map proxy call by the proxy's
// timeout, not by the (longer) command deadline.
func TestMapProxyTimeout(t *testing.T) {
	env := newHubEnv(t, func(_ *Config, p *Proxy) { p.Timeout = 200 * time.Millisecond })
	env.backend.set(func(b *fakeBackend) {
		b.mapPublish = func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
			return &proxypb.MapPublishResponse{}, nil
		}
		b.mapRemove = func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
			return &proxypb.MapRemoveResponse{}, nil
		}
	})
	tc := env.connectUser(t, "alice")
	for _, cmd := range []*clientpb.Command{mapPubCmd("mproxied:t", "k", `1`), mapRemoveCmd("mproxied:t", "k")} {
		start := time.Now()
		tc.ok(cmd)
		env.backend.mu.Lock()
		d := env.backend.mapDeadline
		env.backend.mu.Unlock()
		if d.IsZero() || d.Sub(start) > 200*time.Millisecond+50*time.Millisecond {
			t.Fatalf("%v: call deadline %v after the command, want the proxy's 200ms", cmd, d.Sub(start))
		}
	}
}

// TestCheckProxiesMapProxies: a map proxy without a backend is a wiring
// mistake found when the node is built.
func TestCheckProxiesMapProxies(t *testing.T) {
	for _, kind := range []string{"map_publish", "map_remove"} {
		cfg := testConfig(&Proxy{Name: "ok", Backend: &fakeBackend{}})
		mo := MapOptions{Mode: "persistent"}
		lost := &Proxy{Name: "lost", Endpoint: "grpc://nowhere:1"}
		if kind == "map_publish" {
			mo.PublishProxyEnabled, mo.PublishProxy = true, lost
		} else {
			mo.RemoveProxyEnabled, mo.RemoveProxy = true, lost
		}
		cfg.Channel.Namespaces = append(cfg.Channel.Namespaces, Namespace{Name: "lostmap", ChannelOptions: ChannelOptions{SubscriptionType: "map", Map: mo}})
		err := checkProxies(&cfg)
		if err == nil || !strings.Contains(err.Error(), kind+` proxy "lost"`) {
			t.Fatalf("%s: checkProxies = %v", kind, err)
		}
	}
}
