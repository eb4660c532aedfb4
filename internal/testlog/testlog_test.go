package testlog

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

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
	got := b.WaitFor(t, "line 0", "line 7")
	wg.Wait()
	if len(got) == 0 {
		t.Fatal("empty")
	}
}
