package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine/redis"
	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/internal/testredis"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// startCluster runs n servers sharing one Redis.
func startCluster(t *testing.T, n int, redisAddrs ...string) []*Server {
	t.Helper()
	return startClusterWith(t, n, nil, redisAddrs...)
}

// startClusterWith is startCluster with extra config keys.
func startClusterWith(t *testing.T, n int, extra map[string]any, redisAddrs ...string) []*Server {
	t.Helper()
	addrs := make([]any, len(redisAddrs))
	for i, a := range redisAddrs {
		addrs[i] = a
	}
	var out []*Server
	for i := 0; i < n; i++ {
		cfg := map[string]any{"engine": "redis", "redis_address": addrs}
		for k, v := range extra {
			cfg[k] = v
		}
		out = append(out, startServer(t, cfg))
	}
	return out
}

func TestRedisNodesActAsOne(t *testing.T) {
	r := testredis.Start(t)
	nodes := startCluster(t, 3, r.Addr())
	ctx := context.Background()

	// One subscriber on each node.
	var clients []*wstest.Client
	for i, s := range nodes {
		pt := wstest.JSON
		if i%2 == 1 {
			pt = wstest.Protobuf
		}
		c := dial(t, s, pt)
		c.Connect("")
		c.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:multi"}})
		if res := c.Reply(2); res.Error != nil {
			t.Fatalf("subscribe on node %d: %v", i, res.Error)
		}
		clients = append(clients, c)
	}

	t.Run("publish on one node reaches all", func(t *testing.T) {
		if _, err := nodes[2].Node.Publish(ctx, "chat:multi", []byte(`{"from":"node2"}`), node.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, c := range clients {
			p := c.Next("publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })
			if string(p.Push.Pub.Data) != `{"from":"node2"}` {
				t.Fatalf("node %d client got %s", i, p.Push.Pub.Data)
			}
		}
	})

	t.Run("presence lists clients of every node", func(t *testing.T) {
		p, err := nodes[0].Node.Presence(ctx, "chat:multi")
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 3 {
			t.Fatalf("presence has %d clients, want 3", len(p))
		}
	})

	t.Run("info lists every node", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			info, err := nodes[1].Node.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(info) == 3 {
				total := 0
				for _, n := range info {
					total += n.NumClients
				}
				if total == 3 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("info = %+v, want 3 nodes with 3 clients in all", info)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("server API disconnect reaches another node", func(t *testing.T) {
		c := dial(t, nodes[2], wstest.JSON)
		tok := connectToken(t, "alice")
		c.Connect(tok)
		if err := nodes[0].Node.Disconnect(ctx, "alice", &node.Disconnect{Code: 4500, Reason: "bye"}, "", nil); err != nil {
			t.Fatal(err)
		}
		if code := c.CloseCode(); code != 4500 {
			t.Fatalf("close code = %d, want 4500", code)
		}
	})
}

func TestRedisRecoveryAcrossNodes(t *testing.T) {
	r := testredis.Start(t)
	nodes := startCluster(t, 2, r.Addr())
	ctx := context.Background()
	ch := "chat:moving"

	a := dial(t, nodes[0], wstest.JSON)
	a.Connect("")
	a.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch}})
	sub := a.Reply(2).Subscribe
	a.CloseNow()

	for i := 0; i < 8; i++ { // within history_size 10
		if _, err := nodes[0].Node.Publish(ctx, ch, []byte(`{"i":1}`), node.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The client comes back on the other node and recovers everything.
	b := dial(t, nodes[1], wstest.Protobuf)
	b.Connect("")
	b.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: sub.Offset, Epoch: sub.Epoch}})
	res := b.Reply(2).Subscribe
	if res == nil || !res.Recovered || len(res.Publications) != 8 {
		t.Fatalf("recovery on another node = %v, want 8 publications recovered", res)
	}
}

