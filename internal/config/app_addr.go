package config

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spindle-rt/spindle/internal/rraddr"
)

// checkListenDSN validates an address the app server listens on:
// tcp://host:port or unix:///path, and bare host:port when bare is true
// (centrifuge.proxy_address). The host may be empty (all interfaces) and
// the port 0 (any free port). The syntax is rraddr's, the parser the
// listeners themselves use, so what passes here is what they accept; on
// top of it the host must look like an IP address or a host name, to
// catch typos such as 127.0.0.1c before anything runs.
func checkListenDSN(s string, bare bool) error {
	parse := rraddr.ParseDSN
	if bare {
		parse = rraddr.Parse
	}
	a, err := parse(s)
	if err != nil {
		return err
	}
	if a.Network != rraddr.TCP {
		return nil
	}
	if host, _, _ := net.SplitHostPort(a.Addr); host != "" {
		if err := checkHost(host); err != nil {
			return fmt.Errorf("invalid address %q: %w", s, err)
		}
	}
	return nil
}

// normalizeAPIAddress strips RoadRunner's optional tcp:// prefix from the
// API address and checks what remains is host:port. Unlike a listen
// address it is dialed, so the host and a non-zero port are required.
func normalizeAPIAddress(s string) (string, error) {
	if strings.Contains(strings.TrimPrefix(s, "tcp://"), "://") {
		return "", fmt.Errorf("invalid address %q: want host:port (a tcp:// prefix is allowed)", s)
	}
	a, err := rraddr.Parse(s)
	if err != nil {
		return "", err
	}
	host, port, _ := net.SplitHostPort(a.Addr)
	if err := checkHostPort(host, port, true); err != nil {
		return "", fmt.Errorf("invalid address %q: %w", s, err)
	}
	return a.Addr, nil
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
