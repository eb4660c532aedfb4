package app

import (
	"errors"
	"net"
	"sync"
	"time"
)

// http2Preface opens every HTTP/2 connection; gRPC clients (Centrifugo
// among them) send it right away, in cleartext, with prior knowledge.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniffTimeout bounds how long a new connection may take to send enough
// bytes to be told apart.
const sniffTimeout = 10 * time.Second

// mux splits one listener into a gRPC and an HTTP/1 listener by the
// first bytes each connection sends, so that one port serves both proxy
// variants with the native gRPC server (no HTTP/2 bridging). Cleartext
// HTTP/2 that is not gRPC is therefore not supported on the HTTP side;
// Centrifugo's HTTP proxy client speaks HTTP/1.1 to http:// endpoints.
type mux struct {
	root     net.Listener
	grpc     *chanListener
	http     *chanListener
	mu       sync.Mutex
	sniffing map[net.Conn]struct{}
	closed   bool
}

func newMux(root net.Listener) *mux {
	return &mux{
		root:     root,
		grpc:     newChanListener(root.Addr()),
		http:     newChanListener(root.Addr()),
		sniffing: map[net.Conn]struct{}{},
	}
}

// run accepts until the root listener is closed; it returns nil then, or
// the error that stopped it.
func (m *mux) run() error {
	var backoff time.Duration
	for {
		c, err := m.root.Accept()
		if err != nil {
			if m.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: wait, don't spin.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !m.track(c) {
			_ = c.Close()
			return nil
		}
		go m.classify(c)
	}
}

// isTemporary recognises accept errors worth retrying (EMFILE, ENFILE,
// ECONNABORTED), which net reports through the deprecated Temporary.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (m *mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.sniffing[c] = struct{}{}
	return true
}

func (m *mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.sniffing, c)
	m.mu.Unlock()
}

func (m *mux) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// classify reads just enough of c to tell whether it starts with the
// HTTP/2 preface and hands it, bytes included, to the right listener.
func (m *mux) classify(c net.Conn) {
	defer m.untrack(c)
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	buf := make([]byte, len(http2Preface))
	n := 0
	isGRPC := false
	for {
		k, err := c.Read(buf[n:])
		n += k
		if string(buf[:n]) != http2Preface[:n] {
			break
		}
		if n == len(buf) {
			isGRPC = true
			break
		}
		if err != nil {
			_ = c.Close()
			return
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &prefixConn{Conn: c, prefix: buf[:n]}
	target := m.http
	if isGRPC {
		target = m.grpc
	}
	if !target.deliver(pc) {
		_ = c.Close()
	}
}

// close stops accepting and interrupts connections still being sniffed.
func (m *mux) close() {
	m.mu.Lock()
	m.closed = true
	for c := range m.sniffing {
		_ = c.SetReadDeadline(time.Now())
	}
	m.mu.Unlock()
	_ = m.root.Close()
}

// prefixConn replays the sniffed bytes before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// chanListener is a net.Listener fed by the mux.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// deliver passes c to Accept; false when the listener is closed.
func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
