package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/spindle-rt/spindle/internal/config"
)

// serverTLS builds a listener's TLS configuration from the PEM bytes the
// configuration's validation read and checked. A client CA turns on mutual
// TLS: a client without a certificate that chains to it fails the
// handshake. TLS 1.2 is the minimum, as in Centrifugo v6. nil means plain
// TCP.
func serverTLS(t config.TLS, nextProtos ...string) (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cert, err := tls.X509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("error create x509 key pair: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: nextProtos}
	if len(t.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, fmt.Errorf("client CA: no valid certificates found")
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
