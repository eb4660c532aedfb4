package worker

import (
	"fmt"
	"io"
	"sync"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/internal/rraddr"
)

const relayPipes = "pipes"

// relay carries frames between the pool and one worker, whatever the
// transport (pipes or an accepted socket).
type relay struct {
	r       *frame.Reader
	wmu     sync.Mutex // one frame at a time: exec and stop never interleave
	w       io.Writer
	wbuf    []byte
	closers []io.Closer
	once    sync.Once
}

func newRelay(r io.Reader, w io.Writer, maxFrame uint32, closers ...io.Closer) *relay {
	return &relay{r: frame.NewReader(r, maxFrame), w: w, closers: closers}
}

// send writes f as a single write.
func (r *relay) send(f frame.Frame) error {
	return r.write(func(dst []byte) ([]byte, error) { return frame.Append(dst, f) })
}

// sendPayload writes a request frame without an intermediate copy.
func (r *relay) sendPayload(p Payload) error {
	return r.write(func(dst []byte) ([]byte, error) { return appendRequest(dst, p) })
}

func (r *relay) write(encode func([]byte) ([]byte, error)) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	buf, err := encode(r.wbuf[:0])
	if err != nil {
		return err
	}
	if cap(buf) <= 1<<20 {
		r.wbuf = buf // keep ordinary buffers, drop huge ones
	}
	if _, err := r.w.Write(buf); err != nil {
		return fmt.Errorf("writing to worker: %w", err)
	}
	return nil
}

// receive reads the next frame; only one reader at a time uses it.
func (r *relay) receive() (frame.Frame, error) {
	return r.r.ReadFrame()
}

// close releases the transport and unblocks a pending send or receive.
func (r *relay) close() {
	r.once.Do(func() {
		for _, c := range r.closers {
			_ = c.Close()
		}
	})
}

// relayKind is the parsed server.relay DSN.
type relayKind struct {
	network string // "pipes", "tcp" or "unix"
	address string // host:port or socket path
}

// parseRelay accepts the DSNs RoadRunner accepts for server.relay: pipes,
// or a socket address in the syntax rpc.listen and the config validator
// share (rraddr.ParseDSN).
func parseRelay(dsn string) (relayKind, error) {
	if dsn == "" || dsn == relayPipes {
		return relayKind{network: relayPipes}, nil
	}
	a, err := rraddr.ParseDSN(dsn)
	if err != nil {
		return relayKind{}, fmt.Errorf("server.relay: invalid DSN: want pipes, tcp://host:port or unix:///path/file.sock: %w", err)
	}
	return relayKind{network: a.Network, address: a.Addr}, nil
}
