package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
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

// parseJWKS decodes a JWKS document into keys by kid. Each key is parsed
// by go-jose (RFC 7517/7518/8037 encodings and their checks); keys that are
// not for signatures, carry no kid, are symmetric, or do not parse are
// skipped rather than failing the whole set, because providers publish
// mixed sets.
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
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if _, dup := out[k.KeyID]; dup {
			continue
		}
		key, ok := verificationKey(k)
		if !ok {
			continue
		}
		out[k.KeyID] = jwk{alg: k.Algorithm, key: key}
	}
	return out, nil
}

// verificationKey is the public key of an asymmetric JWK. Symmetric ("oct")
// keys are refused, so a published secret can never verify an HMAC token,
// and so are RSA keys with an exponent no signer uses.
func verificationKey(k jose.JSONWebKey) (any, bool) {
	if !k.IsPublic() {
		k = k.Public()
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		if key.E < 3 || key.E%2 == 0 {
			return nil, false
		}
		return key, true
	case *ecdsa.PublicKey:
		return key, true
	case ed25519.PublicKey:
		return key, true
	}
	return nil, false
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
