package auth

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Options are the verifier settings that are not part of the token config:
// process-wide switches and test seams.
type Options struct {
	// SkipSignature disables signature checks (client_insecure_skip_token_
	// signature_verify) for local development; claims are still checked.
	SkipSignature bool
	// HTTPClient fetches JWKS documents; nil uses a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// JWKSCacheTTL is how long fetched JWKS keys are trusted before a
	// refetch; 0 means one hour.
	JWKSCacheTTL time.Duration
	// JWKSRefetchInterval is the minimum time between two fetches of one
	// JWKS endpoint caused by unknown kids or failed fetches, so that forged
	// tokens cannot make us hammer the identity provider; 0 means 10 s.
	JWKSRefetchInterval time.Duration
	// Now replaces the clock in tests; nil means time.Now.
	Now func() time.Time
}

// Verifier checks connection and subscription tokens against one token
// configuration. It is safe for concurrent use.
type Verifier struct {
	parser      *jwt.Parser
	skipSig     bool
	now         func() time.Time
	keys        map[string]any // alg → static verification key
	jwks        *jwksCache     // nil unless a JWKS endpoint is configured
	jwksURL     *urlTemplate
	audience    string
	audienceRe  *regexp.Regexp
	issuer      string
	issuerRe    *regexp.Regexp
	userIDClaim string
}

var userIDClaimRe = regexp.MustCompile(`^[a-zA-Z_]+$`)

// Algorithms accepted with a JWKS endpoint; the key's type picks among them.
var jwksAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"}

// NewVerifier validates cfg (keys parse, regexes compile, exact and regex
// variants are not both set) so that configuration mistakes surface at
// start-up rather than as rejected clients.
func NewVerifier(cfg TokenConfig, opts Options) (*Verifier, error) {
	v := &Verifier{
		skipSig:     opts.SkipSignature,
		now:         opts.Now,
		keys:        map[string]any{},
		audience:    cfg.Audience,
		issuer:      cfg.Issuer,
		userIDClaim: cfg.UserIDClaim,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if err := v.setMatchers(cfg); err != nil {
		return nil, err
	}
	if cfg.JWKSPublicEndpoint != "" {
		// JWKS replaces the static keys, as in Centrifugo.
		tmpl, err := parseURLTemplate(cfg.JWKSPublicEndpoint, v.issuerRe, v.audienceRe)
		if err != nil {
			return nil, fmt.Errorf("token jwks_public_endpoint: %w", err)
		}
		v.jwksURL = tmpl
		v.jwks = newJWKSCache(opts.HTTPClient, opts.JWKSCacheTTL, opts.JWKSRefetchInterval, v.now)
		for _, alg := range jwksAlgs {
			v.keys[alg] = nil
		}
	} else if err := v.setStaticKeys(cfg); err != nil {
		return nil, err
	}
	methods := make([]string, 0, len(v.keys))
	for alg := range v.keys {
		methods = append(methods, alg)
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithoutClaimsValidation())
	return v, nil
}

// setMatchers compiles the audience/issuer regexes and checks the user id
// claim name.
func (v *Verifier) setMatchers(cfg TokenConfig) error {
	if cfg.Audience != "" && cfg.AudienceRegex != "" {
		return errors.New("token audience and audience_regex are mutually exclusive")
	}
	if cfg.Issuer != "" && cfg.IssuerRegex != "" {
		return errors.New("token issuer and issuer_regex are mutually exclusive")
	}
	if cfg.UserIDClaim != "" && !userIDClaimRe.MatchString(cfg.UserIDClaim) {
		return fmt.Errorf("token user_id_claim %q must match %s", cfg.UserIDClaim, userIDClaimRe)
	}
	var err error
	if cfg.AudienceRegex != "" {
		if v.audienceRe, err = regexp.Compile(cfg.AudienceRegex); err != nil {
			return fmt.Errorf("token audience_regex: %w", err)
		}
	}
	if cfg.IssuerRegex != "" {
		if v.issuerRe, err = regexp.Compile(cfg.IssuerRegex); err != nil {
			return fmt.Errorf("token issuer_regex: %w", err)
		}
	}
	return nil
}

// setStaticKeys parses the configured HMAC/RSA/ECDSA keys and records which
// algorithm each one may verify; any other algorithm stays rejected.
func (v *Verifier) setStaticKeys(cfg TokenConfig) error {
	if cfg.HMACSecretKey != "" {
		secret := []byte(cfg.HMACSecretKey)
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			v.keys[alg] = secret
		}
	}
	if cfg.RSAPublicKey != "" {
		key, err := jwt.ParseRSAPublicKeyFromPEM([]byte(cfg.RSAPublicKey))
		if err != nil {
			return fmt.Errorf("token rsa_public_key: %w", err)
		}
		for _, alg := range []string{"RS256", "RS384", "RS512"} {
			v.keys[alg] = key
		}
	}
	if cfg.ECDSAPublicKey != "" {
		key, err := jwt.ParseECPublicKeyFromPEM([]byte(cfg.ECDSAPublicKey))
		if err != nil {
			return fmt.Errorf("token ecdsa_public_key: %w", err)
		}
		alg := ecdsaAlg(key)
		if alg == "" {
			return fmt.Errorf("token ecdsa_public_key: unsupported curve %s", key.Params().Name)
		}
		// A key verifies only the algorithm of its own curve.
		v.keys[alg] = key
	}
	return nil
}

