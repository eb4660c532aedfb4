// Package tracksign is the one implementation of the shared-poll track
// signature, so the server that verifies it (internal/realtime/node) and
// the SDK that signs it for Go backends (app.SignSharedPollTrack) cannot
// drift apart. The signature is "<iat>:<exp>:<hex>", where hex is the
// lowercase HMAC-SHA256, with the server's shared_poll.hmac_secret_key, of
//
//	iat \0 exp \0 user \0 channel \0 hex(SHA-256(keys joined by \0))
//
// with iat and exp (Unix seconds) exactly as written in the signature and
// the keys in request order: Centrifugo's recipe, so one backend signs for
// either server.
package tracksign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Sign returns the signature of keys for user on channel; iat and exp are
// decimal Unix seconds ("0" for exp: never expires).
func Sign(secret, iat, exp, user, channel string, keys []string) string {
	sum := sha256.Sum256([]byte(strings.Join(keys, "\x00")))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(iat + "\x00" + exp + "\x00" + user + "\x00" + channel + "\x00" + hex.EncodeToString(sum[:])))
	return iat + ":" + exp + ":" + hex.EncodeToString(mac.Sum(nil))
}
