package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CrossCheck compares a server config with an app (.rr.yaml) config: the
// coordination the Spiral docs warn about, where each side names the
// other's address. It returns problems (the two cannot talk) and notes
// (probably fine, but worth a look), each naming the keys involved.
func CrossCheck(srv *Config, app *AppConfig) (problems, notes []string) {
	appNet, appAddr := splitAppAddress(app.Centrifuge.ProxyAddress)
	for _, ep := range serverEndpoints(srv) {
		if msg, ok := endpointReaches(ep.endpoint, appNet, appAddr); !ok {
			problems = append(problems, fmt.Sprintf("%s %q does not reach the app's centrifuge.proxy_address %q: %s",
				ep.key, ep.endpoint, app.Centrifuge.ProxyAddress, msg))
		} else if msg != "" {
			notes = append(notes, fmt.Sprintf("%s %q → centrifuge.proxy_address %q: %s", ep.key, ep.endpoint, app.Centrifuge.ProxyAddress, msg))
		}
		if usesTLS := ep.proxy.GRPCTLS.Enabled && !isHTTPEndpoint(ep.endpoint) || strings.HasPrefix(strings.ToLower(ep.endpoint), "https://"); usesTLS != (app.Centrifuge.ProxyTLS != nil) {
			if usesTLS {
				problems = append(problems, fmt.Sprintf("%s %q calls over TLS, but the app has no centrifuge.proxy_tls: its listener is plaintext", ep.key, ep.endpoint))
			} else {
				problems = append(problems, fmt.Sprintf("%s %q calls in plaintext, but the app serves TLS (centrifuge.proxy_tls): turn on grpc.tls (or use https://)", ep.key, ep.endpoint))
			}
		}
	}

	apiAddr := strings.TrimPrefix(app.Centrifuge.GRPCAPIAddress, "tcp://")
	switch {
	case !srv.GRPCAPI.Enabled:
		problems = append(problems, fmt.Sprintf("the app calls the server API at centrifuge.grpc_api_address %q, but the server has grpc_api off", apiAddr))
	default:
		host, port, err := net.SplitHostPort(apiAddr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("centrifuge.grpc_api_address %q: want host:port", apiAddr))
			break
		}
		if port != strconv.Itoa(srv.GRPCAPI.Port) {
			problems = append(problems, fmt.Sprintf("centrifuge.grpc_api_address %q: port %s, but the server's grpc_api_port is %d", apiAddr, port, srv.GRPCAPI.Port))
		} else if msg := hostsMatch(host, srv.GRPCAPI.Address); msg != "" {
			notes = append(notes, fmt.Sprintf("centrifuge.grpc_api_address %q → server grpc_api_address %q: %s", apiAddr, srv.GRPCAPI.Address, msg))
		}
		switch {
		case srv.GRPCAPI.TLS.Enabled && app.Centrifuge.TLS == nil:
			problems = append(problems, "the server's gRPC API speaks TLS (grpc_api_tls), but the app has no centrifuge.tls: its API calls are plaintext")
		case !srv.GRPCAPI.TLS.Enabled && app.Centrifuge.TLS != nil:
			problems = append(problems, "the app calls the server API over TLS (centrifuge.tls), but the server's grpc_api_tls is off")
		}
		switch {
		case srv.GRPCAPI.Key != "" && app.Centrifuge.GRPCAPIKey == "":
			problems = append(problems, "the server requires grpc_api_key, but the app's centrifuge.grpc_api_key is empty: every API call will be refused")
		case srv.GRPCAPI.Key != "" && app.Centrifuge.GRPCAPIKey != srv.GRPCAPI.Key:
			problems = append(problems, "centrifuge.grpc_api_key differs from the server's grpc_api_key: every API call will be refused")
		}
	}
	return problems, notes
}

type namedEndpoint struct {
	key, endpoint string
	proxy         *Proxy
}

// serverEndpoints lists every proxy endpoint the server will call, with
// the key that configures it.
func serverEndpoints(srv *Config) []namedEndpoint {
	var out []namedEndpoint
	add := func(key string, p *Proxy) {
		if p != nil && p.Endpoint != "" {
			out = append(out, namedEndpoint{key, p.Endpoint, p})
		}
	}
	pc := &srv.Proxy
	if pc.Granular {
		for i := range pc.Named {
			add(fmt.Sprintf("proxies[%d] (%s) endpoint", i, pc.Named[i].Name), &pc.Named[i])
		}
		return out
	}
	add("proxy_connect_endpoint", pc.Connect)
	add("proxy_refresh_endpoint", pc.Refresh)
	add("proxy_subscribe_endpoint", pc.Subscribe)
	add("proxy_publish_endpoint", pc.Publish)
	add("proxy_sub_refresh_endpoint", pc.SubRefresh)
	add("proxy_rpc_endpoint", pc.RPC)
	return out
}

func splitAppAddress(a string) (network, addr string) {
	switch {
	case strings.HasPrefix(a, "unix://"):
		return "unix", strings.TrimPrefix(a, "unix://")
	default:
		return "tcp", strings.TrimPrefix(a, "tcp://")
	}
}

// endpointReaches says whether a proxy endpoint can reach the app's
// listener; ok with a message is a note.
func endpointReaches(endpoint, appNet, appAddr string) (string, bool) {
	hostport := endpoint
	switch {
	case strings.HasPrefix(endpoint, "http://"), strings.HasPrefix(endpoint, "https://"):
		u, err := url.Parse(endpoint)
		if err != nil {
			return "not a URL", false
		}
		hostport = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			hostport = net.JoinHostPort(u.Hostname(), port)
		}
	default:
		hostport = strings.TrimPrefix(endpoint, "grpc://")
	}
	if appNet == "unix" {
		return "the app listens on a unix socket; the server's proxies only dial TCP", false
	}
	eh, ep, err := net.SplitHostPort(hostport)
	if err != nil {
		return "want host:port", false
	}
	ah, ap, err := net.SplitHostPort(appAddr)
	if err != nil {
		return "centrifuge.proxy_address is not host:port", false
	}
	if ep != ap {
		return fmt.Sprintf("port %s, but the app listens on port %s", ep, ap), false
	}
	return hostsMatch(eh, ah), true
}

// hostsMatch compares the host a client dials with the host a server
// binds; "" is a match, otherwise a note explaining the assumption.
func hostsMatch(dial, bind string) string {
	switch {
	case bind == "" || bind == "0.0.0.0" || bind == "::":
		return ""
	case dial == bind:
		return ""
	case isLoopback(dial) && isLoopback(bind):
		return ""
	}
	return fmt.Sprintf("host %q is not the bound host %q; fine only if it resolves to it", dial, bind)
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
