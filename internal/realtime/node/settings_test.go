package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
)

func hmacVerifier(t *testing.T, secret string) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(auth.TokenConfig{HMACSecretKey: secret}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Reconfigure is what a SIGHUP reload calls: new verifiers and new channel
// and client options take effect for the next command, and a bad
// configuration is refused with the old one kept.
func TestReconfigure(t *testing.T) {
	const newSecret = "hub-test-rotated-secret"
	tokenWith := func(secret string) string {
		t.Helper()
		tok, err := auth.GenerateConnectToken(secret, "alice", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name  string
		apply func(t *testing.T, env *hubEnv) error
		check func(t *testing.T, env *hubEnv)
	}{
		{"rotated token secret: old tokens refused, new accepted", func(t *testing.T, env *hubEnv) error {
			s := env.node.settings()
			return env.node.Reconfigure(s.cfg, hmacVerifier(t, newSecret), s.subTok)
		}, func(t *testing.T, env *hubEnv) {
			if got := env.newClient(t, protocol.TypeProtobuf).disconnectCode(connectCmd(tokenWith(testSecret))); got != int(DisconnectInvalidToken.Code) {
				t.Fatalf("token with the old secret: close %d, want %d", got, DisconnectInvalidToken.Code)
			}
			env.connect(t, tokenWith(newSecret))
		}},
		{"namespace closed for subscribers", func(t *testing.T, env *hubEnv) error {
			s := env.node.settings()
			cfg := s.cfg
			cfg.Channel.Namespaces = nil // "public:" is now an unknown namespace
			return env.node.Reconfigure(cfg, s.tokens, s.subTok)
		}, func(t *testing.T, env *hubEnv) {
			if code := env.connectUser(t, "alice").errCode(subCmd("public:x")); code != ErrorUnknownChannel.Code {
				t.Fatalf("subscribe to a removed namespace: %d", code)
			}
		}},
		{"user connection limit lowered", func(t *testing.T, env *hubEnv) error {
			s := env.node.settings()
			cfg := s.cfg
			cfg.Client.UserConnectionLimit = 1
			return env.node.Reconfigure(cfg, s.tokens, s.subTok)
		}, func(t *testing.T, env *hubEnv) {
			env.connectUser(t, "alice")
			if got := env.newClient(t, protocol.TypeProtobuf).disconnectCode(connectCmd(connToken(t, "alice", 0, nil))); got != int(DisconnectConnectionLimit.Code) {
				t.Fatalf("second connection: close %d", got)
			}
		}},
		{"bad channel regex refused, old config kept", func(t *testing.T, env *hubEnv) error {
			s := env.node.settings()
			cfg := s.cfg
			cfg.Channel.Namespaces = []Namespace{{Name: "x", ChannelOptions: ChannelOptions{ChannelRegex: "("}}}
			if err := env.node.Reconfigure(cfg, s.tokens, s.subTok); err == nil {
				t.Fatal("bad regex accepted")
			}
			return nil
		}, func(t *testing.T, env *hubEnv) {
			env.connectUser(t, "alice").ok(subCmd("public:x"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newHubEnv(t)
			if err := tt.apply(t, env); err != nil {
				t.Fatalf("reconfigure: %v", err)
			}
			tt.check(t, env)
		})
	}
}

// Reloads swap the settings while clients connect, subscribe and call
// RPC; run with -race. Both verifiers accept the test tokens, so every
// command must succeed whichever configuration it meets.
func TestReconfigureUnderConcurrency(t *testing.T) {
	env := newHubEnv(t)
	base := env.node.settings()
	verifiers := []TokenVerifier{base.tokens, hmacVerifier(t, testSecret)}
	stop := make(chan struct{})
	reloaderDone := make(chan struct{})
	go func() {
		defer close(reloaderDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cfg := base.cfg
			cfg.Client.ChannelLimit = 10 + i%2
			cfg.RPC.Ping, cfg.RPC.PingMethod = i%2 == 0, "ping"
			if err := env.node.Reconfigure(cfg, verifiers[i%2], base.subTok); err != nil {
				t.Errorf("reconfigure: %v", err)
				return
			}
		}
	}()
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 20 {
				tc := env.connectUser(t, fmt.Sprintf("user-%d-%d", w, i))
				tc.ok(subCmd(fmt.Sprintf("public:c%d", i)))
				tc.call(rpcCmd("ping", "{}"))
				tc.c.Disconnect(DisconnectForceReconnect)
			}
		}()
	}
	workers.Wait()
	close(stop)
	<-reloaderDone
}

// tapEngine hands every control message a node publishes to another
// node, as Redis does between two servers.
type tapEngine struct {
	engine.Engine
	mu   sync.Mutex
	peer *Node
}

func (e *tapEngine) PublishControl(ctx context.Context, data []byte, nodeID string) error {
	e.mu.Lock()
	peer := e.peer
	e.mu.Unlock()
	if peer != nil {
		if err := peer.handleControl(data); err != nil {
			return err
		}
	}
	return e.Engine.PublishControl(ctx, data, nodeID)
}

// A node that shuts down tells the others, whose info drops it at once
// instead of after three missed announcements.
func TestShutdownRemovesNodeFromOthersInfo(t *testing.T) {
	other := newHubEnv(t)
	tap := &tapEngine{Engine: memory.New(memory.Options{}), peer: other.node}
	leaving, err := New(Config{Name: "leaving"}, Options{Engine: tap, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := leaving.Run(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the leaving node announced", func() bool {
		infos, _ := other.node.Info(t.Context())
		return len(infos) == 2
	})
	if err := leaving.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	infos, err := other.node.Info(t.Context())
	if err != nil || len(infos) != 1 || infos[0].UID != other.node.ID() {
		t.Fatalf("info after the other node's shutdown: %+v %v", infos, err)
	}
	// New connections during and after the shutdown are refused with the
	// shutdown code, which the transport sends as the close code.
	if _, err := leaving.NewClient(newFakeTransport(protocol.TypeJSON), RequestInfo{}); err != DisconnectShutdown {
		t.Fatalf("new client after shutdown: %v", err)
	}
}
