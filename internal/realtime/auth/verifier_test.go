package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// checkOutcome asserts err is nil, ErrTokenExpired or ErrInvalidToken as
// wanted, and never both sentinels at once.
func checkOutcome(t *testing.T, err error, want error) {
	t.Helper()
	if errors.Is(err, ErrTokenExpired) && errors.Is(err, ErrInvalidToken) {
		t.Fatalf("error is both expired and invalid: %v", err)
	}
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func TestVerifyAlgorithms(t *testing.T) {
	k := testKeys(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	hmacCfg := TokenConfig{HMACSecretKey: testSecret}
	rsaCfg := TokenConfig{RSAPublicKey: rsaPEM}
	claims := claimsFor("42")

	tests := []struct {
		name    string
		cfg     TokenConfig
		token   string
		wantErr error
		cause   string // substring the error must contain
	}{
		{"HS256", hmacCfg, sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, ""), nil, ""},
		{"HS384", hmacCfg, sign(t, jwt.SigningMethodHS384, []byte(testSecret), claims, ""), nil, ""},
		{"HS512", hmacCfg, sign(t, jwt.SigningMethodHS512, []byte(testSecret), claims, ""), nil, ""},
		{"RS256", rsaCfg, sign(t, jwt.SigningMethodRS256, k.rsa, claims, ""), nil, ""},
		{"RS384", rsaCfg, sign(t, jwt.SigningMethodRS384, k.rsa, claims, ""), nil, ""},
		{"RS512", rsaCfg, sign(t, jwt.SigningMethodRS512, k.rsa, claims, ""), nil, ""},
		{"ES256", TokenConfig{ECDSAPublicKey: pemPublic(t, &k.p256.PublicKey)},
			sign(t, jwt.SigningMethodES256, k.p256, claims, ""), nil, ""},
		{"ES384", TokenConfig{ECDSAPublicKey: pemPublic(t, &k.p384.PublicKey)},
			sign(t, jwt.SigningMethodES384, k.p384, claims, ""), nil, ""},
		{"ES512", TokenConfig{ECDSAPublicKey: pemPublic(t, &k.p521.PublicKey)},
			sign(t, jwt.SigningMethodES512, k.p521, claims, ""), nil, ""},
		{"all keys configured, RS256", TokenConfig{HMACSecretKey: testSecret, RSAPublicKey: rsaPEM},
			sign(t, jwt.SigningMethodRS256, k.rsa, claims, ""), nil, ""},

		{"wrong HMAC secret", hmacCfg, sign(t, jwt.SigningMethodHS256, []byte("other"), claims, ""),
			ErrInvalidToken, "signature"},
		{"RS256 signed by another key", rsaCfg, sign(t, jwt.SigningMethodRS256, k.rsaOther, claims, ""),
			ErrInvalidToken, "signature"},
		{"tampered payload", hmacCfg, tamper(t, sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, "")),
			ErrInvalidToken, "signature"},
		{"none", hmacCfg, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims, ""),
			ErrInvalidToken, "none"},
		{"HS256 against RSA-only config", rsaCfg, sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, ""),
			ErrInvalidToken, "HS256"},
		{"HS256 keyed with the RSA PEM (confusion)", rsaCfg,
			sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims, ""), ErrInvalidToken, "HS256"},
		{"HS256 keyed with the RSA PEM, HMAC also configured", TokenConfig{HMACSecretKey: testSecret, RSAPublicKey: rsaPEM},
			sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims, ""), ErrInvalidToken, "signature"},
		{"RS256 header with HMAC signature over the PEM", rsaCfg,
			hmacWithHeader(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, []byte(rsaPEM)),
			ErrInvalidToken, "verification error"},
		{"PS256 not allowed", rsaCfg, sign(t, jwt.SigningMethodPS256, k.rsa, claims, ""), ErrInvalidToken, "PS256"},
		{"ES384 against P-256 key", TokenConfig{ECDSAPublicKey: pemPublic(t, &k.p256.PublicKey)},
			sign(t, jwt.SigningMethodES384, k.p384, claims, ""), ErrInvalidToken, "ES384"},
		{"EdDSA without JWKS", hmacCfg, sign(t, jwt.SigningMethodEdDSA, k.ed, claims, ""), ErrInvalidToken, "EdDSA"},
		{"no key configured", TokenConfig{}, sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, ""),
			ErrInvalidToken, "no token verification key"},
		{"garbage", hmacCfg, "not-a-token", ErrInvalidToken, "segments"},
		{"empty", hmacCfg, "", ErrInvalidToken, ""},
		{"bad base64", hmacCfg, "!!.??.##", ErrInvalidToken, "base64"},
		{"claims not an object", hmacCfg, hmacWithHeader(t, map[string]any{"alg": "HS256"}, nil, []byte(testSecret)),
			ErrInvalidToken, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(t, tc.cfg, Options{})
			got, err := v.VerifyConnectToken(context.Background(), tc.token)
			checkOutcome(t, err, tc.wantErr)
			if tc.wantErr == nil && got.UserID != "42" {
				t.Fatalf("UserID = %q, want 42", got.UserID)
			}
			if err != nil && !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q does not mention %q", err, tc.cause)
			}
		})
	}
}

