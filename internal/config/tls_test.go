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
