package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Session is who a token speaks for. User is the stable id used in
// channel names; Name is what the visitor typed.
type Session struct {
	User      string `json:"sub"`
	Name      string `json:"name"`
	ExpiresAt int64  `json:"exp"` // Unix seconds
}

// Token errors. ErrBadToken covers malformed tokens and bad signatures
// alike, so a caller learns nothing about which check failed.
var (
	ErrBadToken     = errors.New("invalid session token")
	ErrTokenExpired = errors.New("session token expired")
	ErrBadName      = errors.New("name must be 1-32 characters and contain a letter or digit")
)

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 24 * time.Hour

// maxNameLen bounds a display name, in characters.
const maxNameLen = 32

// Tokens issues and verifies the demo's session tokens: base64url(JSON
// session) "." base64url(HMAC-SHA256 of the first part). They stand in
// for the users service of Spiral's demo; the connect service verifies
// them, so a visitor cannot claim another user's channel.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens uses key as the HMAC secret (a random one when empty, which
// signs everyone out when the process restarts).
func NewTokens(key []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("session secret: %w", err)
		}
	}
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), key...), ttl: ttl, now: now}, nil
}

// Issue signs a session for the display name.
func (t *Tokens) Issue(name string) (string, Session, error) {
	name = strings.Join(strings.Fields(name), " ")
	user := UserID(name)
	if user == "" || utf8.RuneCountInString(name) > maxNameLen || !utf8.ValidString(name) {
		return "", Session{}, ErrBadName
	}
	s := Session{User: user, Name: name, ExpiresAt: t.now().Add(t.ttl).Unix()}
	body, err := json.Marshal(s)
	if err != nil {
		return "", Session{}, fmt.Errorf("encode session: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + t.sign(payload), s, nil
}

// Verify checks the signature and expiry and returns the session.
func (t *Tokens) Verify(token string) (Session, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return Session{}, ErrBadToken
	}
	want := t.sign(payload)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return Session{}, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Session{}, ErrBadToken
	}
	var s Session
	if err := json.Unmarshal(body, &s); err != nil || s.User == "" || s.User != UserID(s.Name) {
		return Session{}, ErrBadToken
	}
	if t.now().Unix() >= s.ExpiresAt {
		return Session{}, ErrTokenExpired
	}
	return s, nil
}

func (t *Tokens) sign(payload string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// UserID derives the user id from a display name: letters and digits
// lower-cased, every other run of characters one "-". The result never
// holds a channel-syntax character (# , : $ .), so "user#<id>" is always
// a valid single-user channel. "" means the name has nothing usable.
func UserID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return b.String()
}
