package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwkOf renders a public key as a JWK map.
func jwkOf(t testing.TB, kid string, pub any, alg string) map[string]any {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = enc(k.N.Bytes())
		m["e"] = enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(raw) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = k.Params().Name
		m["x"] = enc(raw[1 : 1+size])
		m["y"] = enc(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = enc(k)
	default:
		t.Fatalf("unsupported key %T", pub)
	}
	return m
}

// jwksServer is an identity provider stand-in whose key set and health the
// test controls, counting fetches per path.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	keys   []map[string]any
	status int
	hits   map[string]int
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys, status: http.StatusOK, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits[r.URL.Path]++
		if s.status != http.StatusOK {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

func (s *jwksServer) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// fakeClock is a settable clock shared by the verifier and the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func jwksClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

func TestJWKSAlgorithms(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSServer(t,
		jwkOf(t, "rsa", &k.rsa.PublicKey, ""),
		jwkOf(t, "rsa384only", &k.rsa.PublicKey, "RS384"),
		jwkOf(t, "p256", &k.p256.PublicKey, "ES256"),
		jwkOf(t, "p384", &k.p384.PublicKey, ""),
		jwkOf(t, "p521", &k.p521.PublicKey, ""),
		jwkOf(t, "ed", k.ed.Public(), "EdDSA"),
	)
	claims := claimsFor("u")
	tests := []struct {
		name    string
		token   string
		wantErr error
		cause   string
	}{
		{"RS256", sign(t, jwt.SigningMethodRS256, k.rsa, claims, "rsa"), nil, ""},
		{"RS512", sign(t, jwt.SigningMethodRS512, k.rsa, claims, "rsa"), nil, ""},
		{"RS384 on alg-pinned key", sign(t, jwt.SigningMethodRS384, k.rsa, claims, "rsa384only"), nil, ""},
		{"ES256", sign(t, jwt.SigningMethodES256, k.p256, claims, "p256"), nil, ""},
		{"ES384", sign(t, jwt.SigningMethodES384, k.p384, claims, "p384"), nil, ""},
		{"ES512", sign(t, jwt.SigningMethodES512, k.p521, claims, "p521"), nil, ""},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, k.ed, claims, "ed"), nil, ""},
		{"RS256 on alg-pinned RS384 key", sign(t, jwt.SigningMethodRS256, k.rsa, claims, "rsa384only"), ErrInvalidToken, "RS384"},
		{"ES256 naming an RSA kid", sign(t, jwt.SigningMethodES256, k.p256, claims, "rsa"), ErrInvalidToken, "cannot verify"},
		{"ES384 naming a P-256 kid", sign(t, jwt.SigningMethodES384, k.p384, claims, "p256"), ErrInvalidToken, "ES256"},
		{"wrong RSA key", sign(t, jwt.SigningMethodRS256, k.rsaOther, claims, "rsa"), ErrInvalidToken, "signature"},
		{"HS256 not allowed with JWKS", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims, "rsa"), ErrInvalidToken, "HS256"},
		{"no kid", sign(t, jwt.SigningMethodRS256, k.rsa, claims, ""), ErrInvalidToken, "kid"},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, k.rsa, claims, "nope"), ErrInvalidToken, `unknown kid "nope"`},
	}
	// Static keys must be ignored once JWKS is configured.
	cfg := TokenConfig{JWKSPublicEndpoint: srv.URL + "/jwks", HMACSecretKey: testSecret}
	v := newTestVerifier(t, cfg, Options{HTTPClient: jwksClient()})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.VerifyConnectToken(context.Background(), tc.token)
			checkOutcome(t, err, tc.wantErr)
			if err != nil && !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q does not mention %q", err, tc.cause)
			}
		})
	}
}

