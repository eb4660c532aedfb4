// Package tlsconf builds the crypto/tls configurations Spindle uses, from
// PEM bytes the configuration has already read and checked: one place for
// the rules every listener and every outgoing connection share (TLS 1.2 at
// least, as in Centrifugo v6; a client CA means require-and-verify; no CA
// on a client means the system roots).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Settings is one TLS object's material as PEM bytes.
type Settings struct {
	// Cert and Key are a certificate pair: the server's certificate on a
	// listener, the client certificate on a connection Spindle makes.
	// Both or neither.
	Cert, Key []byte
	// CA is the bundle the other side is checked against: client
	// certificates on a listener (mutual TLS), the server's chain on a
	// client (instead of the system roots).
	CA []byte
	// ServerName overrides the host name a client expects (and sends as
	// SNI); empty means the dialled host.
	ServerName string
	// InsecureSkipVerify makes a client accept any server certificate.
	InsecureSkipVerify bool
}

// errNoCerts is a CA bundle without a usable certificate, in Centrifugo's
// words.
var errNoCerts = errors.New("no valid certificates found")

// Client is the configuration of a connection Spindle makes. Without CA
// the server is verified against the system roots, so an https:// or
// public TLS endpoint works with nothing configured.
func Client(s Settings) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName, InsecureSkipVerify: s.InsecureSkipVerify}
	if len(s.Cert) > 0 || len(s.Key) > 0 {
		pair, err := tls.X509KeyPair(s.Cert, s.Key)
		if err != nil {
			return nil, fmt.Errorf("error create x509 key pair: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	if len(s.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CA) {
			return nil, fmt.Errorf("server CA: %w", errNoCerts)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// Server is the configuration of a listener: the certificate pair is
// required, and a CA turns on mutual TLS (a client without a certificate
// that chains to it fails the handshake). nextProtos are the ALPN
// protocols offered, in the server's order of preference.
func Server(s Settings, nextProtos ...string) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(s.Cert, s.Key)
	if err != nil {
		return nil, fmt.Errorf("error create x509 key pair: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, NextProtos: nextProtos}
	if len(s.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CA) {
			return nil, fmt.Errorf("client CA: %w", errNoCerts)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
