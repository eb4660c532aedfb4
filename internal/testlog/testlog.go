// Package testlog is a log sink for tests whose code under test logs from
// several goroutines: a buffer safe for concurrent writes, and a wait for
// lines that land shortly after the call that caused them. Only tests
// import it.
package testlog

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer collects what is written to it, from any goroutine.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor waits up to two seconds until the buffer holds every part and
// returns its content; the test fails with the content otherwise. Log lines
// of handlers that were abandoned at a deadline may land after the reply.
func (b *Buffer) WaitFor(t testing.TB, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		s := b.String()
		missing := false
		for _, p := range parts {
			if !strings.Contains(s, p) {
				missing = true
				break
			}
		}
		if !missing {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", parts, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