func TestJWKSRotationAndRateLimit(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSServer(t, jwkOf(t, "a", &k.rsa.PublicKey, "RS256"))
	clock := &fakeClock{now: testNow}
	v := newTestVerifier(t, TokenConfig{JWKSPublicEndpoint: srv.URL + "/jwks"}, Options{
		HTTPClient: jwksClient(), Now: clock.Now,
		JWKSCacheTTL: time.Hour, JWKSRefetchInterval: 10 * time.Second,
	})
	ctx := context.Background()
	verify := func(signer *rsa.PrivateKey, kid string) error {
		claims := jwt.MapClaims{"sub": "u", "exp": testNow.Add(48 * time.Hour).Unix()}
		_, err := v.VerifyConnectToken(ctx, sign(t, jwt.SigningMethodRS256, signer, claims, kid))
		return err
	}
	steps := []struct {
		name     string
		advance  time.Duration
		rotate   []map[string]any
		signer   *rsa.PrivateKey
		kid      string
		wantErr  error
		wantHits int
	}{
		{"first use fetches", 0, nil, k.rsa, "a", nil, 1},
		{"cached", 0, nil, k.rsa, "a", nil, 1},
		{"rotation right after a fetch waits for the interval", time.Second,
			[]map[string]any{jwkOf(t, "a", &k.rsa.PublicKey, ""), jwkOf(t, "b", &k.rsaOther.PublicKey, "")},
			k.rsaOther, "b", ErrInvalidToken, 1},
		{"unknown kid refetches", 10 * time.Second, nil, k.rsaOther, "b", nil, 2},
		{"unknown kid soon after is not refetched", time.Second, nil, k.rsa, "c", ErrInvalidToken, 2},
		{"still rate limited", 5 * time.Second, nil, k.rsa, "c", ErrInvalidToken, 2},
		{"after the interval it refetches", 10 * time.Second, nil, k.rsa, "c", ErrInvalidToken, 3},
		{"removed key stays trusted until TTL", 0, []map[string]any{jwkOf(t, "b", &k.rsaOther.PublicKey, "")}, k.rsa, "a", nil, 3},
		{"TTL expiry refetches and drops it", time.Hour, nil, k.rsa, "a", ErrInvalidToken, 4},
		{"new set serves the remaining key", 0, nil, k.rsaOther, "b", nil, 4},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		if st.rotate != nil {
			srv.setKeys(st.rotate...)
		}
		err := verify(st.signer, st.kid)
		if (st.wantErr == nil) != (err == nil) || (err != nil && !errors.Is(err, st.wantErr)) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
		}
		if got := srv.hitCount("/jwks"); got != st.wantHits {
			t.Fatalf("%s: %d fetches, want %d", st.name, got, st.wantHits)
		}
	}
}

func TestJWKSFailures(t *testing.T) {
	k := testKeys(t)
	token := sign(t, jwt.SigningMethodRS256, k.rsa, claimsFor("u"), "a")

	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/jwks"
	down.Close()

	failing := newJWKSServer(t)
	failing.setStatus(http.StatusInternalServerError)

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>"))
	}))
	t.Cleanup(garbage.Close)

	tests := []struct {
		name     string
		endpoint string
		cause    []string
	}{
		{"server down", downURL, []string{"fetch JWKS from " + downURL}},
		{"server error", failing.URL + "/jwks", []string{"fetch JWKS from " + failing.URL, "500"}},
		{"not JSON", garbage.URL + "/jwks", []string{"fetch JWKS from " + garbage.URL, "decode JWKS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(t, TokenConfig{JWKSPublicEndpoint: tc.endpoint}, Options{HTTPClient: jwksClient()})
			_, err := v.VerifyConnectToken(context.Background(), token)
			checkOutcome(t, err, ErrInvalidToken)
			for _, c := range tc.cause {
				if !strings.Contains(err.Error(), c) {
					t.Fatalf("error %q does not mention %q", err, c)
				}
			}
			// A second attempt within the refetch interval reports the
			// same cause without another fetch.
			_, err = v.VerifyConnectToken(context.Background(), token)
			if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), tc.cause[0]) {
				t.Fatalf("second attempt: %v", err)
			}
		})
	}
}

