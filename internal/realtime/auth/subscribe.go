package auth

import (
	"context"
	"encoding/json"
)

// SubscribeToken is what a verified subscription token grants: access to
// one channel for one user, optionally bound to one client, until ExpireAt.
type SubscribeToken struct {
	// UserID must equal the connection's user; the caller compares them.
	UserID string
	// Channel is the channel the token grants; never empty.
	Channel string
	// Client is the deprecated v3 `client` claim; when non-empty the caller
	// must check it equals the connection id.
	Client string
	// ExpireAt is the Unix time the subscription expires (`expire_at` when
	// present, 0 there meaning never, else `exp`); 0 means never.
	ExpireAt int64
	// Info is the channel info (chan_info): decoded `b64info` or raw `info`.
	Info []byte
	// Data goes to the client in the subscribe result: decoded `b64data` or
	// raw `data`.
	Data []byte
	// Override changes namespace options for this subscription; nil keeps
	// them.
	Override *Override
}

// VerifySubscribeToken checks a subscription token (subscribe and
// sub_refresh commands) and extracts what it grants. Errors wrap
// ErrTokenExpired or ErrInvalidToken.
func (v *Verifier) VerifySubscribeToken(ctx context.Context, token string) (SubscribeToken, error) {
	c, err := v.verify(ctx, token)
	if err != nil {
		return SubscribeToken{}, err
	}
	var channel string
	if !isNull(c.Channel) {
		if err := json.Unmarshal(c.Channel, &channel); err != nil {
			return SubscribeToken{}, invalidf("claim channel must be a string: %w", err)
		}
	}
	if channel == "" {
		return SubscribeToken{}, invalidf("subscription token has no channel claim")
	}
	out := SubscribeToken{
		UserID:   c.userID,
		Channel:  channel,
		Client:   c.Client,
		ExpireAt: c.expireAt(),
		Override: c.Override,
	}
	if out.Info, err = pickPayload("info", c.Info, c.B64Info); err != nil {
		return SubscribeToken{}, invalid(err)
	}
	if out.Data, err = pickPayload("data", c.Data, c.B64Data); err != nil {
		return SubscribeToken{}, invalid(err)
	}
	return out, nil
}