// tamper changes the payload of a signed token while keeping its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", token, len(parts))
	}
	forged := hmacWithHeader(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claimsFor("admin"), []byte("x"))
	return strings.Join([]string{parts[0], strings.Split(forged, ".")[1], parts[2]}, ".")
}

func TestTimeClaims(t *testing.T) {
	cfg := TokenConfig{HMACSecretKey: testSecret}
	now := testNow.Unix()
	tests := []struct {
		name       string
		claims     jwt.MapClaims
		secret     string
		wantErr    error
		wantExpire int64
	}{
		{"no exp never expires", jwt.MapClaims{"sub": "u"}, testSecret, nil, 0},
		{"exp in future", jwt.MapClaims{"sub": "u", "exp": now + 1}, testSecret, nil, now + 1},
		{"exp equal to now", jwt.MapClaims{"sub": "u", "exp": now}, testSecret, ErrTokenExpired, 0},
		{"exp in past", jwt.MapClaims{"sub": "u", "exp": now - 1}, testSecret, ErrTokenExpired, 0},
		{"nbf in future", jwt.MapClaims{"sub": "u", "nbf": now + 1}, testSecret, ErrTokenExpired, 0},
		{"nbf equal to now", jwt.MapClaims{"sub": "u", "nbf": now}, testSecret, nil, 0},
		{"nbf in past", jwt.MapClaims{"sub": "u", "nbf": now - 10}, testSecret, nil, 0},
		{"expired with bad signature is invalid", jwt.MapClaims{"sub": "u", "exp": now - 1}, "other", ErrInvalidToken, 0},
		{"expire_at wins over exp", jwt.MapClaims{"sub": "u", "exp": now + 10, "expire_at": now + 100}, testSecret, nil, now + 100},
		{"expire_at 0 means never", jwt.MapClaims{"sub": "u", "exp": now + 10, "expire_at": 0}, testSecret, nil, 0},
		{"expire_at does not rescue exp", jwt.MapClaims{"sub": "u", "exp": now - 10, "expire_at": now + 100}, testSecret, ErrTokenExpired, 0},
		{"exp not a number", jwt.MapClaims{"sub": "u", "exp": "soon"}, testSecret, ErrInvalidToken, 0},
		{"expire_at not an integer", jwt.MapClaims{"sub": "u", "expire_at": "x"}, testSecret, ErrInvalidToken, 0},
	}
	v := newTestVerifier(t, cfg, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, jwt.SigningMethodHS256, []byte(tc.secret), tc.claims, "")
			got, err := v.VerifyConnectToken(context.Background(), tok)
			checkOutcome(t, err, tc.wantErr)
			if err == nil && got.ExpireAt != tc.wantExpire {
				t.Fatalf("ExpireAt = %d, want %d", got.ExpireAt, tc.wantExpire)
			}
			sub, err := v.VerifySubscribeToken(context.Background(),
				sign(t, jwt.SigningMethodHS256, []byte(tc.secret), with(tc.claims, jwt.MapClaims{"channel": "c"}), ""))
			checkOutcome(t, err, tc.wantErr)
			if err == nil && sub.ExpireAt != tc.wantExpire {
				t.Fatalf("subscribe ExpireAt = %d, want %d", sub.ExpireAt, tc.wantExpire)
			}
		})
	}
}

