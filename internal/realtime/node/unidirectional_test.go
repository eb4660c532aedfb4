package node

import (
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// fakeUni is a unidirectional transport: frames are bare pushes.
type fakeUni struct{ *fakeTransport }

func (f fakeUni) Unidirectional() bool { return true }

func (e *hubEnv) newUniClient(t *testing.T) (*Client, *fakeTransport) {
	t.Helper()
	tr := newFakeTransport(protocol.TypeJSON)
	tr.name, tr.raw = "uni_sse", true
	c, err := e.node.NewClient(fakeUni{tr}, RequestInfo{RemoteAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

func (f *fakeTransport) waitFrames(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	f.waitUntil(t, "frames", func() bool {
		out = out[:0]
		for _, b := range f.frames {
			out = append(out, string(b))
		}
		return len(out) >= n
	})
	return out
}

func TestUnidirectionalSession(t *testing.T) {
	env := newHubEnv(t)
	c, tr := env.newUniClient(t)
	// Server-side subscriptions come from the token's channels claim.
	if !c.ConnectUnidirectional(&clientpb.ConnectRequest{Token: connToken(t, "alice", 0, map[string]any{"channels": []string{"news"}})}) {
		t.Fatalf("connect refused: closed %v", tr.closeCode)
	}
	first := tr.waitFrames(t, 1)[0]
	if !strings.HasPrefix(first, `{"connect":{"client":"`) || !strings.Contains(first, `"subs":{"news":`) || strings.Contains(first, `"pong"`) || strings.Contains(first, `"node"`) {
		t.Fatalf("first frame %s: want a bare connect push with the subscription, no pong, no node", first)
	}
	if !strings.Contains(first, `"session":"`) {
		t.Errorf("the connect push names the session: %s", first)
	}
	if _, err := env.node.Publish(t.Context(), "news", []byte(`{"n":1}`), PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	frames := tr.waitFrames(t, 2)
	if !strings.HasPrefix(frames[1], `{"channel":"news","pub":{"data":{"n":1}`) {
		t.Fatalf("publication frame %s: want a bare push", frames[1])
	}
}

func TestUnidirectionalConnectErrorsBecomeDisconnects(t *testing.T) {
	env := newHubEnv(t)
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"expired token: 109 becomes 3005", connToken(t, "a", 0, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}), 3005},
		{"bad signature stays 3500", "e30.e30.sig", 3500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, tr := env.newUniClient(t)
			if c.ConnectUnidirectional(&clientpb.ConnectRequest{Token: tt.token}) {
				t.Fatal("connect succeeded")
			}
			if code := tr.waitClosed(t); code != tt.want {
				t.Fatalf("closed %d, want %d", code, tt.want)
			}
		})
	}
}

// A unidirectional client cannot pong; its pings must not close it 3012.
func TestUnidirectionalPingsWantNoPong(t *testing.T) {
	env := newHubEnv(t, func(cfg *Config, _ *Proxy) {
		cfg.Client.PingInterval, cfg.Client.PongTimeout = 40*time.Millisecond, 20*time.Millisecond
	})
	c, tr := env.newUniClient(t)
	if !c.ConnectUnidirectional(&clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}) {
		t.Fatal("connect refused")
	}
	frames := tr.waitFrames(t, 4) // connect push and three pings
	for _, f := range frames[1:4] {
		if f != "{}" {
			t.Fatalf("ping frame %q, want {}", f)
		}
	}
	if closed, code := tr.isClosed(); closed {
		t.Fatalf("closed %d after pings nobody can answer", code)
	}
}
