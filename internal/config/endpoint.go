package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// validateEndpoint checks a proxy endpoint: `grpc://host:port`, bare
// `host:port` (both gRPC) or an `http(s)://` URL. It exists so that a
// typo such as `grpc://127.0.0.1c:10001` fails at start-up with the key's
// name instead of as a DNS error on the first client connect.
func validateEndpoint(ep string) error {
	if strings.TrimSpace(ep) != ep {
		return fmt.Errorf("invalid endpoint %q: surrounding whitespace", ep)
	}
	lower := strings.ToLower(ep)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := url.Parse(ep)
		if err != nil {
			return fmt.Errorf("invalid endpoint %q: %w", ep, err)
		}
		if err := checkHostPort(u.Hostname(), u.Port(), false); err != nil {
			return fmt.Errorf("invalid endpoint %q: %w", ep, err)
		}
		return nil
	}
	rest := ep
	if strings.HasPrefix(lower, "grpc://") {
		rest = ep[len("grpc://"):]
	} else if i := strings.Index(ep, "://"); i >= 0 {
		return fmt.Errorf("invalid endpoint %q: unsupported scheme %q (use grpc://host:port, host:port or http(s)://…)", ep, ep[:i])
	}
	if strings.ContainsAny(rest, "/?#") {
		return fmt.Errorf("invalid endpoint %q: a gRPC endpoint is host:port with no path", ep)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return fmt.Errorf("invalid endpoint %q: want host:port: %w", ep, err)
	}
	if err := checkHostPort(host, port, true); err != nil {
		return fmt.Errorf("invalid endpoint %q: %w", ep, err)
	}
	return nil
}

// checkHostPort validates a host and a port; the port may be omitted
// only when portRequired is false (URLs fall back to the scheme's port).
func checkHostPort(host, port string, portRequired bool) error {
	if host == "" {
		return errors.New("missing host")
	}
	if err := checkHost(host); err != nil {
		return err
	}
	if port == "" {
		if portRequired {
			return errors.New("missing port")
		}
		return nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || !allDigits(port) {
		return fmt.Errorf("port %q is not a number", port)
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535", n)
	}
	return nil
}

// checkHost accepts IP addresses and DNS names. A name whose last label
// starts with a digit is rejected: no top-level domain does, so such a
// host is a mistyped IPv4 address (`127.0.0.1c`, `10.0.0.300`), while
// `127.0.0.1.nip.io` style names stay valid. Underscores are allowed
// because container service names use them.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("host %q is not a valid IPv6 address", host)
	}
	name := strings.TrimSuffix(host, ".")
	if len(name) == 0 || len(name) > 253 {
		return fmt.Errorf("host %q is not a valid host name", host)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("host %q is not a valid host name", host)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host %q is not a valid host name (character %q)", host, c)
			}
		}
	}
	if last := labels[len(labels)-1]; len(labels) > 1 && isDigit(last[0]) {
		return fmt.Errorf("host %q is neither an IP address nor a valid host name", host)
	}
	return nil
}

// validateRedisAddress checks one redis_address entry: redis://, rediss://,
// unix:// URLs or bare host:port.
func validateRedisAddress(addr string) error {
	lower := strings.ToLower(addr)
	switch {
	case strings.HasPrefix(lower, "redis://"), strings.HasPrefix(lower, "rediss://"):
		u, err := url.Parse(addr)
		if err != nil {
			return fmt.Errorf("invalid Redis address %q: %w", addr, err)
		}
		if err := checkHostPort(u.Hostname(), u.Port(), false); err != nil {
			return fmt.Errorf("invalid Redis address %q: %w", addr, err)
		}
		return nil
	case strings.HasPrefix(lower, "unix://"):
		if len(addr) == len("unix://") {
			return fmt.Errorf("invalid Redis address %q: missing socket path", addr)
		}
		return nil
	case strings.Contains(addr, "://"):
		return fmt.Errorf("invalid Redis address %q: use redis://, rediss://, unix:// or host:port", addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid Redis address %q: want host:port: %w", addr, err)
	}
	if err := checkHostPort(host, port, true); err != nil {
		return fmt.Errorf("invalid Redis address %q: %w", addr, err)
	}
	return nil
}
