package app

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// ParseAddress splits a listen address into the network and address
// net.Listen takes. Accepted forms (RoadRunner's): tcp://host:port,
// host:port, and unix:///path/to.sock.
func ParseAddress(address string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(address, "unix://"):
		path := address[len("unix://"):]
		if path == "" {
			return "", "", fmt.Errorf("address %q: missing socket path", address)
		}
		return "unix", path, nil
	case strings.HasPrefix(address, "tcp://"):
		addr = address[len("tcp://"):]
	case strings.Contains(address, "://"):
		return "", "", fmt.Errorf("address %q: unsupported scheme (use tcp://host:port, host:port or unix:///path)", address)
	default:
		addr = address
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", "", fmt.Errorf("address %q: want host:port: %w", address, err)
	}
	return "tcp", addr, nil
}

// Listen opens a listener on address (see ParseAddress). For a unix
// socket, a stale socket file left by a crashed process is removed first;
// a socket somebody still listens on, or a path that is not a socket, is
// an error rather than something to delete.
func Listen(address string) (net.Listener, error) {
	network, addr, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if err := removeStaleSocket(addr); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", address, err)
	}
	return ln, nil
}

func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check socket path %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("socket path %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		_ = c.Close()
		return fmt.Errorf("socket %s is in use by another process", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