func TestRedisRestartKeepsClientsAndTellsTheTruth(t *testing.T) {
	r := testredis.Start(t)
	// Short position checks: the client must learn of the lost stream even
	// if no publication reaches this node after the restart.
	nodes := startClusterWith(t, 1, map[string]any{
		"client_presence_update_interval":     "200ms",
		"client_channel_position_check_delay": "400ms",
	}, r.Addr())
	ctx := context.Background()
	ch := "chat:restart"

	c := dial(t, nodes[0], wstest.JSON)
	c.Connect("")
	c.Send(&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: ch}})
	sub := c.Reply(2).Subscribe
	if _, err := nodes[0].Node.Publish(ctx, ch, []byte(`{"n":1}`), node.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Next("first publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })

	r.Restart() // an empty Redis: history is gone

	// While Redis comes back the API answers errors, not hangs; once it is
	// back, publishing works again. The stream restarted under a new epoch,
	// so the connected client cannot have continuity: it is told to
	// resubscribe (2500) instead of silently missing what was lost —
	// whether or not the new publication reaches this node (it is lost if
	// published before the node's PUB/SUB link is back), because the
	// periodic position check sees the new epoch.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := nodes[0].Node.Publish(ctx, ch, []byte(`{"n":2}`), node.PublishOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish still failing after Redis restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	u := c.Next("unsubscribe after restart", func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Unsubscribe != nil
	})
	if u.Push.Unsubscribe.Code != 2500 {
		t.Fatalf("unsubscribe push = %v, want code 2500 (insufficient state: resubscribe)", u.Push.Unsubscribe)
	}

	// A client resubscribing with its old position is told honestly that
	// continuity cannot be proven: the stream restarted with a new epoch.
	// The node's PUB/SUB link may still be coming back (a publish only
	// proves the command link): a temporary error is what an SDK retries,
	// so this client does too.
	d := dial(t, nodes[0], wstest.JSON)
	d.Connect("")
	var res *clientpb.SubscribeResult
	for id := uint32(2); ; id++ {
		d.Send(&clientpb.Command{Id: id, Subscribe: &clientpb.SubscribeRequest{Channel: ch, Recover: true, Offset: sub.Offset + 1, Epoch: sub.Epoch}})
		r := d.Reply(id)
		if r.Error != nil && r.Error.Temporary && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if r.Error != nil {
			t.Fatalf("resubscribe after Redis came back: error %v", r.Error)
		}
		res = r.Subscribe
		break
	}
	if res == nil || res.Recovered || res.Epoch == sub.Epoch {
		t.Fatalf("resubscribe after Redis lost history = %v, want recovered false with a new epoch", res)
	}
}

func connectToken(t *testing.T, user string) string {
	t.Helper()
	tok, err := auth.GenerateConnectToken(testSecret, user, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSentinelTLSConfig: engine.redis.sentinel_tls (v5 redis_sentinel_tls*)
// reaches the engine as the sentinels' TLS, apart from the data servers'.
func TestSentinelTLSConfig(t *testing.T) {
	ca := newTestCA(t, "sentinel CA")
	data, err := json.Marshal(map[string]any{
		"api_key": "k",
		"engine": map[string]any{"type": "redis", "redis": map[string]any{
			"sentinel_address": []string{"127.0.0.1:26379"}, "sentinel_master_name": "m",
			"sentinel_tls": map[string]any{"enabled": true, "server_ca_pem": string(ca.pem), "server_name": "sentinel.internal"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.LoadOptions{File: "config.json", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	o, err := redis.FromSettings(redisSettings(cfg.Engine.Redis), time.Minute, time.Hour, "n")
	if err != nil {
		t.Fatal(err)
	}
	if o.SentinelTLS == nil || o.SentinelTLS.RootCAs == nil || o.SentinelTLS.ServerName != "sentinel.internal" || o.SentinelTLS.MinVersion != tls.VersionTLS12 {
		t.Fatalf("sentinel TLS = %+v, want the CA and server name", o.SentinelTLS)
	}
	if o.TLS != nil {
		t.Fatalf("data servers got TLS %+v; only sentinel_tls was set", o.TLS)
	}
}
