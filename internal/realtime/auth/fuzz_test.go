package auth

import (
	"context"
	"errors"
	"testing"
)

// FuzzVerifyConnectToken feeds arbitrary strings to both a signature-
// checking verifier and one that skips signatures (so that the claim
// decoding behind the signature is reached too). Any outcome other than
// success, ErrTokenExpired or ErrInvalidToken — or a panic — is a bug.
func FuzzVerifyConnectToken(f *testing.F) {
	f.Add("")
	f.Add("a.b.c")
	cfg := TokenConfig{HMACSecretKey: testSecret, UserIDClaim: "uid", AudienceRegex: `^app(?P<n>\d*)$`}
	strict, err := NewVerifier(cfg, Options{Now: fixedNow})
	if err != nil {
		f.Fatal(err)
	}
	lax, err := NewVerifier(TokenConfig{}, Options{SkipSignature: true, Now: fixedNow})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*Verifier{strict, lax} {
			_, err := v.VerifyConnectToken(ctx, token)
			checkSentinel(t, err)
			_, err = v.VerifySubscribeToken(ctx, token)
			checkSentinel(t, err)
		}
	})
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("error outside the contract: %v", err)
	}
}
