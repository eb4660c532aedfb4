package enginetest

import (
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

func (e *env) presence(t *testing.T, channel string) map[string]*engine.ClientInfo {
	t.Helper()
	p, err := e.eng.Presence(e.ctx, channel)
	if err != nil {
		t.Fatalf("presence of %q: %v", channel, err)
	}
	return p
}

func (e *env) stats(t *testing.T, channel string) engine.PresenceStats {
	t.Helper()
	s, err := e.eng.PresenceStats(e.ctx, channel)
	if err != nil {
		t.Fatalf("presence stats of %q: %v", channel, err)
	}
	return s
}

func (e *env) addPresence(t *testing.T, channel string, info *engine.ClientInfo) {
	t.Helper()
	if err := e.eng.AddPresence(e.ctx, channel, info.Client, info); err != nil {
		t.Fatalf("add presence: %v", err)
	}
}

func testPresence(t *testing.T, e *env) {
	c := e.ch("c")
	if p := e.presence(t, e.ch("empty")); len(p) != 0 {
		t.Errorf("presence of an unknown channel has %d entries", len(p))
	}
	if s := e.stats(t, e.ch("empty")); s != (engine.PresenceStats{}) {
		t.Errorf("stats of an unknown channel %+v", s)
	}
	infos := []*engine.ClientInfo{
		{User: "u1", Client: "c1", ConnInfo: []byte(`{"n":1}`)},
		{User: "u1", Client: "c2", ChanInfo: []byte(`{"n":2}`)},
		{User: "u2", Client: "c3"},
		{User: "", Client: "c4"},
	}
	for _, info := range infos {
		e.addPresence(t, c, info)
	}
	p := e.presence(t, c)
	if len(p) != len(infos) {
		t.Fatalf("presence has %d entries, want %d", len(p), len(infos))
	}
	for _, info := range infos {
		if !sameInfo(p[info.Client], info) {
			t.Errorf("presence[%q] = %+v, want %+v", info.Client, p[info.Client], info)
		}
	}
	steps := []struct {
		remove, user string
		want         engine.PresenceStats
	}{
		{"", "", engine.PresenceStats{NumClients: 4, NumUsers: 3}},
		{"c2", "u1", engine.PresenceStats{NumClients: 3, NumUsers: 3}},
		{"c1", "u1", engine.PresenceStats{NumClients: 2, NumUsers: 2}},
		{"missing", "u9", engine.PresenceStats{NumClients: 2, NumUsers: 2}},
		{"c4", "", engine.PresenceStats{NumClients: 1, NumUsers: 1}},
	}
	for _, s := range steps {
		if s.remove != "" {
			if err := e.eng.RemovePresence(e.ctx, c, s.remove, s.user); err != nil {
				t.Fatalf("remove presence %q: %v", s.remove, err)
			}
		}
		if got := e.stats(t, c); got != s.want {
			t.Errorf("after removing %q: stats %+v, want %+v", s.remove, got, s.want)
		}
	}
	// Re-adding an entry replaces its info.
	e.addPresence(t, c, &engine.ClientInfo{User: "u2", Client: "c3", ConnInfo: []byte(`{"v":2}`)})
	p = e.presence(t, c)
	if len(p) != 1 || string(p["c3"].ConnInfo) != `{"v":2}` {
		t.Errorf("after re-add presence = %v, want only c3 with new info", p)
	}
}

func testPresenceExpiry(t *testing.T, e *env) {
	c := e.ch("c")
	start := time.Now()
	e.addPresence(t, c, &engine.ClientInfo{User: "u", Client: "c1"})
	time.Sleep(PresenceTTL / 3)
	p := e.presence(t, c)
	if time.Since(start) < PresenceTTL && len(p) != 1 {
		t.Fatalf("entry missing %v after add, before the TTL %v", time.Since(start), PresenceTTL)
	}
	waitFor(t, "presence expiry", func() bool { return len(e.presence(t, c)) == 0 })
	if time.Since(start) < PresenceTTL {
		t.Errorf("entry expired after %v, before the TTL %v", time.Since(start), PresenceTTL)
	}
	if s := e.stats(t, c); s != (engine.PresenceStats{}) {
		t.Errorf("stats after expiry %+v, want zero", s)
	}
}

func testPresenceRefresh(t *testing.T, e *env) {
	c := e.ch("c")
	e.addPresence(t, c, &engine.ClientInfo{User: "u1", Client: "kept"})
	e.addPresence(t, c, &engine.ClientInfo{User: "u2", Client: "dropped"})
	time.Sleep(PresenceTTL * 6 / 10)
	refreshed := time.Now()
	e.addPresence(t, c, &engine.ClientInfo{User: "u1", Client: "kept"})

	var p map[string]*engine.ClientInfo
	waitFor(t, "the unrefreshed entry to expire", func() bool {
		p = e.presence(t, c)
		return p["dropped"] == nil
	})
	if time.Since(refreshed) < PresenceTTL && p["kept"] == nil {
		t.Fatalf("refreshed entry expired %v after its refresh, before the TTL %v", time.Since(refreshed), PresenceTTL)
	}
	waitFor(t, "the refreshed entry to expire", func() bool { return len(e.presence(t, c)) == 0 })
	if time.Since(refreshed) < PresenceTTL {
		t.Errorf("refreshed entry expired %v after its refresh, before the TTL %v", time.Since(refreshed), PresenceTTL)
	}
}
