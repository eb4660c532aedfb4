package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow is the fixed clock all tests verify against.
var testNow = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return testNow }

const testSecret = "test-hmac-secret"

// keySet holds the asymmetric keys generated once per test binary.
type keySet struct {
	rsa      *rsa.PrivateKey
	rsaOther *rsa.PrivateKey
	p256     *ecdsa.PrivateKey
	p384     *ecdsa.PrivateKey
	p521     *ecdsa.PrivateKey
	ed       ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keys     keySet
	keysErr  error
)

func testKeys(t testing.TB) keySet {
	t.Helper()
	keysOnce.Do(func() {
		var errs []error
		keep := func(e error) {
			if e != nil {
				errs = append(errs, e)
			}
		}
		var e error
		keys.rsa, e = rsa.GenerateKey(rand.Reader, 2048)
		keep(e)
		keys.rsaOther, e = rsa.GenerateKey(rand.Reader, 2048)
		keep(e)
		keys.p256, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		keep(e)
		keys.p384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		keep(e)
		keys.p521, e = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		keep(e)
		_, keys.ed, e = ed25519.GenerateKey(rand.Reader)
		keep(e)
		keysErr = errors.Join(errs...)
	})
	if keysErr != nil {
		t.Fatalf("generate test keys: %v", keysErr)
	}
	return keys
}

// pemPublic encodes a public key as a PKIX PEM block, as operators paste it
// into config.
func pemPublic(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign mints a token with the given method, key, claims and optional kid.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// hmacWithHeader builds a token with an arbitrary header whose signature is
// HMAC-SHA256 over header.payload with secret, to forge algorithm-confusion
// tokens the jwt library would refuse to produce.
func hmacWithHeader(t testing.TB, header map[string]any, claims jwt.MapClaims, secret []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// claimsFor returns a fresh claim set for user valid one hour past testNow.
func claimsFor(user string) jwt.MapClaims {
	return jwt.MapClaims{"sub": user, "exp": testNow.Add(time.Hour).Unix()}
}

// with returns a copy of c with extra claims set.
func with(c jwt.MapClaims, extra jwt.MapClaims) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func newTestVerifier(t testing.TB, cfg TokenConfig, opts Options) *Verifier {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	v, err := NewVerifier(cfg, opts)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}
