package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGenerateRoundTrip(t *testing.T) {
	// Generated tokens carry real timestamps, so verify with the real clock.
	v, err := NewVerifier(TokenConfig{HMACSecretKey: testSecret}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	conn, err := GenerateConnectToken(testSecret, "alice", time.Hour, map[string]any{"info": map[string]string{"n": "A"}})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := v.VerifyConnectToken(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if ct.UserID != "alice" || string(ct.Info) != `{"n":"A"}` {
		t.Fatalf("connect token = %+v", ct)
	}
	if left := time.Until(time.Unix(ct.ExpireAt, 0)); left < 59*time.Minute || left > time.Hour+time.Second {
		t.Fatalf("ExpireAt %d is not about an hour away (%s)", ct.ExpireAt, left)
	}

	forever, err := GenerateConnectToken(testSecret, "bob", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ct, err := v.VerifyConnectToken(ctx, forever); err != nil || ct.ExpireAt != 0 {
		t.Fatalf("ttl 0 token: %+v, %v; want no expiry", ct, err)
	}

	sub, err := GenerateSubscribeToken(testSecret, "alice", "news", time.Minute, map[string]any{"override": Override{Presence: boolPtr(true)}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := v.VerifySubscribeToken(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if st.UserID != "alice" || st.Channel != "news" || st.Override == nil || st.Override.Presence == nil || !*st.Override.Presence {
		t.Fatalf("subscribe token = %+v", st)
	}
	// A subscription token must not pass as a connection token.
	if _, err := v.VerifyConnectToken(ctx, sub); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("subscription token accepted for connect: %v", err)
	}

	expired, err := GenerateConnectToken(testSecret, "carol", time.Hour, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyConnectToken(ctx, expired); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("extra exp did not override: %v", err)
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		gen  func() (string, error)
	}{
		{"empty secret", func() (string, error) { return GenerateConnectToken("", "u", time.Hour, nil) }},
		{"negative ttl", func() (string, error) { return GenerateConnectToken("s", "u", -time.Second, nil) }},
		{"no channel", func() (string, error) { return GenerateSubscribeToken("s", "u", "", time.Hour, nil) }},
		{"unencodable extra", func() (string, error) {
			return GenerateConnectToken("s", "u", time.Hour, map[string]any{"bad": make(chan int)})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := tc.gen(); err == nil {
				t.Fatalf("generated %q, want error", tok)
			}
		})
	}
}