func TestAudienceIssuer(t *testing.T) {
	base := claimsFor("u")
	tests := []struct {
		name    string
		cfg     TokenConfig
		claims  jwt.MapClaims
		wantErr error
	}{
		{"no checks configured", TokenConfig{}, with(base, jwt.MapClaims{"aud": "x", "iss": "y"}), nil},
		{"aud exact string", TokenConfig{Audience: "app"}, with(base, jwt.MapClaims{"aud": "app"}), nil},
		{"aud exact in array", TokenConfig{Audience: "app"}, with(base, jwt.MapClaims{"aud": []string{"x", "app"}}), nil},
		{"aud exact mismatch", TokenConfig{Audience: "app"}, with(base, jwt.MapClaims{"aud": "other"}), ErrInvalidToken},
		{"aud exact missing", TokenConfig{Audience: "app"}, base, ErrInvalidToken},
		{"aud exact is not a prefix match", TokenConfig{Audience: "app"}, with(base, jwt.MapClaims{"aud": "app2"}), ErrInvalidToken},
		{"aud regex match", TokenConfig{AudienceRegex: `^app-\d+$`}, with(base, jwt.MapClaims{"aud": []string{"z", "app-7"}}), nil},
		{"aud regex mismatch", TokenConfig{AudienceRegex: `^app-\d+$`}, with(base, jwt.MapClaims{"aud": "app-x"}), ErrInvalidToken},
		{"aud not strings", TokenConfig{Audience: "app"}, with(base, jwt.MapClaims{"aud": 5}), ErrInvalidToken},
		{"iss exact", TokenConfig{Issuer: "auth"}, with(base, jwt.MapClaims{"iss": "auth"}), nil},
		{"iss exact mismatch", TokenConfig{Issuer: "auth"}, with(base, jwt.MapClaims{"iss": "evil"}), ErrInvalidToken},
		{"iss exact missing", TokenConfig{Issuer: "auth"}, base, ErrInvalidToken},
		{"iss regex", TokenConfig{IssuerRegex: `^https://[a-z]+\.example\.com$`},
			with(base, jwt.MapClaims{"iss": "https://acme.example.com"}), nil},
		{"iss regex mismatch", TokenConfig{IssuerRegex: `^https://[a-z]+\.example\.com$`},
			with(base, jwt.MapClaims{"iss": "https://acme.evil.com"}), ErrInvalidToken},
		{"aud and iss both", TokenConfig{Audience: "app", Issuer: "auth"},
			with(base, jwt.MapClaims{"aud": "app", "iss": "auth"}), nil},
		{"aud ok iss wrong", TokenConfig{Audience: "app", Issuer: "auth"},
			with(base, jwt.MapClaims{"aud": "app", "iss": "x"}), ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.HMACSecretKey = testSecret
			v := newTestVerifier(t, tc.cfg, Options{})
			_, err := v.VerifyConnectToken(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(testSecret), tc.claims, ""))
			checkOutcome(t, err, tc.wantErr)
			if err != nil && !strings.Contains(err.Error(), "mismatch") && !strings.Contains(err.Error(), "decode") {
				t.Fatalf("error %q does not say what mismatched", err)
			}
		})
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  TokenConfig
	}{
		{"audience exact and regex", TokenConfig{Audience: "a", AudienceRegex: "a"}},
		{"issuer exact and regex", TokenConfig{Issuer: "a", IssuerRegex: "a"}},
		{"bad audience regex", TokenConfig{AudienceRegex: "("}},
		{"bad issuer regex", TokenConfig{IssuerRegex: "("}},
		{"bad user id claim", TokenConfig{UserIDClaim: "user-id"}},
		{"rsa key not PEM", TokenConfig{RSAPublicKey: "nope"}},
		{"ecdsa key not PEM", TokenConfig{ECDSAPublicKey: "nope"}},
		{"rsa slot holds an EC key", TokenConfig{RSAPublicKey: pemPublic(t, &testKeys(t).p256.PublicKey)}},
		{"ecdsa slot holds an RSA key", TokenConfig{ECDSAPublicKey: pemPublic(t, &testKeys(t).rsa.PublicKey)}},
		{"jwks placeholder without group", TokenConfig{JWKSPublicEndpoint: "http://127.0.0.1/{{tenant}}/jwks"}},
		{"jwks malformed placeholder", TokenConfig{JWKSPublicEndpoint: "http://127.0.0.1/{{ten-ant}}/jwks"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewVerifier(tc.cfg, Options{}); err == nil {
				t.Fatal("NewVerifier accepted a bad config")
			}
		})
	}
}