// ecdsaAlg names the JWS algorithm that goes with the key's curve.
func ecdsaAlg(key *ecdsa.PublicKey) string {
	switch key.Params().Name {
	case "P-256":
		return "ES256"
	case "P-384":
		return "ES384"
	case "P-521":
		return "ES512"
	}
	return ""
}

// verify parses token, checks its signature (unless disabled), audience,
// issuer and time claims, and returns the decoded claims.
func (v *Verifier) verify(ctx context.Context, token string) (*tokenClaims, error) {
	c := &tokenClaims{userIDClaim: v.userIDClaim}
	if v.skipSig {
		if _, _, err := v.parser.ParseUnverified(token, c); err != nil {
			return nil, invalid(err)
		}
		if _, err := v.checkAudienceIssuer(c); err != nil {
			return nil, invalid(err)
		}
	} else {
		if len(v.keys) == 0 {
			return nil, invalidf("no token verification key configured")
		}
		t, err := v.parser.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
			return v.keyFor(ctx, t, c)
		})
		if err != nil {
			if t != nil && t.Method != nil {
				if _, ok := v.keys[t.Method.Alg()]; !ok {
					return nil, invalidf("alg %s not allowed by the configured keys: %w", t.Method.Alg(), err)
				}
			}
			return nil, invalid(err)
		}
	}
	if !c.decoded {
		return nil, invalidf("token claims are not a JSON object")
	}
	if err := v.checkTime(c); err != nil {
		return nil, err
	}
	return c, nil
}

// keyFor picks the verification key for an already decoded token. Audience
// and issuer are checked first so that a JWKS URL templated from them is
// only ever built from accepted values.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token, c *tokenClaims) (any, error) {
	if !c.decoded {
		return nil, errors.New("token claims are not a JSON object")
	}
	vars, err := v.checkAudienceIssuer(c)
	if err != nil {
		return nil, err
	}
	alg := t.Method.Alg()
	if v.jwks == nil {
		key, ok := v.keys[alg]
		if !ok || key == nil {
			return nil, fmt.Errorf("no key configured for alg %s", alg)
		}
		return key, nil
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("token has no kid header to select a JWKS key")
	}
	endpoint, err := v.jwksURL.render(vars)
	if err != nil {
		return nil, err
	}
	return v.jwks.key(ctx, endpoint, kid, alg)
}

// checkAudienceIssuer applies the configured aud/iss rules and returns the
// named regex groups they matched (used to fill the JWKS URL).
func (v *Verifier) checkAudienceIssuer(c *tokenClaims) (map[string]string, error) {
	var vars map[string]string
	switch {
	case v.audience != "":
		if !containsString(c.Audience, v.audience) {
			return nil, fmt.Errorf("audience mismatch: token aud %q, want %q", []string(c.Audience), v.audience)
		}
	case v.audienceRe != nil:
		matched := false
		for _, aud := range c.Audience {
			if m := v.audienceRe.FindStringSubmatch(aud); m != nil {
				vars = addGroups(vars, v.audienceRe, m)
				matched = true
				break
			}
		}
		if !matched {
			return nil, fmt.Errorf("audience mismatch: token aud %q does not match %s", []string(c.Audience), v.audienceRe)
		}
	}
	switch {
	case v.issuer != "":
		if c.Issuer != v.issuer {
			return nil, fmt.Errorf("issuer mismatch: token iss %q, want %q", c.Issuer, v.issuer)
		}
	case v.issuerRe != nil:
		m := v.issuerRe.FindStringSubmatch(c.Issuer)
		if m == nil {
			return nil, fmt.Errorf("issuer mismatch: token iss %q does not match %s", c.Issuer, v.issuerRe)
		}
		vars = addGroups(vars, v.issuerRe, m)
	}
	return vars, nil
}

// checkTime validates exp and nbf without leeway; both failures are
// "expired" because that is what the protocol reports for either.
func (v *Verifier) checkTime(c *tokenClaims) error {
	now := v.now()
	if c.ExpiresAt != nil && !now.Before(c.ExpiresAt.Time) {
		return fmt.Errorf("%w: exp %d is not after now %d", ErrTokenExpired, c.ExpiresAt.Unix(), now.Unix())
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Time) {
		return fmt.Errorf("%w: nbf %d is after now %d", ErrTokenExpired, c.NotBefore.Unix(), now.Unix())
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addGroups records the named groups of a regex match into vars.
func addGroups(vars map[string]string, re *regexp.Regexp, match []string) map[string]string {
	for i, name := range re.SubexpNames() {
		if name == "" || i >= len(match) {
			continue
		}
		if vars == nil {
			vars = map[string]string{}
		}
		vars[name] = match[i]
	}
	return vars
}
