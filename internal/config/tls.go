package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// errNotPEM is what a *_pem value that is neither PEM, base64 of PEM nor a
// file path gets, in Centrifugo's words.
var errNotPEM = errors.New("invalid PEM data: not a valid file path, base64-encoded PEM content, or raw PEM content")

// resolvePEM turns a *_pem value into PEM bytes, trying what Centrifugo
// tries, in its order: raw PEM text, standard base64 of PEM text, a file
// path (whose content must be PEM).
func resolvePEM(v string) ([]byte, error) {
	if b := []byte(v); isPEM(b) {
		return b, nil
	}
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil && isPEM(dec) {
		return dec, nil
	}
	if _, err := os.Stat(v); err == nil {
		data, err := readFile(v)
		if err != nil {
			return nil, fmt.Errorf("file %q: %s", v, readError(err))
		}
		if !isPEM(data) {
			return nil, fmt.Errorf("file %q contains invalid PEM data", v)
		}
		return data, nil
	}
	if !strings.ContainsAny(v, "\n\r") && strings.ContainsAny(v, "/.") {
		return nil, fmt.Errorf("%w (no file %q)", errNotPEM, v)
	}
	return nil, errNotPEM
}

func isPEM(b []byte) bool {
	block, _ := pem.Decode(bytes.TrimSpace(b))
	return block != nil
}

// checkListenerTLS validates a listener's TLS settings and fills t's PEM
// bytes: the certificate and key must both be there and match, and a
// client CA, when given, must hold at least one certificate. Every problem
// names the key that holds it.
func (st *state) checkListenerTLS(t *TLS, enabledKey, certKey, keyKey, caKey string) {
	if !t.Enabled {
		for _, k := range []string{certKey, keyKey, caKey} {
			if st.isSet(k) {
				st.warnf(st.where(k), "ignored: %s is off", enabledKey)
			}
		}
		return
	}
	var ok = true
	read := func(src, key string) []byte {
		if src == "" {
			st.errorf(st.where(enabledKey), "%s is on but %s is empty", enabledKey, key)
			ok = false
			return nil
		}
		b, err := resolvePEM(src)
		if err != nil {
			st.errorf(st.where(key), "%v", err)
			ok = false
		}
		return b
	}
	t.Cert = read(t.CertFile, certKey)
	t.Key = read(t.KeyFile, keyKey)
	if ok {
		if err := checkKeyPair(t.Cert, t.Key); err != nil {
			st.errorf(st.where(keyKey), "%v", err)
		}
	}
	if t.CAFile != "" {
		ca, err := resolvePEM(t.CAFile)
		if err != nil {
			st.errorf(st.where(caKey), "%v", err)
			return
		}
		if err := checkCABundle(ca); err != nil {
			st.errorf(st.where(caKey), "%v", err)
			return
		}
		t.CA = ca
	}
}

// tlsLocs are where the keys of one client TLS object were set (or, for
// keys left unset, their names), so every problem names its key.
type tlsLocs struct{ enabled, cert, key, ca loc }

// isSetAt reports whether a location came from a source (file, env,
// flags) rather than being a key's bare name.
func isSetAt(l loc) bool { return l.source != "" }

// checkClientTLS validates the TLS settings of a connection Spindle makes
// (Redis, Sentinel, proxies): a client certificate is optional but needs
// its key, and a server CA, when given, must hold a certificate. It fills
// t's PEM bytes. Settings given while the object is off are warned about:
// they would otherwise look like TLS that is on.
func (st *state) checkClientTLS(t *TLS, l tlsLocs) {
	if !t.Enabled {
		for _, at := range []loc{l.cert, l.key, l.ca} {
			if isSetAt(at) {
				st.warnf(at, "ignored: %s is off", l.enabled.key)
			}
		}
		return
	}
	read := func(src string, at loc) []byte {
		if src == "" {
			return nil
		}
		b, err := resolvePEM(src)
		if err != nil {
			st.errorf(at, "%v", err)
		}
		return b
	}
	t.Cert, t.Key = read(t.CertFile, l.cert), read(t.KeyFile, l.key)
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		st.errorf(l.enabled, "%s and %s go together: a client certificate needs its key", l.cert.key, l.key.key)
	case t.Cert != nil && t.Key != nil:
		if err := checkKeyPair(t.Cert, t.Key); err != nil {
			st.errorf(l.key, "%v", err)
		}
	}
	if ca := read(t.CAFile, l.ca); ca != nil {
		if err := checkCABundle(ca); err != nil {
			st.errorf(l.ca, "%v", err)
			return
		}
		t.CA = ca
	}
}

// keyLocs is tlsLocs for top-level keys.
func (st *state) keyLocs(enabled, cert, key, ca string) tlsLocs {
	return tlsLocs{st.where(enabled), st.where(cert), st.where(key), st.where(ca)}
}

// checkKeyPair is the one test of a certificate and its key, with the
// message Centrifugo gives, for every TLS object of both config files.
func checkKeyPair(cert, key []byte) error {
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		return fmt.Errorf("error create x509 key pair: %v", err)
	}
	return nil
}

// checkCABundle is the one test of a CA bundle: it must hold a certificate.
func checkCABundle(pemBytes []byte) error {
	if !x509.NewCertPool().AppendCertsFromPEM(pemBytes) {
		return errors.New("no valid certificates found")
	}
	return nil
}
