package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	defaultJWKSCacheTTL        = time.Hour
	defaultJWKSRefetchInterval = 10 * time.Second
	jwksFetchTimeout           = 10 * time.Second
	jwksMaxBody                = 1 << 20
	// jwksMaxEndpoints bounds the cache when the URL is templated from
	// token claims, so many distinct issuers cannot grow it without limit.
	jwksMaxEndpoints = 256
)

// jwksCache holds the keys of each JWKS endpoint, refreshed after a TTL and
// on unknown kids (key rotation), with refetches rate-limited per endpoint.
type jwksCache struct {
	client     *http.Client
	ttl        time.Duration
	minRefetch time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

// jwksEntry is the cached state of one endpoint.
type jwksEntry struct {
	// fetching is a one-slot semaphore serialising fetches of this endpoint
	// while honouring callers' contexts.
	fetching chan struct{}

	mu          sync.RWMutex
	keys        map[string]jwk
	fetchedAt   time.Time // zero until the first successful fetch
	lastAttempt time.Time
	lastErr     error
}

func newJWKSCache(client *http.Client, ttl, minRefetch time.Duration, now func() time.Time) *jwksCache {
	if client == nil {
		client = &http.Client{Timeout: jwksFetchTimeout}
	}
	if ttl <= 0 {
		ttl = defaultJWKSCacheTTL
	}
	if minRefetch <= 0 {
		minRefetch = defaultJWKSRefetchInterval
	}
	return &jwksCache{client: client, ttl: ttl, minRefetch: minRefetch, now: now, entries: map[string]*jwksEntry{}}
}

// entry returns the state of endpoint, creating it (and evicting another
// one if the cache is full).
func (c *jwksCache) entry(endpoint string) *jwksEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[endpoint]
	if !ok {
		if len(c.entries) >= jwksMaxEndpoints {
			for k := range c.entries {
				delete(c.entries, k)
				break
			}
		}
		e = &jwksEntry{fetching: make(chan struct{}, 1)}
		c.entries[endpoint] = e
	}
	return e
}

// lookup reads the cached key for kid and whether the set is still fresh.
func (e *jwksEntry) lookup(kid string, now time.Time, ttl time.Duration) (k jwk, found, fresh bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	k, found = e.keys[kid]
	fresh = !e.fetchedAt.IsZero() && now.Sub(e.fetchedAt) < ttl
	return k, found, fresh
}

// key returns the verification key for kid at endpoint, checked against
// the token's alg.
func (c *jwksCache) key(ctx context.Context, endpoint, kid, alg string) (any, error) {
	k, err := c.find(ctx, endpoint, kid)
	if err != nil {
		return nil, err
	}
	if err := k.usableFor(alg); err != nil {
		return nil, fmt.Errorf("JWKS key %q from %s: %w", kid, endpoint, err)
	}
	return k.key, nil
}

// find serves kid from the cache when fresh, and otherwise refetches unless
// the endpoint was tried within minRefetch. A known key whose set went
// stale is still served when refetching fails, so an identity-provider
// outage does not lock every user out.
func (c *jwksCache) find(ctx context.Context, endpoint, kid string) (jwk, error) {
	e := c.entry(endpoint)
	if k, found, fresh := e.lookup(kid, c.now(), c.ttl); found && fresh {
		return k, nil
	}
	select {
	case e.fetching <- struct{}{}:
	case <-ctx.Done():
		return jwk{}, fmt.Errorf("wait for JWKS fetch from %s: %w", endpoint, ctx.Err())
	}
	defer func() { <-e.fetching }()

	now := c.now()
	k, found, fresh := e.lookup(kid, now, c.ttl)
	if found && fresh {
		return k, nil // another caller refreshed the set meanwhile
	}
	e.mu.RLock()
	lastAttempt, lastErr, nkeys := e.lastAttempt, e.lastErr, len(e.keys)
	e.mu.RUnlock()
	if !lastAttempt.IsZero() && now.Sub(lastAttempt) < c.minRefetch {
		switch {
		case found:
			return k, nil
		case lastErr != nil:
			return jwk{}, fmt.Errorf("unknown kid %q: last JWKS fetch failed: %w", kid, lastErr)
		default:
			return jwk{}, fmt.Errorf("unknown kid %q: not among %d keys from %s", kid, nkeys, endpoint)
		}
	}

	keys, err := c.fetch(ctx, endpoint)
	if err != nil && ctx.Err() != nil {
		// The caller gave up; don't let that rate-limit everyone else.
		return jwk{}, err
	}
	e.mu.Lock()
	e.lastAttempt, e.lastErr = now, err
	if err == nil {
		e.keys, e.fetchedAt = keys, now
	}
	e.mu.Unlock()
	if err != nil {
		if found {
			return k, nil
		}
		return jwk{}, err
	}
	k, found = keys[kid]
	if !found {
		return jwk{}, fmt.Errorf("unknown kid %q: not among %d keys from %s", kid, len(keys), endpoint)
	}
	return k, nil
}

// fetch downloads and parses one JWKS document; errors name the endpoint
// so operators can tell a provider outage from a bad token.
func (c *jwksCache) fetch(ctx context.Context, endpoint string) (map[string]jwk, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS from %s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS from %s: %w", endpoint, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS from %s: unexpected status %s", endpoint, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS from %s: read body: %w", endpoint, err)
	}
	if len(body) > jwksMaxBody {
		return nil, fmt.Errorf("fetch JWKS from %s: %w", endpoint, errors.New("document larger than 1 MiB"))
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS from %s: %w", endpoint, err)
	}
	return keys, nil
}
