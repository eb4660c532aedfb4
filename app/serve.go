package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// ListenAndServe listens on address (tcp://host:port, host:port or
// unix:///path) and serves until ctx is cancelled; see Serve.
func (a *App) ListenAndServe(ctx context.Context, address string) error {
	ln, err := Listen(address)
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}

// Serve answers proxied events on ln — gRPC and the HTTP variant on the
// same listener — until ctx is cancelled, then stops gracefully: no new
// connections, in-flight calls get Options.ShutdownTimeout to finish,
// then remaining connections are closed. It returns nil after a
// cancellation and the cause when serving failed. ln is closed on return.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	a.Start()
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(a.maxBytes))
	a.RegisterGRPC(gs)
	hs := &http.Server{
		Handler:           a.HTTPHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	m := newMux(ln)
	a.log.Info("app: serving proxied events (gRPC and HTTP)", "address", ln.Addr().String())

	errc := make(chan error, 3)
	go func() { errc <- wrapServeErr("accept", m.run()) }()
	go func() { errc <- wrapServeErr("grpc", gs.Serve(m.grpc)) }()
	go func() {
		err := hs.Serve(m.http)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- wrapServeErr("http", err)
	}()

	var cause error
	select {
	case <-ctx.Done():
	case cause = <-errc:
		if cause == nil {
			cause = errors.New("app: server stopped unexpectedly")
		}
	}
	m.close()
	a.shutdown(gs, hs)
	a.log.Info("app: stopped", "address", ln.Addr().String())
	return cause
}

// shutdown stops both servers gracefully within the shutdown timeout and
// forcibly after it.
func (a *App) shutdown(gs *grpc.Server, hs *http.Server) {
	sctx, cancel := context.WithTimeout(context.Background(), a.shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		done := make(chan struct{})
		go func() { gs.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-sctx.Done():
			gs.Stop()
			<-done
		}
	}()
	go func() {
		defer wg.Done()
		if err := hs.Shutdown(sctx); err != nil {
			_ = hs.Close()
		}
	}()
	wg.Wait()
}

func wrapServeErr(what string, err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("app: %s server: %w", what, err)
}
