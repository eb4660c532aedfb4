package worker

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

// tail forwards a worker's stderr to the logger line by line and keeps the
// last few lines, so a worker that dies at start-up can say why.
type tail struct {
	mu     sync.Mutex
	max    int
	buf    []string
	closed chan struct{}
}

func newTail(max int) *tail { return &tail{max: max, closed: make(chan struct{})} }

// forward logs every line of r (long lines are split at 64 KiB) until EOF.
func (t *tail) forward(r io.ReadCloser, pid int, log *slog.Logger) {
	defer close(t.closed)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, _, err := br.ReadLine()
		if len(line) > 0 {
			s := string(line)
			log.Info("worker stderr", "pid", pid, "line", s)
			t.mu.Lock()
			if len(t.buf) == t.max {
				t.buf = append(t.buf[:0], t.buf[1:]...)
			}
			t.buf = append(t.buf, s)
			t.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.buf...)
}

// waitClosed gives the forwarder a moment to drain output written just
// before the process exited.
func (t *tail) waitClosed(d time.Duration) {
	select {
	case <-t.closed:
	case <-time.After(d):
	}
}
