package dev

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DemoProxyEndpoint is where the printed config points the proxies: the
// address examples/ticket-booking listens on, so the same file drives
// `spindle server` with the demo app as a separate process.
const DemoProxyEndpoint = "grpc://127.0.0.1:10001"

// configJSON renders the configuration `spindle dev` runs with, as a
// Centrifugo-style config.json (flat v5 keys, with comments) that can be
// copied and loaded by `spindle server` unchanged.
func configJSON(address string, port int, apiKey string) []byte {
	origins := allowedOrigins(address, port)
	quoted := make([]string, len(origins))
	for i, o := range origins {
		quoted[i] = strconv.Quote(o)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{
  // spindle dev: the ticket-booking demo in one process.
  "address": %q,
  "port": %d,
  "allowed_origins": [%s],
  "api_key": %q,

  // The demo app decides connects, subscriptions and RPCs. spindle dev
  // calls it in-process through these proxies; spindle server calls the
  // endpoint (run examples/ticket-booking there).
  "proxy_connect_endpoint": %q,
  "proxy_connect_timeout": "5s",
  "proxy_rpc_endpoint": %q,
  "proxy_rpc_timeout": "5s",
  "proxy_subscribe_endpoint": %q,
  "proxy_subscribe_timeout": "5s",
  "proxy_subscribe": true,

  // screening.<id> keeps recent events, so a page that lost its
  // connection gets exactly what it missed when it comes back.
  "history_size": 100,
  "history_ttl": "600s",
  "force_recovery": true,

  // user#<id> admits only user <id>, without asking the app.
  "allow_user_limited_channels": true
}
`, address, port, strings.Join(quoted, ", "), apiKey, DemoProxyEndpoint, DemoProxyEndpoint, DemoProxyEndpoint)
	return []byte(b.String())
}

// allowedOrigins lets the page's own origin in: both loopback spellings,
// plus the listen address when it is a specific other one. A wildcard
// listen address cannot name its origin, so it allows every origin (and
// Run says so).
func allowedOrigins(address string, port int) []string {
	if isUnspecified(address) {
		return []string{"*"}
	}
	p := strconv.Itoa(port)
	out := []string{"http://" + net.JoinHostPort("127.0.0.1", p), "http://" + net.JoinHostPort("localhost", p)}
	if ip := net.ParseIP(address); (ip == nil || !ip.IsLoopback()) && address != "localhost" {
		out = append(out, "http://"+net.JoinHostPort(address, p))
	}
	return out
}

// isUnspecified reports whether address listens on every interface.
func isUnspecified(address string) bool {
	if address == "" {
		return true
	}
	ip := net.ParseIP(address)
	return ip != nil && ip.IsUnspecified()
}

// browseHost is the host a person types to reach address.
func browseHost(address string) string {
	if isUnspecified(address) {
		return "127.0.0.1"
	}
	return address
}

func randomKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	return hex.EncodeToString(b), nil
}
