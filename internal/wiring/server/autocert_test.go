package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testcert"
)

// TestAutocert tests the tls_autocert wiring without Let's Encrypt, which
// cannot be reached from here: the certificate for a whitelisted name is
// served from cache_dir (written the way autocert caches it), other names
// are refused before anything is asked of the ACME server, handshakes
// without SNI use server_name, ALPN offers acme-tls/1, and with http: true
// the HTTP-01 listener runs and redirects to HTTPS.
func TestAutocert(t *testing.T) {
	ca := testcert.NewCA(t, "stands in for Let's Encrypt")
	// Valid for long enough that autocert does not start a renewal.
	certPEM, keyPEM := ca.IssueValid(t, 90*24*time.Hour, "example.com")
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, "example.com"), bytes.Join([][]byte{keyPEM, certPEM}, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, map[string]any{"http_server": map[string]any{"tls_autocert": map[string]any{
		"enabled": true, "host_whitelist": []string{"example.com"}, "cache_dir": cache,
		"server_name": "example.com", "http": true, "http_addr": "127.0.0.1:0",
	}}})

	if srv.httpTLS == nil || srv.httpTLS.GetCertificate == nil || !slices.Contains(srv.httpTLS.NextProtos, "acme-tls/1") {
		t.Fatalf("main port TLS = %+v, want autocert's GetCertificate and acme-tls/1 in ALPN", srv.httpTLS)
	}
	handshake := func(serverName string) (*tls.ConnectionState, error) {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: ca.Pool(), ServerName: serverName, MinVersion: tls.VersionTLS12}}
		c, err := d.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			return nil, err
		}
		defer c.Close()
		st := c.(*tls.Conn).ConnectionState()
		return &st, nil
	}
	t.Run("whitelisted name from the cache", func(t *testing.T) {
		st, err := handshake("example.com")
		if err != nil {
			t.Fatalf("handshake for example.com: %v", err)
		}
		if got := st.PeerCertificates[0].DNSNames; !slices.Contains(got, "example.com") {
			t.Fatalf("served certificate for %v", got)
		}
	})
	t.Run("no SNI uses server_name", func(t *testing.T) {
		if _, err := handshake(""); err != nil { // dialled by IP: no SNI is sent
			t.Fatalf("handshake without SNI: %v", err)
		}
	})
	t.Run("other names are refused", func(t *testing.T) {
		if _, err := handshake("evil.example"); err == nil {
			t.Fatal("a name outside host_whitelist got a certificate")
		}
		if _, err := srv.httpTLS.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example"}); err == nil {
			t.Fatal("GetCertificate answered a name outside host_whitelist")
		}
	})
	t.Run("http-01 listener redirects to https", func(t *testing.T) {
		if srv.AutocertHTTPAddr() == "" {
			t.Fatal("no HTTP-01 listener with http: true")
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.AutocertHTTPAddr()+"/page", nil)
		req.Host = "example.com"
		hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/page" {
			t.Fatalf("GET /page = %d, Location %q; want a redirect to https://example.com/page", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestAutocertHTTPAddrBusy: a challenge listener that cannot bind fails
// start-up, as in Centrifugo.
func TestAutocertHTTPAddrBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig(t, map[string]any{"tls_autocert": true, "tls_autocert_host_whitelist": "example.com",
		"tls_autocert_http": true, "tls_autocert_http_addr": busy.Addr().String()})
	s, err := New(cfg, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("tls_autocert_http_addr")) {
		t.Fatalf("Listen = %v, want an error naming tls_autocert_http_addr", err)
	}
}
