package node

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writers counts goroutines running a connection's writer.
func writers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "node.(*Client).writeLoop")
}

// TestWriterOnlyWhileBusy: a connection's writer goroutine ends after its
// connect reply, a busy connection keeps one (no goroutine per frame), the
// sweeper ends it once the connection is quiet, and a later push starts
// one again and is delivered.
func TestWriterOnlyWhileBusy(t *testing.T) {
	e := newHubEnv(t)
	base := writers()
	tc := e.connectUser(t, "alice")
	tc.ok(subCmd("news"))
	eventually(t, "writer gone after the subscribe reply", func() bool { return writers() == base })

	publish := func(data string) {
		if _, err := e.node.Publish(context.Background(), "news", []byte(data), PublishOptions{}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for i := 0; i < 20; i++ {
		publish(`{"i":1}`)
		time.Sleep(5 * time.Millisecond)
	}
	if got := writers() - base; got != 1 {
		t.Fatalf("%d writers on a busy connection, want 1", got)
	}
	eventually(t, "20 publications delivered", func() bool { return len(tc.pubs("news")) == 20 })
	deadline := time.Now().Add(4 * writerSweepInterval)
	for writers() != base {
		if time.Now().After(deadline) {
			t.Fatalf("writer still running %s after the last push", 4*writerSweepInterval)
		}
		time.Sleep(20 * time.Millisecond)
	}
	publish(`{"i":2}`)
	eventually(t, "the publication after the writer retired", func() bool {
		p := tc.pubs("news")
		return len(p) == 21 && p[20] == `{"i":2}`
	})
}
