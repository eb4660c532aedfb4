package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// ConnectToken is what a verified connection token grants: who the user is,
// until when the connection may live, and which server-side subscriptions
// to create.
type ConnectToken struct {
	// UserID is the authenticated user; "" means anonymous.
	UserID string
	// ExpireAt is the Unix time at which the connection expires, taken from
	// `expire_at` when present (0 there means never), else from `exp`;
	// 0 means the connection never expires.
	ExpireAt int64
	// Info is the connection info shown to other clients (ClientInfo
	// conn_info): decoded `b64info` if present, else the raw `info` JSON.
	Info []byte
	// Channels are server-side subscriptions using namespace defaults. It is
	// left empty when Subs is non-empty, because Centrifugo ignores
	// `channels` then.
	Channels []string
	// Subs are server-side subscriptions with per-channel options.
	Subs map[string]SubscribeOptions
	// Meta is server-only metadata (a raw JSON object) forwarded to proxies
	// and never shown to clients.
	Meta []byte
}

// SubscribeOptions carries the per-channel options of a connection token's
// `subs` claim.
type SubscribeOptions struct {
	// Info is the channel info (chan_info): decoded `b64info` or raw `info`.
	Info []byte
	// Data is sent to the client in the subscribe result: decoded `b64data`
	// or raw `data`.
	Data []byte
	// Override changes namespace options for this subscription; nil keeps
	// them.
	Override *Override
}

// VerifyConnectToken checks a connection token (connect and refresh
// commands) and extracts what it grants. Errors wrap ErrTokenExpired or
// ErrInvalidToken.
func (v *Verifier) VerifyConnectToken(ctx context.Context, token string) (ConnectToken, error) {
	c, err := v.verify(ctx, token)
	if err != nil {
		return ConnectToken{}, err
	}
	if !isNull(c.Channel) {
		// A subscription token must not be usable as a connection token.
		return ConnectToken{}, invalidf("connection token must not contain a channel claim")
	}
	out := ConnectToken{
		UserID:   c.userID,
		ExpireAt: c.expireAt(),
	}
	if out.Info, err = pickPayload("info", c.Info, c.B64Info); err != nil {
		return ConnectToken{}, invalid(err)
	}
	if meta := rawOrNil(c.Meta); meta != nil {
		if !bytes.HasPrefix(meta, []byte("{")) {
			return ConnectToken{}, invalid(errors.New("claim meta must be a JSON object"))
		}
		out.Meta = meta
	}
	if len(c.Subs) > 0 {
		out.Subs = make(map[string]SubscribeOptions, len(c.Subs))
		for ch, o := range c.Subs {
			opts, err := o.options()
			if err != nil {
				return ConnectToken{}, invalidf("claim subs[%q]: %w", ch, err)
			}
			out.Subs[ch] = opts
		}
	} else {
		// A null in the list decodes as "": no channel has that name, so
		// the claim is wrong, not empty.
		for i, ch := range c.Channels {
			if ch == "" {
				return ConnectToken{}, invalidf("claim channels[%d] is empty or null", i)
			}
		}
		out.Channels = c.Channels
	}
	return out, nil
}

// options converts one `subs` entry, decoding its base64 variants.
func (o subOptionsClaim) options() (SubscribeOptions, error) {
	info, err := pickPayload("info", o.Info, o.B64Info)
	if err != nil {
		return SubscribeOptions{}, fmt.Errorf("subscribe options: %w", err)
	}
	data, err := pickPayload("data", o.Data, o.B64Data)
	if err != nil {
		return SubscribeOptions{}, fmt.Errorf("subscribe options: %w", err)
	}
	return SubscribeOptions{Info: info, Data: data, Override: o.Override}, nil
}
