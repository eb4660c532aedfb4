package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// jwk is one usable verification key from a JWKS document.
type jwk struct {
	alg string // the key's declared "alg"; "" allows any matching its type
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// jwkJSON is the subset of RFC 7517/7518/8037 members we read.
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS decodes a JWKS document into keys by kid. Keys that are not
// for signatures, carry no kid, or are of an unsupported type are skipped
// rather than failing the whole set, because providers publish mixed sets.
func parseJWKS(body []byte) (map[string]jwk, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New("decode JWKS: no \"keys\" array")
	}
	out := make(map[string]jwk, len(doc.Keys))
	for _, raw := range doc.Keys {
		var j jwkJSON
		if err := json.Unmarshal(raw, &j); err != nil {
			continue
		}
		if j.Kid == "" || (j.Use != "" && j.Use != "sig") {
			continue
		}
		if _, dup := out[j.Kid]; dup {
			continue
		}
		key, err := j.publicKey()
		if err != nil {
			continue
		}
		out[j.Kid] = jwk{alg: j.Alg, key: key}
	}
	return out, nil
}

// publicKey builds the Go public key a JWK describes.
func (j jwkJSON) publicKey() (any, error) {
	switch j.Kty {
	case "RSA":
		n, err := b64url(j.N)
		if err != nil || len(n) == 0 {
			return nil, errors.New("bad RSA modulus")
		}
		e, err := b64url(j.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA exponent")
		}
		exp := new(big.Int).SetBytes(e).Int64()
		if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported EC curve %q", j.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, errX := b64url(j.X)
		y, errY := b64url(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("bad EC point: %w", err)
		}
		return key, nil
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported OKP curve %q", j.Crv)
		}
		x, err := b64url(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("unsupported kty %q", j.Kty)
}

// usableFor rejects a key whose type (or declared alg) does not match the
// token's alg, so that a key can never verify under a foreign algorithm.
func (k jwk) usableFor(alg string) error {
	if k.alg != "" && k.alg != alg {
		return fmt.Errorf("key is for alg %s, token uses %s", k.alg, alg)
	}
	ok := false
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		ok = alg == "RS256" || alg == "RS384" || alg == "RS512"
	case *ecdsa.PublicKey:
		ok = alg == ecdsaAlg(key)
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return fmt.Errorf("key type %T cannot verify alg %s", k.key, alg)
	}
	return nil
}

// b64url decodes base64url with or without padding, as providers differ.
func b64url(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("decode base64url: %w", err)
	}
	return b, nil
}
