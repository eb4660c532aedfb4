package node

import (
	"crypto/hmac"
	"strconv"
	"strings"
	"time"

	"github.com/spindle-rt/spindle/internal/tracksign"
)

// A shared-poll client tracks keys in batches the application signed, so a
// client can follow only the items its backend let it see; the recipe is
// in internal/tracksign.

// trackSignatureLeeway tolerates clock skew between the signer and this
// server before an expired signature is refused.
const trackSignatureLeeway = 5 * time.Second

// trackSignature is a verified signature's lifetime.
type trackSignature struct {
	iat, exp int64 // Unix seconds; exp 0: never expires
}

// signTrackBatch computes the signature of a batch.
func signTrackBatch(secret, iat, exp, user, channel string, keys []string) string {
	return tracksign.Sign(secret, iat, exp, user, channel, keys)
}

// verifyTrackBatch checks a batch's signature against the current key, or
// the previous one while it is still accepted: a bad signature is 103, an
// expired one 109.
func verifyTrackBatch(cfg *SharedPollConfig, sig, user, channel string, keys []string, now time.Time) (trackSignature, error) {
	parts := strings.SplitN(sig, ":", 3)
	if len(parts) != 3 || cfg.HMACSecretKey == "" {
		return trackSignature{}, ErrorPermissionDenied
	}
	iat, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || iat < 0 || exp < 0 {
		return trackSignature{}, ErrorPermissionDenied
	}
	ok := hmac.Equal([]byte(sig), []byte(signTrackBatch(cfg.HMACSecretKey, parts[0], parts[1], user, channel, keys)))
	if !ok && cfg.HMACPreviousSecretKey != "" && (cfg.HMACPreviousSecretKeyValidUntil <= 0 || iat <= cfg.HMACPreviousSecretKeyValidUntil) {
		ok = hmac.Equal([]byte(sig), []byte(signTrackBatch(cfg.HMACPreviousSecretKey, parts[0], parts[1], user, channel, keys)))
	}
	if !ok {
		return trackSignature{}, ErrorPermissionDenied
	}
	if exp > 0 && time.Unix(exp, 0).Add(trackSignatureLeeway).Before(now) {
		return trackSignature{}, ErrorTokenExpired
	}
	return trackSignature{iat: iat, exp: exp}, nil
}
