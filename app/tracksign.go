package app

import (
	"strconv"
	"time"

	"github.com/spindle-rt/spindle/internal/tracksign"
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
	e := "0"
	if !exp.IsZero() {
		e = strconv.FormatInt(exp.Unix(), 10)
	}
	return tracksign.Sign(secret, strconv.FormatInt(iat.Unix(), 10), e, user, channel, keys)
}
