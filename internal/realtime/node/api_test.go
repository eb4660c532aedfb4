package node

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

func wantCode(t *testing.T, err error, code uint32) {
	t.Helper()
	if err == nil || toClientError(err).Code != code {
		t.Fatalf("error %v, want code %d", err, code)
	}
}

func TestAPIPublish(t *testing.T) {
	env := newHubEnv(t)
	tc := env.connectUser(t, "alice")
	tc.ok(subCmd("news"))
	sp, err := env.node.Publish(t.Context(), "news", []byte(`{"a":1}`), PublishOptions{Tags: map[string]string{"k": "v"}, IdempotencyKey: "once"})
	if err != nil || sp.Offset != 1 || sp.Epoch == "" {
		t.Fatalf("publish %v %v", sp, err)
	}
	if p := tc.nextPush(); string(p.Pub.GetData()) != `{"a":1}` || p.Pub.Tags["k"] != "v" || p.Pub.Info != nil {
		t.Fatalf("push %v", p)
	}
	// The same idempotency key is a no-op with the first result.
	if again, err := env.node.Publish(t.Context(), "news", []byte(`{"a":1}`), PublishOptions{IdempotencyKey: "once"}); err != nil || again != sp {
		t.Fatalf("idempotent publish %v %v", again, err)
	}
	if _, err := env.node.Publish(t.Context(), "news", []byte(`2`), PublishOptions{SkipHistory: true}); err != nil {
		t.Fatal(err)
	}
	if _, top, _ := env.node.History(t.Context(), "news", nil, 0, false); top.Offset != 1 {
		t.Fatalf("skip_history publication kept: top %d", top.Offset)
	}
	_, err = env.node.Publish(t.Context(), "", []byte(`1`), PublishOptions{})
	wantCode(t, err, ErrorBadRequest.Code)
	_, err = env.node.Publish(t.Context(), "news", nil, PublishOptions{})
	wantCode(t, err, ErrorBadRequest.Code)
	_, err = env.node.Publish(t.Context(), "nope:x", []byte(`1`), PublishOptions{})
	wantCode(t, err, ErrorUnknownChannel.Code)
}

func TestAPIPresenceHistoryChannels(t *testing.T) {
	env := newHubEnv(t)
	alice := env.connectUser(t, "alice")
	alice.ok(subCmd("news"))
	alice.ok(subCmd("public:a"))
	bob := env.connectUser(t, "bob")
	bob.ok(subCmd("news"))

	p, err := env.node.Presence(t.Context(), "news")
	if err != nil || len(p) != 2 || p[bob.c.ID()].User != "bob" {
		t.Fatalf("presence %v %v", p, err)
	}
	st, err := env.node.PresenceStats(t.Context(), "news")
	if err != nil || st != (engine.PresenceStats{NumClients: 2, NumUsers: 2}) {
		t.Fatalf("stats %v %v", st, err)
	}
	for _, f := range []func(string) error{
		func(ch string) error { _, err := env.node.Presence(t.Context(), ch); return err },
		func(ch string) error { _, err := env.node.PresenceStats(t.Context(), ch); return err },
		func(ch string) error { _, _, err := env.node.History(t.Context(), ch, nil, 0, false); return err },
		env.nodeHistoryRemove,
	} {
		wantCode(t, f("closed:x"), ErrorNotAvailable.Code)
		wantCode(t, f("nope:x"), ErrorUnknownChannel.Code)
		wantCode(t, f(""), ErrorBadRequest.Code)
	}

	publishN(t, env.node, "news", 1, 3)
	pubs, top, err := env.node.History(t.Context(), "news", nil, -1, true)
	if err != nil || len(pubs) != 3 || string(pubs[0].Data) != "3" || top.Offset != 3 {
		t.Fatalf("history %v %v %v", pubs, top, err)
	}
	if err := env.node.HistoryRemove(t.Context(), "news"); err != nil {
		t.Fatal(err)
	}
	if pubs, top, _ := env.node.History(t.Context(), "news", nil, -1, false); len(pubs) != 0 || top.Offset != 3 {
		t.Fatalf("after remove %v top %v: the position must stay", pubs, top)
	}

	chs, err := env.node.Channels(t.Context(), "")
	if err != nil || chs["news"] != 2 || chs["public:a"] != 1 || len(chs) != 2 {
		t.Fatalf("channels %v %v", chs, err)
	}
	if chs, err := env.node.Channels(t.Context(), "public:*"); err != nil || len(chs) != 1 {
		t.Fatalf("channels public:* %v %v", chs, err)
	}
	_, err = env.node.Channels(t.Context(), "[")
	wantCode(t, err, ErrorBadRequest.Code)
	if env.node.NumUsers() != 2 || env.node.NumChannels() != 2 || env.node.NumSubscriptions() != 3 {
		t.Fatalf("counts users %d channels %d subs %d", env.node.NumUsers(), env.node.NumChannels(), env.node.NumSubscriptions())
	}
}

