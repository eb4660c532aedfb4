// Package rraddr parses RoadRunner-style addresses (tcp://host:port,
// unix:///path/to.sock and, where allowed, bare host:port) and opens
// listeners on them.
//
// The app SDK (app.Listen), the worker relay (server.relay), the worker
// RPC endpoint (rpc.listen) and the .rr.yaml validator used to carry a
// parser each, and they disagreed on edge cases; one parser means a value
// that passes `spindle checkconfig` is exactly a value the process can
// listen on. The package imports only the standard library so both the
// public SDK and the internal wings may depend on it.
package rraddr

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Networks an Address may name.
const (
	TCP  = "tcp"
	Unix = "unix"
)

// Address is a parsed address, in the terms net.Listen and net.Dial take.
type Address struct {
	// Network is TCP or Unix.
	Network string
	// Addr is host:port for TCP (host may be empty, port may be 0) and
	// the socket path for Unix (relative paths are relative to the
	// working directory, as in RoadRunner).
	Addr string
}

// String spells the address with its scheme; Parse(a.String()) gives a
// back.
func (a Address) String() string { return a.Network + "://" + a.Addr }

// Parse accepts tcp://host:port, unix:///path and bare host:port, the
// forms RoadRunner accepts for centrifuge.proxy_address and clients accept
// when dialing.
func Parse(s string) (Address, error) { return parse(s, true) }

// ParseDSN is Parse without the bare host:port form, for the keys
// RoadRunner only accepts as DSNs (rpc.listen, server.relay): there a
// bare address is a mistake worth reporting, not a guess to make.
func ParseDSN(s string) (Address, error) { return parse(s, false) }

func parse(s string, bare bool) (Address, error) {
	var hostport string
	switch {
	case strings.HasPrefix(s, "unix://"):
		path := s[len("unix://"):]
		if path == "" {
			return Address{}, fmt.Errorf("invalid address %q: missing socket path", s)
		}
		if strings.IndexByte(path, 0) >= 0 {
			return Address{}, fmt.Errorf("invalid address %q: socket path contains a NUL byte", s)
		}
		return Address{Network: Unix, Addr: path}, nil
	case strings.HasPrefix(s, "tcp://"):
		hostport = s[len("tcp://"):]
	case strings.Contains(s, "://") && bare:
		return Address{}, fmt.Errorf("invalid address %q: unsupported scheme (use tcp://host:port, host:port or unix:///path)", s)
	case strings.Contains(s, "://"):
		return Address{}, fmt.Errorf("invalid address %q: unsupported scheme (use tcp://host:port or unix:///path)", s)
	case !bare:
		return Address{}, fmt.Errorf("invalid address %q: write it as tcp://host:port or unix:///path", s)
	default:
		hostport = s
	}
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return Address{}, fmt.Errorf("invalid address %q: want host:port: %w", s, err)
	}
	// Service names ("http") would resolve differently per machine, and
	// RoadRunner rejects them; only a plain number is a port here.
	if n, err := strconv.Atoi(port); err != nil || !allDigits(port) || n > 65535 {
		return Address{}, fmt.Errorf("invalid address %q: port %q is not a number in 0-65535", s, port)
	}
	return Address{Network: TCP, Addr: hostport}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Errors Listen wraps when it refuses a unix socket path, so callers and
// tests can tell the cases apart with errors.Is.
var (
	// ErrInUse: a process accepts connections on the socket.
	ErrInUse = errors.New("in use by another process (stop it, or choose another path)")
	// ErrNotSocket: the path exists and is something other than a socket.
	ErrNotSocket = errors.New("exists and is not a socket")
)

// probeTimeout bounds the connect that tells a live socket from a stale
// one. A unix connect answers at once either way; the bound only guards
// against a wedged peer.
const probeTimeout = 200 * time.Millisecond

// Listen opens a listener on a. For a unix socket a file left behind by a
// process that died without unlinking it would make the bind fail, so it
// is removed first — but only when a connect proves nobody listens on it
// (connection refused). A live socket is never deleted: that would
// silently take the address from a running process (two apps configured
// with the same path) while it keeps running, unreachable. A path that is
// not a socket, or whose state a connect cannot tell, is an error too.
func Listen(a Address) (net.Listener, error) {
	switch a.Network {
	case TCP:
	case Unix:
		if err := removeStale(a.Addr); err != nil {
			return nil, fmt.Errorf("listen %s: %w", a, err)
		}
	default:
		return nil, fmt.Errorf("listen %s: unsupported network %q", a, a.Network)
	}
	ln, err := net.Listen(a.Network, a.Addr)
	if err != nil {
		// net.OpError repeats "listen <network> <addr>"; keep only its cause.
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	return ln, nil
}

// removeStale deletes the socket file at path when nothing listens on it.
// The check and the removal are not atomic: a process binding the path in
// between loses its file, which is the same race every daemon that cleans
// up its socket has, and needs two processes started at the same instant
// on one path.
func removeStale(path string) error {
	if runtime.GOOS == "linux" && strings.HasPrefix(path, "@") {
		return nil // abstract socket: no file to leave behind
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check socket path %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s %w", path, ErrNotSocket)
	}
	c, err := net.DialTimeout("unix", path, probeTimeout)
	switch {
	case err == nil:
		_ = c.Close()
		return fmt.Errorf("socket %s is %w", path, ErrInUse)
	case errors.Is(err, fs.ErrNotExist):
		return nil // removed while we looked
	case !errors.Is(err, syscall.ECONNREFUSED):
		// E.g. EAGAIN: a live listener whose backlog is full.
		return fmt.Errorf("socket %s: cannot tell whether a process listens on it, so it is left in place: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
