package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SignSharedPollTrack signs a batch of keys a user may track in a
// shared-poll channel, the signature a client passes to the server with
// its track request (the SDK asks for it through its getSignature
// callback). secret is the server's shared_poll.hmac_secret_key; the
// signature is valid until exp (the zero time: forever) and must name the
// connection's user ("" for an anonymous one) and the keys in the order
// the client sends them. The recipe is Centrifugo's, so the signature
// works with either server.
func SignSharedPollTrack(secret, user, channel string, keys []string, iat, exp time.Time) string {
	i := strconv.FormatInt(iat.Unix(), 10)
	e := "0"
	if !exp.IsZero() {
		e = strconv.FormatInt(exp.Unix(), 10)
	}
	sum := sha256.Sum256([]byte(strings.Join(keys, "\x00")))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(i + "\x00" + e + "\x00" + user + "\x00" + channel + "\x00" + hex.EncodeToString(sum[:])))
	return i + ":" + e + ":" + hex.EncodeToString(mac.Sum(nil))
}