func (e *hubEnv) nodeHistoryRemove(ch string) error { return e.node.HistoryRemove(e.t.Context(), ch) }

// Server API commands about connections travel as control messages
// through the engine and reach every connection of the user.
func TestAPIConnectionCommands(t *testing.T) {
	t.Run("subscribe", func(t *testing.T) {
		env := newHubEnv(t)
		a1, a2 := env.connectUser(t, "alice"), env.connectUser(t, "alice")
		bob := env.connectUser(t, "bob")
		top := publishN(t, env.node, "forced:s", 1, 2)
		err := env.node.Subscribe(t.Context(), "alice", "forced:s", SubscribeOptions{
			Data: []byte(`{"why":"api"}`), RecoverSince: &engine.StreamPosition{Offset: 1, Epoch: top.Epoch},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []*testClient{a1, a2} {
			p := tc.waitPush("subscribe push", func(p *clientpb.Push) bool { return p.Subscribe != nil })
			if p.Channel != "forced:s" || string(p.Subscribe.Data) != `{"why":"api"}` || !p.Subscribe.Recoverable || p.Subscribe.Epoch != top.Epoch {
				t.Fatalf("subscribe push %v", p)
			}
		}
		publishN(t, env.node, "forced:s", 3, 1)
		for _, tc := range []*testClient{a1, a2} {
			tc.waitPush("publication", func(p *clientpb.Push) bool { return p.Pub != nil && string(p.Pub.Data) == "3" })
		}
		if ok, _ := bob.c.subscribed("forced:s"); ok {
			t.Fatal("another user subscribed")
		}
		// Subscribing again is a no-op; one connection can be targeted.
		if err := env.node.Subscribe(t.Context(), "alice", "forced:s", SubscribeOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := env.node.Subscribe(t.Context(), "alice", "public:only", SubscribeOptions{Client: a2.c.ID()}); err != nil {
			t.Fatal(err)
		}
		a2.waitPush("targeted subscribe", func(p *clientpb.Push) bool { return p.Subscribe != nil && p.Channel == "public:only" })
		if ok, _ := a1.c.subscribed("public:only"); ok {
			t.Fatal("connection not targeted got subscribed")
		}
		wantCode(t, env.node.Subscribe(t.Context(), "alice", "", SubscribeOptions{}), ErrorBadRequest.Code)
		wantCode(t, env.node.Subscribe(t.Context(), "alice", "nope:x", SubscribeOptions{}), ErrorUnknownChannel.Code)
	})
	t.Run("subscribe failure is silent", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		env.engine.setHooks(func(h *hookEngine) { h.subscribeErr = errors.New("broker down") })
		if err := env.node.Subscribe(t.Context(), "alice", "news", SubscribeOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "broker subscribe attempt", func() bool { return env.engine.subscribeCalls.Load() > 0 })
		// The client keeps working and was not subscribed.
		eventually(t, "no subscription", func() bool { ok, _ := tc.c.subscribed("news"); return !ok })
		tc.ok(rpcCmd("ping", ""))
		for _, r := range tc.tr.allReplies() {
			if r.Push != nil {
				t.Fatalf("push for a failed server subscribe: %v", r.Push)
			}
		}
	})
	t.Run("unsubscribe", func(t *testing.T) {
		env := newHubEnv(t)
		tc := env.connectUser(t, "alice")
		tc.ok(subCmd("news"))
		if err := env.node.Unsubscribe(t.Context(), "alice", "news", "", ""); err != nil {
			t.Fatal(err)
		}
		p := tc.waitPush("unsubscribe push", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
		if p.Channel != "news" || p.Unsubscribe.Code != UnsubscribeCodeServer {
			t.Fatalf("push %v", p)
		}
		eventually(t, "unsubscribed", func() bool { return env.node.NumSubscriptions() == 0 })
		wantCode(t, env.node.Unsubscribe(t.Context(), "alice", "", "", ""), ErrorBadRequest.Code)
		wantCode(t, env.node.Unsubscribe(t.Context(), "alice", "nope:x", "", ""), ErrorUnknownChannel.Code)
	})
	t.Run("disconnect", func(t *testing.T) {
		env := newHubEnv(t)
		a1, a2, a3 := env.connectUser(t, "alice"), env.connectUser(t, "alice"), env.connectUser(t, "alice")
		bob := env.connectUser(t, "bob")
		if err := env.node.Disconnect(t.Context(), "alice", nil, "", []string{a3.c.ID()}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []*testClient{a1, a2} {
			if got := tc.tr.waitClosed(t); got != int(DisconnectForceNoReconnect.Code) {
				t.Fatalf("close %d", got)
			}
		}
		if err := env.node.Disconnect(t.Context(), "bob", &Disconnect{Code: 4100, Reason: "custom"}, bob.c.ID(), nil); err != nil {
			t.Fatal(err)
		}
		if got := bob.tr.waitClosed(t); got != 4100 {
			t.Fatalf("close %d", got)
		}
		a3.ok(rpcCmd("ping", "")) // whitelisted
	})
	t.Run("refresh", func(t *testing.T) {
		env := newHubEnv(t)
		a1, a2 := env.connectUser(t, "alice"), env.connectUser(t, "alice")
		if err := env.node.Refresh(t.Context(), "alice", a1.c.ID(), false, time.Now().Add(time.Hour).Unix(), []byte(`{"new":1}`)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "info refreshed", func() bool { return string(a1.c.clientInfo(nil).ConnInfo) == `{"new":1}` })
		if err := env.node.Refresh(t.Context(), "alice", a1.c.ID(), false, 0, nil); err != nil {
			t.Fatal(err)
		}
		if err := env.node.Refresh(t.Context(), "alice", a2.c.ID(), true, 0, nil); err != nil {
			t.Fatal(err)
		}
		if got := a2.tr.waitClosed(t); got != int(DisconnectExpired.Code) {
			t.Fatalf("close %d", got)
		}
		a1.ok(rpcCmd("ping", ""))
		wantCode(t, env.node.Refresh(t.Context(), "", "", false, 0, nil), ErrorBadRequest.Code)
	})
}

func TestAPIEngineDown(t *testing.T) {
	env := newHubEnv(t)
	_ = env.engine.Engine.Close(t.Context())
	_, err := env.node.Publish(t.Context(), "news", []byte(`1`), PublishOptions{})
	wantCode(t, err, ErrorInternal.Code)
	wantCode(t, env.node.Disconnect(t.Context(), "alice", nil, "", nil), ErrorInternal.Code)
	_, err = env.node.Presence(t.Context(), "news")
	wantCode(t, err, ErrorInternal.Code)
}

func TestInfo(t *testing.T) {
	env := newHubEnv(t)
	env.connectUser(t, "alice")
	other := NodeInfo{UID: "other-node", Name: "a-other", Version: "x", NumClients: 5}
	data, err := json.Marshal(controlMessage{Op: opNode, Node: &other})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.node.handleControl(data); err != nil {
		t.Fatal(err)
	}
	infos, err := env.node.Info(t.Context())
	if err != nil || len(infos) != 2 || infos[0].UID != "other-node" || infos[1].UID != env.node.ID() || infos[1].NumClients != 1 || infos[1].Name != env.node.Name() {
		t.Fatalf("info %+v %v", infos, err)
	}
	if err := env.node.handleControl([]byte("not json")); err == nil {
		t.Fatal("undecodable control message accepted")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := New(Config{}, Options{}); err == nil {
		t.Fatal("node without engine")
	}
	eng := &hookEngine{}
	if _, err := New(Config{Channel: ChannelConfig{Namespaces: []Namespace{{Name: "x", ChannelOptions: ChannelOptions{ChannelRegex: "("}}}}}, Options{Engine: eng}); err == nil {
		t.Fatal("bad channel regex accepted")
	}
	if _, err := New(Config{Connect: &Proxy{Name: "c"}}, Options{Engine: eng}); err == nil {
		t.Fatal("proxy without backend accepted")
	}
}

func TestMetricsRegister(t *testing.T) {
	env := newHubEnv(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.RegisterGauges(reg, env.node)
	env.connectUser(t, "alice")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "spindle_node_connections" && mf.GetMetric()[0].GetGauge().GetValue() == 1 {
			return
		}
	}
	t.Fatal("connections gauge does not count the connection")
}

func TestErrorsReadable(t *testing.T) {
	if ErrorLimitExceeded.Error() != "106: limit exceeded" || DisconnectSlow.Error() != "disconnect 3008: slow" {
		t.Fatalf("%q %q", ErrorLimitExceeded.Error(), DisconnectSlow.Error())
	}
	for _, tt := range []struct {
		d    *Disconnect
		want bool
	}{{DisconnectSlow, true}, {DisconnectInvalidToken, false}, {&Disconnect{Code: 4000}, true}, {&Disconnect{Code: 4500}, false}} {
		if tt.d.Reconnect() != tt.want {
			t.Errorf("%d reconnect %v", tt.d.Code, !tt.want)
		}
	}
}
