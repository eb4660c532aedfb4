package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/internal/tlsconf"
)

// maxResponseBody bounds how much of a backend answer is read, so a
// misbehaving backend cannot exhaust the server's memory.
const maxResponseBody = 32 << 20

// errBodyTooLarge reports an answer over maxResponseBody.
var errBodyTooLarge = errors.New("response body exceeds 32 MiB")

// httpTransport POSTs JSON requests to one URL.
type httpTransport struct {
	url        string
	client     *http.Client
	headers    *httpHeaders
	transforms statusTransforms
	owned      *http.Transport // idle connections closed by close(); nil when shared
}

// newHTTPRoundTripper is the connection pool for HTTP proxies with cfg's
// TLS settings. The default keeps only 2 idle connections per host, which
// under load makes most proxy calls open a fresh connection.
func newHTTPRoundTripper(cfg *Config) (*http.Transport, error) {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	if cfg.HTTPTLS != nil {
		tc, err := tlsconf.Client(*cfg.HTTPTLS)
		if err != nil {
			return nil, fmt.Errorf("error make TLS config (for proxy_http:%s): %w", cfg.Name, err)
		}
		t.TLSClientConfig = tc
	}
	return t, nil
}

// refuseRedirect stops the client at a redirect: a proxy answer decides who
// a user is, so it must come from the configured endpoint, never from
// wherever a compromised or misconfigured backend points.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newHTTPTransport(cfg *Config, rt *http.Transport, owned bool) (*httpTransport, []string) {
	headers, dropped := newHTTPHeaders(cfg.StaticHTTPHeaders, cfg.HTTPHeaders, cfg.GRPCMetadata)
	h := &httpTransport{
		url:        cfg.Endpoint,
		client:     &http.Client{Transport: rt, CheckRedirect: refuseRedirect},
		headers:    headers,
		transforms: newStatusTransforms(cfg.StatusCodeTransforms),
	}
	if owned {
		h.owned = rt
	}
	return h, dropped
}

func (h *httpTransport) invoke(ctx context.Context, _ event, req, resp proto.Message) error {
	body, err := pbjson.Marshal(req, pbjson.ProxyUser())
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	hreq.Header = h.headers.build(ctx)
	hresp, err := h.client.Do(hreq)
	if err != nil {
		return err
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(hresp.Body, 64<<10))
		if h.transforms.apply(hresp.StatusCode, resp) {
			return nil
		}
		if loc := hresp.Header.Get("Location"); loc != "" && hresp.StatusCode >= 300 && hresp.StatusCode < 400 {
			return fmt.Errorf("unexpected HTTP status %s redirecting to %q: proxy calls never follow redirects (point the endpoint at the final URL)", hresp.Status, loc)
		}
		return fmt.Errorf("unexpected HTTP status %s", hresp.Status)
	}
	data, err := readBody(hresp)
	if err != nil {
		return err
	}
	if err := pbjson.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

func (h *httpTransport) close() error {
	if h.owned != nil {
		h.owned.CloseIdleConnections()
	}
	return nil
}

// readBody reads the whole answer, up to maxResponseBody.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 {
		if n > maxResponseBody {
			return nil, errBodyTooLarge
		}
		// net/http ends the body after exactly ContentLength bytes.
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		return buf, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponseBody {
		return nil, errBodyTooLarge
	}
	return data, nil
}
