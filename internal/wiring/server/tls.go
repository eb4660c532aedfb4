package server

import (
	"crypto/tls"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/tlsconf"
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
	return tlsconf.Server(tlsSettings(t), nextProtos...)
}

// tlsSettings is a configured TLS object as the PEM material tlsconf and
// the parts take.
func tlsSettings(t config.TLS) tlsconf.Settings {
	return tlsconf.Settings{Cert: t.Cert, Key: t.Key, CA: t.CA, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
}

// clientTLSSettings is tlsSettings for a connection Spindle makes, nil
// when the object is off.
func clientTLSSettings(t config.TLS) *tlsconf.Settings {
	if !t.Enabled {
		return nil
	}
	s := tlsSettings(t)
	return &s
}
