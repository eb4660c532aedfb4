package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// keyEqual compares a presented API key with the configured one in
// constant time. Hashing first keeps the comparison's duration independent
// of the keys' lengths too, which subtle.ConstantTimeCompare alone is not.
func keyEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// httpAuthorized applies Centrifugo's HTTP API key rules: the X-API-Key
// header decides if present; otherwise an `Authorization: apikey KEY`
// header (scheme in any case); otherwise the api_key query parameter. An
// empty configured key authorizes nothing, so a forgotten key fails
// closed.
func httpAuthorized(r *http.Request, key string) bool {
	if key == "" {
		return false
	}
	if k := r.Header.Get("X-API-Key"); k != "" {
		return keyEqual(k, key)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(a), " ")
		if ok && strings.EqualFold(scheme, "apikey") {
			return keyEqual(strings.TrimSpace(token), key)
		}
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		return keyEqual(k, key)
	}
	return false
}
