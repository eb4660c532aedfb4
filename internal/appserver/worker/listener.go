package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/internal/rraddr"
)

// socketListener is the tcp:// or unix:// relay endpoint: workers connect
// to it, the pid handshake tells which process each connection belongs to,
// and spawners claim their connection by pid.
type socketListener struct {
	ln       net.Listener
	dsn      string // what workers are told in RR_RELAY (real port if :0)
	log      *slog.Logger
	timeout  time.Duration // handshake and unclaimed-connection lifetime
	maxFrame uint32

	mu      sync.Mutex
	pending map[int]*relay        // handshaken, not yet claimed
	waiting map[int]chan *relay   // spawners waiting for their pid
	timers  map[int]*time.Timer   // expiry of pending entries
	shaking map[net.Conn]struct{} // connections in the pid handshake
	closed  bool
	wg      sync.WaitGroup
}

func listenRelay(k relayKind, timeout time.Duration, maxFrame uint32, log *slog.Logger) (*socketListener, error) {
	// rraddr.Listen clears a socket file left by a crashed run but refuses
	// one another process still listens on: two pools sharing a relay
	// path would otherwise steal each other's workers' connections.
	ln, err := rraddr.Listen(rraddr.Address{Network: k.network, Addr: k.address})
	if err != nil {
		return nil, fmt.Errorf("server.relay: %w", err)
	}
	l := &socketListener{
		ln: ln, log: log, timeout: timeout, maxFrame: maxFrame,
		dsn:     k.network + "://" + ln.Addr().String(),
		pending: map[int]*relay{}, waiting: map[int]chan *relay{}, timers: map[int]*time.Timer{},
		shaking: map[net.Conn]struct{}{},
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

func (l *socketListener) acceptLoop() {
	defer l.wg.Done()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.Warn("worker relay accept failed", "relay", l.dsn, "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = conn.Close()
			return
		}
		l.shaking[conn] = struct{}{}
		l.mu.Unlock()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handshake(conn)
		}()
	}
}

// handshake runs the pid exchange on a fresh connection and files it under
// the pid the worker reports.
func (l *socketListener) handshake(conn net.Conn) {
	defer func() {
		l.mu.Lock()
		delete(l.shaking, conn)
		l.mu.Unlock()
	}()
	rel := newRelay(conn, conn, l.maxFrame, conn)
	_ = conn.SetDeadline(time.Now().Add(l.timeout))
	pid, err := func() (int, error) {
		if err := rel.send(pidRequest()); err != nil {
			return 0, err
		}
		f, err := rel.receive()
		if err != nil {
			return 0, fmt.Errorf("reading pid reply: %w", err)
		}
		return parsePIDReply(f)
	}()
	if err != nil {
		l.log.Warn("worker connection failed the pid handshake", "relay", l.dsn, "remote", conn.RemoteAddr().String(), "error", err)
		rel.close()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	l.deliver(pid, rel)
}

func (l *socketListener) deliver(pid int, rel *relay) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		rel.close()
		return
	}
	if ch, ok := l.waiting[pid]; ok {
		delete(l.waiting, pid)
		ch <- rel
		return
	}
	if old, ok := l.pending[pid]; ok {
		old.close()
		l.timers[pid].Stop()
	}
	l.pending[pid] = rel
	l.timers[pid] = time.AfterFunc(l.timeout, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.pending[pid] == rel {
			delete(l.pending, pid)
			delete(l.timers, pid)
			rel.close()
			l.log.Warn("closed a worker connection nobody claimed", "relay", l.dsn, "pid", pid)
		}
	})
}

// claim waits for the connection of the process with this pid, until ctx
// ends or the process exits.
func (l *socketListener) claim(ctx context.Context, pid int, exited <-chan struct{}) (*relay, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, fmt.Errorf("relay listener %s is closed", l.dsn)
	}
	if rel, ok := l.pending[pid]; ok {
		delete(l.pending, pid)
		l.timers[pid].Stop()
		delete(l.timers, pid)
		l.mu.Unlock()
		return rel, nil
	}
	ch := make(chan *relay, 1)
	l.waiting[pid] = ch
	l.mu.Unlock()

	var cause error
	select {
	case rel := <-ch:
		return rel, nil
	case <-ctx.Done():
		cause = fmt.Errorf("worker did not connect to %s: %w", l.dsn, ctx.Err())
	case <-exited:
		cause = fmt.Errorf("worker exited before connecting to %s", l.dsn)
	}
	l.mu.Lock()
	delete(l.waiting, pid)
	l.mu.Unlock()
	select {
	case rel := <-ch: // delivered while we gave up
		rel.close()
	default:
	}
	return nil, cause
}

// close stops accepting and drops every unclaimed connection.
func (l *socketListener) close() {
	l.mu.Lock()
	l.closed = true
	for pid, rel := range l.pending {
		rel.close()
		l.timers[pid].Stop()
	}
	l.pending, l.timers = map[int]*relay{}, map[int]*time.Timer{}
	for conn := range l.shaking {
		_ = conn.Close()
	}
	l.mu.Unlock()
	_ = l.ln.Close()
	l.wg.Wait()
}
