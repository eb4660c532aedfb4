package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a certificate and key PEM pair.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// TestListenerTLS: TLS settings are read and checked when the
// configuration loads, so checkconfig and start-up both fail on a missing
// or mismatched certificate, naming the key; PEM may be given inline, as
// base64, or as a file path.
func TestListenerTLS(t *testing.T) {
	cert, key := selfSigned(t)
	otherCert, _ := selfSigned(t)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "c.pem")
	keyFile := filepath.Join(dir, "k.pem")
	notPEM := filepath.Join(dir, "notes.txt")
	for p, data := range map[string]string{certFile: cert, keyFile: key, notPEM: "hello"} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		keys    map[string]any
		wantErr string // "" = valid
	}{
		{"files (v5 keys)", map[string]any{"tls": true, "tls_cert": certFile, "tls_key": keyFile}, ""},
		{"inline PEM (v6 keys)", map[string]any{"http_server": map[string]any{"tls": map[string]any{"enabled": true, "cert_pem": cert, "key_pem": key}}}, ""},
		{"base64 PEM", map[string]any{"tls": true, "tls_cert": b64([]byte(cert)), "tls_key": b64([]byte(key))}, ""},
		{"client CA", map[string]any{"http_server": map[string]any{"tls": map[string]any{"enabled": true, "cert_pem": cert, "key_pem": key, "client_ca_pem": cert}}}, ""},
		{"missing file", map[string]any{"tls": true, "tls_cert": filepath.Join(dir, "nope.pem"), "tls_key": keyFile}, "tls_cert: invalid PEM data: not a valid file path"},
		{"file that is not PEM", map[string]any{"tls": true, "tls_cert": notPEM, "tls_key": keyFile}, `contains invalid PEM data`},
		{"mismatched pair", map[string]any{"tls": true, "tls_cert": otherCert, "tls_key": key}, "tls_key: error create x509 key pair"},
		{"no key", map[string]any{"tls": true, "tls_cert": cert}, "tls is on but tls_key is empty"},
		{"client CA without certificates", map[string]any{"http_server": map[string]any{"tls": map[string]any{"enabled": true, "cert_pem": cert, "key_pem": key, "client_ca_pem": notPEM}}}, "client_ca_pem"},
		{"gRPC API pair checked too", map[string]any{"grpc_api": true, "grpc_api_key": "k", "grpc_api_tls": true, "grpc_api_tls_cert": otherCert, "grpc_api_tls_key": key}, "grpc_api_tls_key: error create x509 key pair"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.keys["api_key"] = "k"
			data, _ := json.Marshal(tc.keys)
			cfg, _, err := Load(LoadOptions{File: "config.json", Data: data})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if len(cfg.HTTP.TLS.Cert) == 0 || len(cfg.HTTP.TLS.Key) == 0 {
					t.Fatal("certificate and key were not read")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestRedisTLS: the Redis TLS keys take PEM inline, as base64 or as a
// path like the listener keys, and are checked when the config loads.
func TestRedisTLS(t *testing.T) {
	cert, key := selfSigned(t)
	other, _ := selfSigned(t)
	base := map[string]any{"api_key": "k", "engine": "redis", "redis_address": "127.0.0.1:6379", "redis_tls": true}
	tests := []struct {
		name    string
		keys    map[string]any
		wantErr string
	}{
		{"server CA only", map[string]any{"redis_tls_root_ca": cert}, ""},
		{"client certificate inline (v6 keys)", map[string]any{"engine": map[string]any{"redis": map[string]any{"tls": map[string]any{"cert_pem": cert, "key_pem": key}}}}, ""},
		{"certificate without key", map[string]any{"redis_tls_cert": cert}, "redis_tls_cert and redis_tls_key go together"},
		{"mismatched pair", map[string]any{"redis_tls_cert": other, "redis_tls_key": key}, "redis_tls_key: error create x509 key pair"},
		{"CA that is no PEM", map[string]any{"redis_tls_root_ca": "/nonexistent/ca.pem"}, "redis_tls_root_ca: invalid PEM data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.keys {
				m[k] = v
			}
			if _, nested := tc.keys["engine"]; nested {
				delete(m, "engine")
				delete(m, "redis_address")
				delete(m, "redis_tls")
				m["engine"] = map[string]any{"type": "redis", "redis": map[string]any{"address": []string{"127.0.0.1:6379"},
					"tls": map[string]any{"enabled": true, "cert_pem": cert, "key_pem": key}}}
			}
			data, _ := json.Marshal(m)
			cfg, _, err := Load(LoadOptions{File: "config.json", Data: data})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			r := cfg.Engine.Redis.TLS
			if len(r.CA) == 0 && len(r.Cert) == 0 {
				t.Fatalf("nothing was read: %+v", r)
			}
		})
	}
}

// TestProxyTLS: the grpc.tls and http.tls objects of every proxy (and v5's
// proxy_grpc_tls / proxy_grpc_cert_file) are read and checked at load,
// naming the key, and fold into Proxy.GRPCTLS / HTTPTLS.
func TestProxyTLS(t *testing.T) {
	cert, key := selfSigned(t)
	other, _ := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	connect := func(obj map[string]any) map[string]any {
		obj["enabled"] = true
		return map[string]any{"client": map[string]any{"proxy": map[string]any{"connect": obj}}}
	}
	tests := []struct {
		name     string
		keys     map[string]any
		wantErr  string
		wantWarn string
		check    func(c *Config) bool
	}{
		{"v5 cert file alone turns TLS on", map[string]any{"proxy_connect_endpoint": "grpc://app:1", "proxy_grpc_cert_file": caFile}, "", "",
			func(c *Config) bool {
				return c.Proxy.Connect.GRPCTLS.Enabled && string(c.Proxy.Connect.GRPCTLS.CA) == cert
			}},
		{"v5 proxy_grpc_tls with system roots", map[string]any{"proxy_connect_endpoint": "grpc://app:1", "proxy_grpc_tls": true}, "", "",
			func(c *Config) bool { return c.Proxy.Connect.GRPCTLS.Enabled && c.Proxy.Connect.GRPCTLS.CA == nil }},
		{"plaintext without grpc.tls", map[string]any{"proxy_connect_endpoint": "grpc://app:1"}, "", "",
			func(c *Config) bool { return !c.Proxy.Connect.GRPCTLS.Enabled }},
		{"v6 grpc.tls with client certificate", connect(map[string]any{"endpoint": "grpc://app:1", "grpc": map[string]any{"tls": map[string]any{
			"enabled": true, "cert_pem": cert, "key_pem": key, "server_ca_pem": caFile, "server_name": "app.internal"}}}), "", "",
			func(c *Config) bool {
				g := c.Proxy.Connect.GRPCTLS
				return g.Enabled && g.Cert != nil && g.Key != nil && g.CA != nil && g.ServerName == "app.internal"
			}},
		{"v6 http.tls", connect(map[string]any{"endpoint": "https://app/connect", "http": map[string]any{"tls": map[string]any{
			"enabled": true, "server_ca_pem": cert, "insecure_skip_verify": true}}}), "", "",
			func(c *Config) bool {
				h := c.Proxy.Connect.HTTPTLS
				return h.Enabled && h.CA != nil && h.InsecureSkipVerify
			}},
		{"named proxy", map[string]any{"proxies": []any{map[string]any{"name": "p1", "endpoint": "grpc://app:1",
			"grpc": map[string]any{"tls": map[string]any{"enabled": true, "server_ca_pem": cert}}}}, "connect_proxy_name": "p1"}, "", "",
			func(c *Config) bool { return c.Proxy.Connect.GRPCTLS.CA != nil }},
		{"mismatched pair names the key", connect(map[string]any{"endpoint": "grpc://app:1", "grpc": map[string]any{"tls": map[string]any{
			"enabled": true, "cert_pem": other, "key_pem": key}}}), "client.proxy.connect.grpc.tls.key_pem: error create x509 key pair", "", nil},
		{"missing CA file in a named proxy", map[string]any{"proxies": []any{map[string]any{"name": "p1", "endpoint": "https://app/c",
			"http": map[string]any{"tls": map[string]any{"enabled": true, "server_ca_pem": "/nonexistent/ca.pem"}}}}, "connect_proxy_name": "p1"},
			"proxies[0].http.tls.server_ca_pem: invalid PEM data", "", nil},
		{"v5 cert file that is missing", map[string]any{"proxy_connect_endpoint": "grpc://app:1", "proxy_grpc_cert_file": "/nonexistent/ca.pem"},
			"proxy_grpc_cert_file: invalid PEM data", "", nil},
		{"http.tls on a gRPC endpoint is warned about", connect(map[string]any{"endpoint": "grpc://app:1", "http": map[string]any{"tls": map[string]any{"enabled": true}}}),
			"", "client.proxy.connect.http.tls.enabled: ignored: proxy \"connect\" calls grpc://app:1 over gRPC", nil},
		{"client_ca_pem is warned about", connect(map[string]any{"endpoint": "grpc://app:1", "grpc": map[string]any{"tls": map[string]any{"enabled": true, "client_ca_pem": cert}}}),
			"", "client.proxy.connect.grpc.tls.client_ca_pem: ignored: a proxy call is a client connection", nil},
		{"settings of a TLS object that is off", connect(map[string]any{"endpoint": "grpc://app:1", "grpc": map[string]any{"tls": map[string]any{"server_ca_pem": cert}}}),
			"", "client.proxy.connect.grpc.tls.server_ca_pem: ignored: client.proxy.connect.grpc.tls.enabled is off", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadKeys(t, tc.keys, tc.wantErr, tc.wantWarn)
			if cfg != nil && tc.check != nil && !tc.check(cfg) {
				t.Fatalf("proxy TLS not as configured: grpc %+v http %+v", cfg.Proxy.Connect.GRPCTLS, cfg.Proxy.Connect.HTTPTLS)
			}
		})
	}
}

