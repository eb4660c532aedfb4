package proxy

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/internal/clientheaders"
)

// httpHeaders builds the header set of an HTTP proxy request in
// Centrifugo's order: static headers, then allow-listed client headers
// (overriding static ones), then allow-listed incoming gRPC metadata, then
// the forced Content-Type.
type httpHeaders struct {
	static   map[string]string // canonical name → value
	client   []allowedName     // from HTTPHeaders
	incoming []allowedName     // from GRPCMetadata
}

func newHTTPHeaders(static map[string]string, client, incoming []string) (*httpHeaders, []string) {
	h := &httpHeaders{static: make(map[string]string, len(static))}
	var dropped []string
	for k, v := range static {
		if !isToken(k) || !headerValueOK(v) {
			dropped = append(dropped, k)
			continue
		}
		h.static[textproto.CanonicalMIMEHeaderKey(k)] = v
	}
	var d []string
	h.client, d = allowList(client, isToken)
	dropped = append(dropped, d...)
	h.incoming, d = allowList(incoming, mdKeyOK)
	dropped = append(dropped, d...)
	return h, dropped
}

func (h *httpHeaders) build(ctx context.Context) http.Header {
	out := make(http.Header, len(h.static)+len(h.client)+len(h.incoming)+1)
	for k, v := range h.static {
		out[k] = []string{v}
	}
	if len(h.client) > 0 {
		if ch := clientheaders.From(ctx); ch != nil {
			for _, a := range h.client {
				if vs := ch[a.canonical]; len(vs) > 0 {
					out[a.canonical] = append([]string(nil), vs...)
				}
			}
		}
	}
	for _, a := range h.incoming {
		var vs []string
		for _, v := range metadata.ValueFromIncomingContext(ctx, a.lower) {
			if headerValueOK(v) {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			out[a.canonical] = vs
		}
	}
	out["Content-Type"] = []string{"application/json"}
	return out
}

// isToken reports whether s is a valid HTTP header name; Go's client
// refuses a request with an invalid one, which would fail every call.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headerValueOK reports whether v is a valid HTTP header value (binary
// gRPC metadata may not be), for the same reason as isToken.
func headerValueOK(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