func TestUserIDClaim(t *testing.T) {
	tests := []struct {
		name    string
		claim   string
		claims  jwt.MapClaims
		want    string
		wantErr error
	}{
		{"sub by default", "", jwt.MapClaims{"sub": "alice"}, "alice", nil},
		{"anonymous", "", jwt.MapClaims{}, "", nil},
		{"custom string claim", "user_id", jwt.MapClaims{"sub": "ignored", "user_id": "bob"}, "bob", nil},
		{"custom numeric claim", "user_id", jwt.MapClaims{"user_id": 12345}, "12345", nil},
		{"custom claim missing", "user_id", jwt.MapClaims{"sub": "ignored"}, "", nil},
		{"custom claim null", "user_id", jwt.MapClaims{"user_id": nil}, "", nil},
		{"custom claim object", "user_id", jwt.MapClaims{"user_id": map[string]any{"a": 1}}, "", ErrInvalidToken},
		{"custom claim bool", "user_id", jwt.MapClaims{"user_id": true}, "", ErrInvalidToken},
		{"explicit sub", "sub", jwt.MapClaims{"sub": "carol"}, "carol", nil},
		{"sub not a string", "", jwt.MapClaims{"sub": 5}, "", ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(t, TokenConfig{HMACSecretKey: testSecret, UserIDClaim: tc.claim}, Options{})
			got, err := v.VerifyConnectToken(context.Background(), sign(t, jwt.SigningMethodHS256, []byte(testSecret), tc.claims, ""))
			checkOutcome(t, err, tc.wantErr)
			if got.UserID != tc.want {
				t.Fatalf("UserID = %q, want %q", got.UserID, tc.want)
			}
		})
	}
}

func TestSkipSignature(t *testing.T) {
	k := testKeys(t)
	now := testNow.Unix()
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"any key accepted", sign(t, jwt.SigningMethodRS256, k.rsaOther, claimsFor("u"), ""), nil},
		{"unknown alg accepted", sign(t, jwt.SigningMethodPS256, k.rsaOther, claimsFor("u"), ""), nil},
		{"still expires", sign(t, jwt.SigningMethodHS256, []byte("x"), jwt.MapClaims{"sub": "u", "exp": now - 1}, ""), ErrTokenExpired},
		{"audience still checked", sign(t, jwt.SigningMethodHS256, []byte("x"), with(claimsFor("u"), jwt.MapClaims{"aud": "no"}), ""), ErrInvalidToken},
		{"garbage still invalid", "a.b", ErrInvalidToken},
	}
	v := newTestVerifier(t, TokenConfig{Audience: "", HMACSecretKey: testSecret}, Options{SkipSignature: true})
	strict := newTestVerifier(t, TokenConfig{Audience: "app", HMACSecretKey: testSecret}, Options{SkipSignature: true})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ver := v
			if strings.Contains(tc.name, "audience") {
				ver = strict
			}
			got, err := ver.VerifyConnectToken(context.Background(), tc.token)
			checkOutcome(t, err, tc.wantErr)
			if err == nil && got.UserID != "u" {
				t.Fatalf("UserID = %q", got.UserID)
			}
		})
	}
}

func TestClockIsConsulted(t *testing.T) {
	now := testNow
	v := newTestVerifier(t, TokenConfig{HMACSecretKey: testSecret}, Options{Now: func() time.Time { return now }})
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claimsFor("u"), "")
	if _, err := v.VerifyConnectToken(context.Background(), tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := v.VerifyConnectToken(context.Background(), tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("after two hours: %v, want expired", err)
	}
}