// TestAutocertConfig: tls_autocert keys (v5 flat, v6 nested) are read,
// v5's comma-separated whitelist is split, and what cannot work is an
// error naming the key.
func TestAutocertConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		keys     map[string]any
		wantErr  string
		wantWarn string
		want     []string // host whitelist
	}{
		{"v5 comma-separated whitelist", map[string]any{"tls_autocert": true, "tls_autocert_host_whitelist": "a.example, b.example"}, "", "", []string{"a.example", "b.example"}},
		{"v6 list", map[string]any{"http_server": map[string]any{"tls_autocert": map[string]any{"enabled": true, "host_whitelist": []string{"a.example"}, "http": true}}}, "", "", []string{"a.example"}},
		{"no whitelist is warned about", map[string]any{"tls_autocert": true}, "", "tls_autocert: no tls_autocert_host_whitelist", nil},
		{"url in the whitelist", map[string]any{"tls_autocert": true, "tls_autocert_host_whitelist": "https://a.example"}, "tls_autocert_host_whitelist: \"https://a.example\" is not a host name", "", nil},
		{"cache dir that is a file", map[string]any{"tls_autocert": true, "tls_autocert_host_whitelist": "a.example", "tls_autocert_cache_dir": file}, "tls_autocert_cache_dir: \"" + file + "\" is not a directory", "", nil},
		{"bad challenge address", map[string]any{"tls_autocert": true, "tls_autocert_host_whitelist": "a.example", "tls_autocert_http": true, "tls_autocert_http_addr": "80"}, "tls_autocert_http_addr: \"80\" is not host:port", "", nil},
		{"keys while off", map[string]any{"tls_autocert_cache_dir": "/tmp"}, "", "tls_autocert_cache_dir: ignored: tls_autocert is off", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadKeys(t, tc.keys, tc.wantErr, tc.wantWarn)
			if cfg != nil && tc.want != nil && strings.Join(cfg.HTTP.Autocert.HostWhitelist, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("whitelist %q, want %q", cfg.HTTP.Autocert.HostWhitelist, tc.want)
			}
		})
	}
}

// loadKeys loads keys (plus an API key) as a config.json and checks that
// it fails with wantErr, or loads with a warning containing wantWarn; it
// returns the configuration when it loaded.
func loadKeys(t *testing.T, keys map[string]any, wantErr, wantWarn string) *Config {
	t.Helper()
	keys["api_key"] = "k"
	data, _ := json.Marshal(keys)
	cfg, warns, err := Load(LoadOptions{File: "config.json", Data: data})
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Load = %v, want an error containing %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var all []string
	for _, w := range warns {
		all = append(all, w.String())
	}
	if wantWarn != "" && !strings.Contains(strings.Join(all, "\n"), wantWarn) {
		t.Fatalf("warnings %q lack %q", all, wantWarn)
	}
	return cfg
}
