package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// checkListenDSN validates an address the app server listens on:
// tcp://host:port or unix:///path, and bare host:port when bare is true
// (centrifuge.proxy_address). The host may be empty (all interfaces) and
// the port 0 (any free port).
func checkListenDSN(s string, bare bool) error {
	var hostport string
	switch {
	case strings.HasPrefix(s, "unix://"):
		if len(s) == len("unix://") {
			return fmt.Errorf("invalid address %q: missing socket path", s)
		}
		return nil
	case strings.HasPrefix(s, "tcp://"):
		hostport = s[len("tcp://"):]
	case strings.Contains(s, "://"):
		return fmt.Errorf("invalid address %q: unsupported scheme (use tcp://host:port or unix:///path)", s)
	case !bare:
		return fmt.Errorf("invalid address %q: write it as tcp://host:port or unix:///path", s)
	default:
		hostport = s
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port: %w", s, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || !allDigits(port) || n > 65535 {
		return fmt.Errorf("invalid address %q: port %q is not a number in 0-65535", s, port)
	}
	if host != "" {
		if err := checkHost(host); err != nil {
			return fmt.Errorf("invalid address %q: %w", s, err)
		}
	}
	return nil
}

// normalizeAPIAddress strips RoadRunner's optional tcp:// prefix from the
// API address and checks what remains is host:port.
func normalizeAPIAddress(s string) (string, error) {
	addr := strings.TrimPrefix(s, "tcp://")
	if strings.Contains(addr, "://") {
		return "", fmt.Errorf("invalid address %q: want host:port (a tcp:// prefix is allowed)", s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid address %q: want host:port: %w", s, err)
	}
	if err := checkHostPort(host, port, true); err != nil {
		return "", fmt.Errorf("invalid address %q: %w", s, err)
	}
	return addr, nil
}

// checkRelay validates server.relay: pipes, tcp://host:port or
// unix:///path.
func checkRelay(s string) error {
	if s == "pipes" {
		return nil
	}
	if err := checkListenDSN(s, false); err != nil {
		return errors.New(`must be "pipes", tcp://host:port or unix:///path: ` + err.Error())
	}
	return nil
}
