package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GenerateConnectToken mints an HS256 connection token for user, valid for
// ttl (0 = no exp). It backs `spindle gentoken` and tests, so that a
// developer can connect without writing a backend first. extra is merged
// last and may override any claim (info, channels, subs, expire_at, ...).
func GenerateConnectToken(secret string, user string, ttl time.Duration, extra map[string]any) (string, error) {
	return generate(secret, user, ttl, nil, extra)
}

// GenerateSubscribeToken mints an HS256 subscription token granting user
// the channel for ttl (0 = no exp). It backs `spindle gensubtoken` and
// tests; extra is merged last and may override any claim.
func GenerateSubscribeToken(secret string, user string, channel string, ttl time.Duration, extra map[string]any) (string, error) {
	if channel == "" {
		return "", errors.New("generate subscription token: channel is required")
	}
	return generate(secret, user, ttl, map[string]any{"channel": channel}, extra)
}

// generate builds and signs the claim set shared by both token kinds.
func generate(secret, user string, ttl time.Duration, base, extra map[string]any) (string, error) {
	if secret == "" {
		return "", errors.New("generate token: HMAC secret is empty")
	}
	if ttl < 0 {
		return "", fmt.Errorf("generate token: negative ttl %s", ttl)
	}
	now := time.Now()
	claims := jwt.MapClaims{"sub": user, "iat": now.Unix()}
	if ttl > 0 {
		claims["exp"] = now.Add(ttl).Unix()
	}
	for k, v := range base {
		claims[k] = v
	}
	for k, v := range extra {
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("generate token: sign: %w", err)
	}
	return s, nil
}
