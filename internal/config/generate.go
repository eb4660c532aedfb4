package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Generate returns a minimal working configuration for `spindle
// genconfig`: fresh random secrets for tokens and the HTTP API, in flat v5
// keys so Centrifugo can read it too. It listens on loopback, port 8000, and
// allows exactly the origins a browser on this machine uses for that
// address (127.0.0.1 and localhost), so the file is consistent with where
// the server binds and exposes nothing until someone widens both on
// purpose. format is "json", "yaml" (or "yml") or "toml".
func Generate(format string) ([]byte, error) {
	secret, err := randomHex(32)
	if err != nil {
		return nil, fmt.Errorf("generate token secret: %w", err)
	}
	apiKey, err := randomHex(24)
	if err != nil {
		return nil, fmt.Errorf("generate api key: %w", err)
	}
	const (
		address = "127.0.0.1"
		port    = 8000
		origin1 = "http://127.0.0.1:8000"
		origin2 = "http://localhost:8000"
	)
	var out string
	switch strings.ToLower(format) {
	case "json":
		out = fmt.Sprintf("{\n  \"address\": %q,\n  \"port\": %d,\n  \"token_hmac_secret_key\": %q,\n  \"api_key\": %q,\n  \"allowed_origins\": [%q, %q]\n}\n",
			address, port, secret, apiKey, origin1, origin2)
	case "yaml", "yml":
		out = fmt.Sprintf("address: %q\nport: %d\ntoken_hmac_secret_key: %q\napi_key: %q\nallowed_origins:\n  - %q\n  - %q\n",
			address, port, secret, apiKey, origin1, origin2)
	case "toml":
		out = fmt.Sprintf("address = %q\nport = %d\ntoken_hmac_secret_key = %q\napi_key = %q\nallowed_origins = [%q, %q]\n",
			address, port, secret, apiKey, origin1, origin2)
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
