package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims is the union of the connection- and subscription-token claim
// sets; one decoder serves both so the checks common to both live in one
// place. Each Verify* method then picks the claims its token kind uses.
type tokenClaims struct {
	jwt.RegisteredClaims

	ExpireAt *int64                     `json:"expire_at,omitempty"`
	Info     json.RawMessage            `json:"info,omitempty"`
	B64Info  string                     `json:"b64info,omitempty"`
	Data     json.RawMessage            `json:"data,omitempty"`
	B64Data  string                     `json:"b64data,omitempty"`
	Override *Override                  `json:"override,omitempty"`
	Channels []string                   `json:"channels,omitempty"`
	Subs     map[string]subOptionsClaim `json:"subs,omitempty"`
	Meta     json.RawMessage            `json:"meta,omitempty"`
	Channel  json.RawMessage            `json:"channel,omitempty"`
	Client   string                     `json:"client,omitempty"`

	// userIDClaim, when set before decoding, names the claim that carries
	// the user id instead of `sub`; userID receives its value.
	userIDClaim string
	userID      string
	// decoded records that UnmarshalJSON ran; a `null` payload skips it.
	decoded bool
}

// subOptionsClaim is one entry of a connection token's `subs` map.
type subOptionsClaim struct {
	Info     json.RawMessage `json:"info,omitempty"`
	B64Info  string          `json:"b64info,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	B64Data  string          `json:"b64data,omitempty"`
	Override *Override       `json:"override,omitempty"`
}

// UnmarshalJSON decodes the known claims and, if a custom user id claim is
// configured, pulls that one out of the remaining payload.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	type plain tokenClaims // drops this method to avoid recursion
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	c.decoded = true
	if c.userIDClaim == "" || c.userIDClaim == "sub" {
		c.userID = c.Subject
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	id, err := userIDFromRaw(all[c.userIDClaim])
	if err != nil {
		return fmt.Errorf("claim %q: %w", c.userIDClaim, err)
	}
	c.userID = id
	return nil
}

// userIDFromRaw accepts a JSON string, or a JSON number kept as its literal
// text because numeric user ids are common in backends' databases. Absent or
// null means anonymous.
func userIDFromRaw(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return "", nil
	}
	switch {
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("decode user id: %w", err)
		}
		return s, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("decode user id: %w", err)
		}
		return n.String(), nil
	default:
		return "", errors.New("user id must be a string or a number")
	}
}

// isNull reports whether a raw claim is absent or JSON null; both mean "not
// set" for optional claims.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// rawOrNil normalises an optional raw JSON claim: absent and null become nil.
func rawOrNil(raw json.RawMessage) []byte {
	if isNull(raw) {
		return nil
	}
	return []byte(raw)
}

// pickPayload returns the base64 variant when present (it carries binary
// payloads and wins, as in Centrifugo) and the raw JSON one otherwise.
func pickPayload(name string, raw json.RawMessage, b64 string) ([]byte, error) {
	if b64 == "" {
		return rawOrNil(raw), nil
	}
	out, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("claim b64%s: %w", name, err)
	}
	return out, nil
}

// expireAt turns `expire_at` / `exp` into the expiry the node enforces:
// `expire_at` wins when present (0 = never), else `exp`, else 0.
func (c *tokenClaims) expireAt() int64 {
	if c.ExpireAt != nil {
		if *c.ExpireAt < 0 {
			return 0
		}
		return *c.ExpireAt
	}
	if c.ExpiresAt != nil {
		return c.ExpiresAt.Unix()
	}
	return 0
}
