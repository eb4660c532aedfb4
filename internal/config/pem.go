package config

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// checkPublicKey verifies at load time that a token_*_public_key holds a
// PEM public key (or certificate) of the expected algorithm, so a pasted
// key with lost newlines fails start-up instead of every connect.
func checkPublicKey(text, alg string) error {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return fmt.Errorf("not a PEM block: expected -----BEGIN PUBLIC KEY----- (newlines must be kept; in JSON write them as \\n)")
	}
	var pub any
	var err error
	switch block.Type {
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		return fmt.Errorf("cannot parse %s public key from PEM block %q: %w", alg, block.Type, err)
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		if alg == "RSA" {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == "ECDSA" {
			return nil
		}
	}
	return fmt.Errorf("PEM block holds a %T, not an %s public key", pub, alg)
}
