package testlog

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBufferConcurrentWritesAndWait: lines written late by other goroutines
// are found by WaitFor (run with -race for the concurrent writes).
func TestBufferConcurrentWritesAndWait(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			fmt.Fprintf(&b, "line %d\n", i)
		}()
	}
	b.WaitFor(t, "line 0", "line 7")
	wg.Wait()
	for i := 0; i < 8; i++ {
		if want := fmt.Sprintf("line %d\n", i); !strings.Contains(b.String(), want) {
			t.Fatalf("lost a write: %q missing from %q", want, b.String())
		}
	}
}
