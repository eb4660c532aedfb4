package app

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spindle-rt/spindle/apiclient"
)

// Defaults for Options fields left at zero.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultMaxRequestBytes = 4 << 20
)

// Options tune an App; the zero value is ready to use.
type Options struct {
	// Logger receives service failures, panics and deadline overruns;
	// nil means slog.Default().
	Logger *slog.Logger
	// Timeout bounds calls whose caller set no deadline (the HTTP variant
	// carries none; Centrifugo's own HTTP client gives up after its proxy
	// timeout). Zero means DefaultTimeout; negative means no bound.
	Timeout time.Duration
	// ShutdownTimeout bounds the graceful stop of Serve: in-flight calls
	// get this long to finish before connections are closed. Zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxRequestBytes caps one request (HTTP body or gRPC message). Zero
	// means DefaultMaxRequestBytes.
	MaxRequestBytes int
	// API is the real-time server's API, for services that publish,
	// disconnect and so on; services reach it through App.API.
	API apiclient.Client
}

// App holds the services and interceptors of one application and answers
// proxied events with them, over gRPC, HTTP or in-process (its Connect,
// Subscribe, … methods). Create it with New. Registration methods may be called
// at any time and from any goroutine; calls already running keep the
// chain they started with.
type App struct {
	log             *slog.Logger
	api             apiclient.Client
	timeout         time.Duration
	shutdownTimeout time.Duration
	maxBytes        int

	mu          sync.Mutex // guards the registrations below
	services    [numTypes]Handler
	rpcMethods  map[string]RPCService
	rpcFallback Handler // from HandleRPCFallback or Handle(TypeRPC, …)
	all         []Interceptor
	per         [numTypes][]Interceptor

	// chains is built from the registrations at first use and dropped
	// whenever they change.
	chains atomic.Pointer[chainTable]
}

// New returns an App with no services: until some are registered, every
// event is answered with CodeNotAvailable.
func New(opts Options) *App {
	a := &App{
		log:             opts.Logger,
		api:             opts.API,
		timeout:         opts.Timeout,
		shutdownTimeout: opts.ShutdownTimeout,
		maxBytes:        opts.MaxRequestBytes,
		rpcMethods:      map[string]RPCService{},
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	switch {
	case a.timeout == 0:
		a.timeout = DefaultTimeout
	case a.timeout < 0:
		a.timeout = 0
	}
	if a.shutdownTimeout <= 0 {
		a.shutdownTimeout = DefaultShutdownTimeout
	}
	if a.maxBytes <= 0 {
		a.maxBytes = DefaultMaxRequestBytes
	}
	return a
}

// API is the server API client given in Options (nil if none): services
// use it to publish, broadcast or disconnect while answering an event.
func (a *App) API() apiclient.Client { return a.api }

// Logger is the logger given in Options (slog.Default() if none), so
// handlers plugged in from outside the package with Handle log where the
// App logs its own failures.
func (a *App) Logger() *slog.Logger { return a.log }

// Start builds the interceptor chains now rather than on the first call,
// so that the first client does not pay for it. Calling it is optional.
func (a *App) Start() { a.table() }

// changed drops the built chains after a registration; the caller holds
// a.mu.
func (a *App) changed() { a.chains.Store(nil) }
