package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
)

func pemPublicKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestTokenKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pemPublicKey(t, &rsaKey.PublicKey)
	ecPEM := pemPublicKey(t, &ecKey.PublicKey)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}))

	js := func(m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("valid keys and separate subscription config", func(t *testing.T) {
		p := writeConfig(t, "c.json", js(map[string]any{
			"token_rsa_public_key":               rsaPEM,
			"token_ecdsa_public_key":             ecPEM,
			"separate_subscription_token_config": true,
			"subscription_token_rsa_public_key":  pkcs1,
			"subscription_token_audience":        "subs",
		}))
		cfg, _ := mustLoad(t, LoadOptions{File: p})
		if cfg.Token.RSAPublicKey != rsaPEM || cfg.Token.ECDSAPublicKey != ecPEM {
			t.Fatal("token keys not loaded")
		}
		if cfg.SubToken.RSAPublicKey != pkcs1 || cfg.SubToken.Audience != "subs" || cfg.SubToken.ECDSAPublicKey != "" {
			t.Fatalf("SubToken: %+v", cfg.SubToken)
		}
	})
	tests := []struct {
		name, key, value, msg string
	}{
		{"garbage", "token_rsa_public_key", "not a key", "not a PEM block"},
		{"ecdsa in rsa field", "token_rsa_public_key", ecPEM, "not an RSA public key"},
		{"rsa in ecdsa field", "token_ecdsa_public_key", rsaPEM, "not an ECDSA public key"},
		{"broken body", "token_ecdsa_public_key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "cannot parse ECDSA public key"},
		{"subscription key", "subscription_token_rsa_public_key", "nope", "not a PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{tt.key: tt.value}
			if strings.HasPrefix(tt.key, "subscription_") {
				m["separate_subscription_token_config"] = true
			}
			errs := loadErrors(t, LoadOptions{File: writeConfig(t, "c.json", js(m))})
			if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) {
				t.Fatalf("got %v", (&Errors{List: errs}).Error())
			}
		})
	}
}
