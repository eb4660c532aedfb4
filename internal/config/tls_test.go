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
