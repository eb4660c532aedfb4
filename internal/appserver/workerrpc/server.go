package workerrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/internal/rraddr"
	"github.com/spindle-rt/spindle/internal/version"
)

// Defaults for Options fields left at zero.
const (
	DefaultMaxFrameSize    = 16 << 20
	DefaultMaxInFlight     = 64
	DefaultShutdownTimeout = 10 * time.Second
)

// Options configure a Server; the zero value serves the built-in methods
// only (centrifuge.* then fail with a clear error).
type Options struct {
	// API is the real-time server API the centrifuge.* methods forward to.
	API apiclient.Client
	// APITimeout is the deadline of each forwarded call (RoadRunner has
	// none). Zero means apiclient.DefaultTimeout.
	APITimeout time.Duration
	// Pool backs informer.Workers and resetter.Reset; nil disables them.
	Pool Pool
	// WorkerCommand is shown as each worker's command by informer.Workers.
	WorkerCommand string
	// Version is what rpc.Version answers. Empty means version.Version,
	// the binary's own, so an embedder cannot forget to report one.
	Version string
	// Logger gets bad frames and failed calls; nil means slog.Default().
	Logger *slog.Logger
	// MaxFrameSize bounds one request frame's payload. Zero means
	// DefaultMaxFrameSize.
	MaxFrameSize uint32
	// MaxInFlight bounds concurrent calls per connection; the connection
	// is not read further until one finishes. Zero means
	// DefaultMaxInFlight.
	MaxInFlight int
	// ShutdownTimeout bounds how long calls in flight may run after Serve's
	// context ends. Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server answers goridge RPC calls from workers. It is safe for
// concurrent use; one Server may serve several listeners.
type Server struct {
	api             apiclient.Client
	apiTimeout      time.Duration
	pool            Pool
	command         string
	version         string
	log             *slog.Logger
	maxFrame        uint32
	maxInFlight     int
	shutdownTimeout time.Duration
}

// New returns a Server with opts' defaults applied.
func New(opts Options) *Server {
	s := &Server{
		api: opts.API, apiTimeout: opts.APITimeout, pool: opts.Pool, command: opts.WorkerCommand,
		version: opts.Version, log: opts.Logger, maxFrame: opts.MaxFrameSize,
		maxInFlight: opts.MaxInFlight, shutdownTimeout: opts.ShutdownTimeout,
	}
	if s.apiTimeout <= 0 {
		s.apiTimeout = apiclient.DefaultTimeout
	}
	if s.version == "" {
		s.version = version.Version
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxFrame == 0 {
		s.maxFrame = DefaultMaxFrameSize
	}
	if s.maxInFlight <= 0 {
		s.maxInFlight = DefaultMaxInFlight
	}
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = DefaultShutdownTimeout
	}
	return s
}

// Listen opens the rpc.listen address: tcp://host:port or unix:///path,
// never bare host:port (RoadRunner refuses it too). A stale socket file is
// removed first; a live one is an error.
func Listen(address string) (net.Listener, error) {
	a, err := rraddr.ParseDSN(address)
	if err != nil {
		return nil, fmt.Errorf("rpc.listen: %w", err)
	}
	ln, err := rraddr.Listen(a)
	if err != nil {
		return nil, fmt.Errorf("rpc.listen: %w", err)
	}
	return ln, nil
}

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe(ctx context.Context, address string) error {
	ln, err := Listen(address)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve answers calls on ln until ctx ends. Then it stops accepting and
// reading, lets calls in flight finish (at most ShutdownTimeout), closes
// every connection and returns nil. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// calls run under hard, which outlives ctx by the shutdown grace.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.SetReadDeadline(time.Now()) // readers stop; writers finish
		}
		mu.Unlock()
	})
	defer stop()

	var acceptErr error
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				acceptErr = fmt.Errorf("rpc.listen: accept: %w", err)
				_ = ln.Close()
			}
			break
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			_ = c.Close()
			break
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(hard, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.shutdownTimeout):
		s.log.Warn("worker RPC: calls still running at the shutdown deadline; cancelling them")
		cancelHard()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		<-done
	}
	return acceptErr
}

// serveConn reads calls from one connection and answers each in its own
// goroutine, at most maxInFlight at a time.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	var (
		wg   sync.WaitGroup
		wmu  sync.Mutex
		sem  = make(chan struct{}, s.maxInFlight)
		rd   = frame.NewReader(c, s.maxFrame)
		peer = c.RemoteAddr().String()
	)
	defer func() {
		wg.Wait()
		_ = c.Close()
	}()
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				s.log.Warn("worker RPC: unreadable frame; closing the connection", "peer", peer, "error", err)
			}
			return
		}
		cl, err := parseCall(f)
		if err != nil {
			s.log.Warn("worker RPC: malformed call; closing the connection", "peer", peer, "error", err)
			return
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out := s.answer(ctx, cl)
			wmu.Lock()
			_, err := c.Write(out)
			wmu.Unlock()
			if err != nil {
				s.log.Debug("worker RPC: writing reply", "peer", peer, "method", cl.method, "error", err)
			}
		}()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// answer runs one call and returns the encoded reply frame.
func (s *Server) answer(ctx context.Context, cl call) []byte {
	start := time.Now()
	body, err := s.run(ctx, cl)
	if err != nil {
		s.log.Debug("worker RPC call failed", "method", cl.method, "error", err, "took", time.Since(start))
		return cl.reply(frame.FlagError, []byte(err.Error()))
	}
	s.log.Debug("worker RPC call", "method", cl.method, "took", time.Since(start))
	return cl.reply(0, body)
}

// run finds the method and calls it, turning a panic into an error.
func (s *Server) run(ctx context.Context, cl call) (out []byte, err error) {
	h, err := lookup(cl.method)
	if err != nil {
		return nil, err
	}
	if cl.codec == 0 {
		return nil, fmt.Errorf("%s: codec %s is not supported; use proto or json", cl.method, codecName(cl.flags))
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("worker RPC: method panicked", "method", cl.method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("%s: internal error", cl.method)
		}
	}()
	return h(ctx, s, cl.codec, cl.body)
}

// lookup maps "service.Method" to its handler, with net/rpc's messages for
// names it does not know.
func lookup(method string) (handler, error) {
	if h, ok := builtins[method]; ok {
		return h, nil
	}
	svc, name, ok := strings.Cut(method, ".")
	if !ok || svc == "" || name == "" {
		return nil, fmt.Errorf("rpc: service/method request ill-formed: %q", method)
	}
	switch svc {
	case ServiceName:
		if h, ok := apiMethods[name]; ok {
			return h, nil
		}
		if proMethods[name] {
			return proMethod(name), nil
		}
	case "rpc", "informer", "resetter":
	default:
		return nil, fmt.Errorf("rpc: can't find service %s", method)
	}
	return nil, fmt.Errorf("rpc: can't find method %s", method)
}
