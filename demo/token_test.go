package demo

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUserID(t *testing.T) {
	cases := map[string]string{
		"Ada":              "ada",
		"Ada Lovelace":     "ada-lovelace",
		"  ada   LOVELACE": "ada-lovelace",
		"user#42,43":       "user-42-43",
		"a:b$c.d":          "a-b-c-d",
		"Zoë":              "zoë",
		"--":               "",
		"":                 "",
		"Grace-Hopper!":    "grace-hopper",
	}
	for in, want := range cases {
		if got := UserID(in); got != want {
			t.Errorf("UserID(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(UserID(in), "#,:$. ") {
			t.Errorf("UserID(%q) has a channel-syntax character", in)
		}
	}
}

func TestTokenRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok, err := NewTokens([]byte("k1"), time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	token, s, err := tok.Issue("  Ada   Lovelace ")
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "ada-lovelace" || s.Name != "Ada Lovelace" || s.ExpiresAt != now.Add(time.Hour).Unix() {
		t.Fatalf("session = %+v", s)
	}
	got, err := tok.Verify(token)
	if err != nil || got != s {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, s)
	}
}

func TestTokenRejections(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	tok, _ := NewTokens([]byte("k1"), time.Hour, clock)
	other, _ := NewTokens([]byte("k2"), time.Hour, clock)
	good, _, _ := tok.Issue("ann")
	payload, sig, _ := strings.Cut(good, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","name":"bob","exp":1900000000}`)) + "." + sig
	otherKey, _, _ := other.Issue("ann")
	later, _ := NewTokens([]byte("k1"), time.Hour, func() time.Time { return now.Add(time.Hour) })
	mismatch := func() string {
		// A validly signed session whose id does not derive from its name.
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","name":"ann","exp":1900000000}`))
		return p + "." + tok.sign(p)
	}()

	cases := []struct {
		name  string
		v     *Tokens
		token string
		want  error
	}{
		{"empty", tok, "", ErrBadToken},
		{"no dot", tok, payload, ErrBadToken},
		{"other payload, our signature", tok, forged, ErrBadToken},
		{"signed with another key", tok, otherKey, ErrBadToken},
		{"truncated signature", tok, good[:len(good)-2], ErrBadToken},
		{"not base64", tok, "!!!." + tok.sign("!!!"), ErrBadToken},
		{"id not from name", tok, mismatch, ErrBadToken},
		{"huge", tok, strings.Repeat("a", 5000) + "." + sig, ErrBadToken},
		{"expired", later, good, ErrTokenExpired},
	}
	for _, tc := range cases {
		if _, err := tc.v.Verify(tc.token); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestIssueRejectsBadNames(t *testing.T) {
	tok, _ := NewTokens(nil, 0, nil)
	for _, name := range []string{"", "   ", "!!!", strings.Repeat("x", 33), "\xff\xfe"} {
		if _, _, err := tok.Issue(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Issue(%q) = %v, want ErrBadName", name, err)
		}
	}
	if _, _, err := tok.Issue(strings.Repeat("x", 32)); err != nil {
		t.Errorf("32 characters should be fine: %v", err)
	}
}

// Two processes without a configured secret do not accept each other's
// tokens: the random key really is random.
func TestRandomSecretsDiffer(t *testing.T) {
	a, _ := NewTokens(nil, 0, nil)
	b, _ := NewTokens(nil, 0, nil)
	token, _, _ := a.Issue("ann")
	if _, err := b.Verify(token); !errors.Is(err, ErrBadToken) {
		t.Fatalf("token from another random key: %v", err)
	}
}
