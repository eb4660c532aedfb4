package config

import (
	"strings"
	"testing"
)

func TestCrossCheck(t *testing.T) {
	base := func() (*Config, *AppConfig) {
		srv := Default()
		srv.GRPCAPI.Enabled = true
		srv.GRPCAPI.Address = "0.0.0.0"
		srv.Proxy.Connect = &Proxy{Name: "connect", Endpoint: "grpc://127.0.0.1:10001"}
		srv.Proxy.RPC = &Proxy{Name: "rpc", Endpoint: "http://localhost:10001/rpc"}
		app := DefaultAppConfig()
		app.Centrifuge.ProxyAddress = "tcp://0.0.0.0:10001"
		app.Centrifuge.GRPCAPIAddress = "127.0.0.1:10000"
		return srv, app
	}
	tests := []struct {
		name        string
		mutate      func(*Config, *AppConfig)
		wantProblem string
		wantNote    string
	}{
		{name: "spiral docs setup agrees"},
		{name: "proxy port differs", mutate: func(s *Config, _ *AppConfig) {
			s.Proxy.Connect.Endpoint = "grpc://127.0.0.1:10002"
		}, wantProblem: "proxy_connect_endpoint"},
		{name: "http proxy port differs", mutate: func(s *Config, _ *AppConfig) {
			s.Proxy.RPC.Endpoint = "http://127.0.0.1:8080/rpc"
		}, wantProblem: "proxy_rpc_endpoint"},
		{name: "grpc api off", mutate: func(s *Config, _ *AppConfig) { s.GRPCAPI.Enabled = false }, wantProblem: "grpc_api off"},
		{name: "grpc api port differs", mutate: func(_ *Config, a *AppConfig) {
			a.Centrifuge.GRPCAPIAddress = "127.0.0.1:10005"
		}, wantProblem: "grpc_api_port is 10000"},
		{name: "key required but missing", mutate: func(s *Config, _ *AppConfig) { s.GRPCAPI.Key = "secret" }, wantProblem: "centrifuge.grpc_api_key is empty"},
		{name: "docker host name", mutate: func(s *Config, a *AppConfig) {
			s.GRPCAPI.Address = "10.0.0.5"
			a.Centrifuge.GRPCAPIAddress = "centrifugo:10000"
		}, wantNote: `host "centrifugo"`},
		{name: "tls on both sides agrees", mutate: func(s *Config, a *AppConfig) {
			s.Proxy.Connect.GRPCTLS.Enabled = true
			s.Proxy.RPC.Endpoint = "https://localhost:10001/rpc"
			s.GRPCAPI.TLS.Enabled = true
			a.Centrifuge.ProxyTLS = &AppProxyTLS{}
			a.Centrifuge.TLS = &AppTLS{}
		}},
		{name: "app serves tls, server dials plaintext", mutate: func(_ *Config, a *AppConfig) { a.Centrifuge.ProxyTLS = &AppProxyTLS{} },
			wantProblem: "calls in plaintext, but the app serves TLS"},
		{name: "server dials tls, app plaintext", mutate: func(s *Config, _ *AppConfig) { s.Proxy.Connect.GRPCTLS.Enabled = true },
			wantProblem: "calls over TLS, but the app has no centrifuge.proxy_tls"},
		{name: "api tls on the server only", mutate: func(s *Config, _ *AppConfig) { s.GRPCAPI.TLS.Enabled = true },
			wantProblem: "the app has no centrifuge.tls"},
		{name: "unix socket app", mutate: func(_ *Config, a *AppConfig) {
			a.Centrifuge.ProxyAddress = "unix:///tmp/app.sock"
		}, wantProblem: "unix socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, app := base()
			if tt.mutate != nil {
				tt.mutate(srv, app)
			}
			problems, notes := CrossCheck(srv, app)
			if tt.wantProblem == "" && len(problems) > 0 {
				t.Fatalf("unexpected problems: %q", problems)
			}
			if tt.wantProblem != "" && !containsAny(problems, tt.wantProblem) {
				t.Fatalf("problems %q lack %q", problems, tt.wantProblem)
			}
			if tt.wantNote != "" && !containsAny(notes, tt.wantNote) {
				t.Fatalf("notes %q lack %q", notes, tt.wantNote)
			}
		})
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
