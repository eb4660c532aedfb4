package auth

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerifyConnectToken(b *testing.B) {
	k := testKeys(b)
	claims := with(claimsFor("42"), jwt.MapClaims{"info": map[string]any{"name": "Alice"}, "channels": []string{"news"}})
	cases := []struct {
		name  string
		cfg   TokenConfig
		token string
	}{
		{"HS256", TokenConfig{HMACSecretKey: testSecret}, sign(b, jwt.SigningMethodHS256, []byte(testSecret), claims, "")},
		{"RS256", TokenConfig{RSAPublicKey: pemPublic(b, &k.rsa.PublicKey)}, sign(b, jwt.SigningMethodRS256, k.rsa, claims, "")},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			v := newTestVerifier(b, bc.cfg, Options{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.VerifyConnectToken(ctx, bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
