package server

import (
	"crypto/tls"
	"net/http"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/spindle-rt/spindle/internal/config"
)

// autocertTLS is the main port's TLS when http_server.tls_autocert is on:
// certificates come from Let's Encrypt through golang.org/x/crypto's
// autocert manager (terms accepted, as Centrifugo does), fetched on the
// first handshake for a name and renewed by the library. The host
// whitelist, when set, refuses every other name before anything is asked
// of Let's Encrypt; the cache directory keeps certificates across restarts.
// With http: true the returned server answers HTTP-01 challenges (and
// redirects everything else to HTTPS) on http_addr; nil otherwise.
func autocertTLS(ac config.Autocert) (*tls.Config, *http.Server) {
	m := &autocert.Manager{Prompt: autocert.AcceptTOS, Email: ac.Email}
	if len(ac.HostWhitelist) > 0 {
		m.HostPolicy = autocert.HostWhitelist(ac.HostWhitelist...)
	}
	if ac.CacheDir != "" {
		m.Cache = autocert.DirCache(ac.CacheDir)
	}
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// HTTP/2 for the streams, HTTP/1.1 for WebSocket upgrades (see
		// New); acme-tls/1 lets the TLS-ALPN-01 challenge be answered on
		// this port.
		NextProtos: []string{"h2", "http/1.1", acme.ALPNProto},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == "" && ac.ServerName != "" {
				hello.ServerName = ac.ServerName
			}
			return m.GetCertificate(hello)
		},
	}
	if !ac.HTTP {
		return c, nil
	}
	// Centrifugo's timeouts for this listener.
	return c, &http.Server{
		Addr:              ac.HTTPAddr,
		Handler:           m.HTTPHandler(nil),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
}
