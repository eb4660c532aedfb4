package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Generate returns a minimal working configuration for `spindle
// genconfig`: fresh random secrets for tokens and the HTTP API and the
// default local origin, in flat v5 keys so Centrifugo can read it too.
// format is "json", "yaml" (or "yml") or "toml".
func Generate(format string) ([]byte, error) {
	secret, err := randomHex(32)
	if err != nil {
		return nil, fmt.Errorf("generate token secret: %w", err)
	}
	apiKey, err := randomHex(24)
	if err != nil {
		return nil, fmt.Errorf("generate api key: %w", err)
	}
	const origin = "http://localhost:8000"
	var out string
	switch strings.ToLower(format) {
	case "json":
		out = fmt.Sprintf("{\n  \"token_hmac_secret_key\": %q,\n  \"api_key\": %q,\n  \"allowed_origins\": [%q]\n}\n", secret, apiKey, origin)
	case "yaml", "yml":
		out = fmt.Sprintf("token_hmac_secret_key: %q\napi_key: %q\nallowed_origins:\n  - %q\n", secret, apiKey, origin)
	case "toml":
		out = fmt.Sprintf("token_hmac_secret_key = %q\napi_key = %q\nallowed_origins = [%q]\n", secret, apiKey, origin)
	default:
		return nil, fmt.Errorf("unknown config format %q (want json, yaml or toml)", format)
	}
	return []byte(out), nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
