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

// DemoGRPCAPIKey is the gRPC API key of the printed config, the one
// examples/ticket-booking/.rr.yaml sends, so the printed file passes
// `spindle checkconfig --app examples/ticket-booking/.rr.yaml` as it is.
// It is a published key, so the gRPC API listens on loopback only,
// whatever address the page is served on.
const DemoGRPCAPIKey = "dev-grpc-key"

// demoAppPageOrigins are where examples/ticket-booking serves the page when
// the demo app runs as its own process; the printed config lets them in so
// it drives that setup unchanged.
var demoAppPageOrigins = []string{"http://127.0.0.1:8080", "http://localhost:8080"}

// grpcAPIPort puts the gRPC API 2000 above the page's port: 10000 for the
// default 8000, where the demo app's .rr.yaml calls it. A port without room
// above (or 0, any free port) takes any free port too.
func grpcAPIPort(port int) int {
	if port > 0 && port+2000 <= 65535 {
		return port + 2000
	}
	return 0
}

// configJSON renders the configuration `spindle dev` runs with, as a
// Centrifugo-style config.json (flat v5 keys, with comments) that can be
// copied and loaded by `spindle server` unchanged.
func configJSON(address string, port int, apiKey, pollSecret string) []byte {
	origins := allowedOrigins(address, port)
	if origins[0] != "*" {
		origins = append(origins, demoAppPageOrigins...)
	}
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
  // GET /health (200 while serving) and /metrics (Prometheus).
  "health": true,
  "prometheus": true,

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

  // The demo app publishes seat events through the gRPC server API
  // (centrifuge.grpc_api_address in examples/ticket-booking/.rr.yaml);
  // spindle dev's own services publish in-process.
  "grpc_api": true,
  "grpc_api_address": "127.0.0.1",
  "grpc_api_port": %d,
  "grpc_api_key": %q,

  // screening.<id> keeps recent events, so a page that lost its
  // connection gets exactly what it missed when it comes back.
  "history_size": 100,
  "history_ttl": "600s",
  "force_recovery": true,

  // user#<id> admits only user <id>, without asking the app.
  "allow_user_limited_channels": true,

  // seats:<id> is a screening's seat map, one key per seat: a page syncs
  // it from the subscription and then follows each change; a reconnecting
  // page recovers what it missed from the map's stream.
  "map_broker": {},
  "namespaces": [
    {
      "name": "seats",
      "subscription_type": "map",
      "map": {"mode": "persistent", "stream_size": 1000},
      "proxy_subscribe": true
    },
    // seatsleft:schedule is the schedule's free-seat counts, a shared-poll
    // channel keyed by screening: the server asks the app for them every
    // 2 s (however many pages are open) and pushes only what changed.
    {
      "name": "seatsleft",
      "subscription_type": "shared_poll",
      "allow_subscribe_for_client": true,
      "allow_subscribe_for_anonymous": true,
      "shared_poll": {"refresh_interval": "2s"}
    }
  ],
  "channel": {"proxy": {"shared_poll_refresh": {"endpoint": %q, "timeout": "5s"}}},
  // The app signs the screenings a page may track with this key.
  "shared_poll": {"hmac_secret_key": %q},

  // Where WebSocket is blocked (some proxies and networks) the page falls
  // back to HTTP-streaming, then SSE; their commands go to /emulation.
  "http_stream": true,
  "sse": true
}
`, address, port, strings.Join(quoted, ", "), apiKey, DemoProxyEndpoint, DemoProxyEndpoint, DemoProxyEndpoint, grpcAPIPort(port), DemoGRPCAPIKey, DemoProxyEndpoint, pollSecret)
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