func TestJWKSServesStaleKeyWhenProviderFails(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSServer(t, jwkOf(t, "a", &k.rsa.PublicKey, ""))
	clock := &fakeClock{now: testNow}
	v := newTestVerifier(t, TokenConfig{JWKSPublicEndpoint: srv.URL + "/jwks"}, Options{
		HTTPClient: jwksClient(), Now: clock.Now, JWKSCacheTTL: time.Minute,
	})
	token := sign(t, jwt.SigningMethodRS256, k.rsa, with(claimsFor("u"), jwt.MapClaims{"exp": testNow.Add(24 * time.Hour).Unix()}), "a")
	if _, err := v.VerifyConnectToken(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	srv.setStatus(http.StatusServiceUnavailable)
	clock.Advance(2 * time.Minute)
	if _, err := v.VerifyConnectToken(context.Background(), token); err != nil {
		t.Fatalf("stale key not served during outage: %v", err)
	}
	if got := srv.hitCount("/jwks"); got != 2 {
		t.Fatalf("%d fetches, want 2 (initial + failed refresh)", got)
	}
}

func TestJWKSTemplatedEndpoint(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSServer(t, jwkOf(t, "a", &k.rsa.PublicKey, ""))
	cfg := TokenConfig{
		JWKSPublicEndpoint: srv.URL + "/{{tenant}}/{{ app }}/jwks",
		IssuerRegex:        `^https://(?P<tenant>[a-z]+)\.example\.com$`,
		AudienceRegex:      `^(?P<app>[a-z]+)-client$`,
	}
	v := newTestVerifier(t, cfg, Options{HTTPClient: jwksClient()})
	tests := []struct {
		name     string
		iss, aud string
		wantErr  error
		path     string
	}{
		{"acme", "https://acme.example.com", "chat-client", nil, "/acme/chat/jwks"},
		{"globex", "https://globex.example.com", "shop-client", nil, "/globex/shop/jwks"},
		{"issuer outside the regex never fetches", "https://evil.com", "chat-client", ErrInvalidToken, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims := with(claimsFor("u"), jwt.MapClaims{"iss": tc.iss, "aud": tc.aud})
			_, err := v.VerifyConnectToken(context.Background(), sign(t, jwt.SigningMethodRS256, k.rsa, claims, "a"))
			checkOutcome(t, err, tc.wantErr)
			if tc.path != "" && srv.hitCount(tc.path) != 1 {
				t.Fatalf("path %s fetched %d times, want 1", tc.path, srv.hitCount(tc.path))
			}
		})
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.hits) != 2 {
		t.Fatalf("fetched paths %v, want exactly the two tenants", srv.hits)
	}
}

func TestJWKSConcurrentColdStartFetchesOnce(t *testing.T) {
	k := testKeys(t)
	srv := newJWKSServer(t, jwkOf(t, "a", &k.rsa.PublicKey, ""))
	v := newTestVerifier(t, TokenConfig{JWKSPublicEndpoint: srv.URL + "/jwks"}, Options{HTTPClient: jwksClient()})
	token := sign(t, jwt.SigningMethodRS256, k.rsa, claimsFor("u"), "a")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.VerifyConnectToken(context.Background(), token)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.hitCount("/jwks"); got != 1 {
		t.Fatalf("%d fetches, want 1", got)
	}
}

func TestJWKSHonoursContext(t *testing.T) {
	k := testKeys(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	v := newTestVerifier(t, TokenConfig{JWKSPublicEndpoint: srv.URL}, Options{HTTPClient: jwksClient()})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := v.VerifyConnectToken(ctx, sign(t, jwt.SigningMethodRS256, k.rsa, claimsFor("u"), "a"))
	checkOutcome(t, err, ErrInvalidToken)
	if time.Since(start) > 3*time.Second {
		t.Fatalf("verification ignored the context deadline (%s)", time.Since(start))
	}
}

func TestParseJWKS(t *testing.T) {
	k := testKeys(t)
	good := jwkOf(t, "good", &k.p256.PublicKey, "")
	enc := jwkOf(t, "enc", &k.rsa.PublicKey, "")
	enc["use"] = "enc"
	noKid := jwkOf(t, "", &k.rsa.PublicKey, "")
	badPoint := jwkOf(t, "badpoint", &k.p256.PublicKey, "")
	badPoint["y"] = badPoint["x"]
	shortX := jwkOf(t, "short", &k.p256.PublicKey, "")
	shortX["x"] = "AQ"
	badE := jwkOf(t, "bade", &k.rsa.PublicKey, "")
	badE["e"] = "AA"
	x448 := map[string]any{"kty": "OKP", "crv": "X448", "kid": "x448", "x": "AA"}
	oct := map[string]any{"kty": "oct", "kid": "oct", "k": "c2VjcmV0"}
	dup := jwkOf(t, "good", &k.rsa.PublicKey, "")

	body, err := json.Marshal(map[string]any{"keys": []any{good, enc, noKid, badPoint, shortX, badE, x448, oct, dup, "junk"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("kept %d keys, want only the good one: %v", len(keys), keys)
	}
	if _, ok := keys["good"].key.(*ecdsa.PublicKey); !ok {
		t.Fatalf("first key with a kid must win, got %T", keys["good"].key)
	}
	for _, doc := range []string{`[]`, `{}`, `{"keys":5}`, ``} {
		if _, err := parseJWKS([]byte(doc)); err == nil {
			t.Fatalf("parseJWKS(%q) accepted a malformed document", doc)
		}
	}
}
