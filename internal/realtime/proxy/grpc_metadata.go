package proxy

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/internal/clientheaders"
)

// grpcMetadata builds the outgoing metadata of a gRPC proxy call: the
// credentials pair, then the allow-listed client headers and incoming gRPC
// metadata, so the backend can authenticate the end user (cookies,
// Authorization) just as it would over HTTP.
type grpcMetadata struct {
	credKey   string
	credValue string
	headers   []allowedName // from HTTPHeaders, looked up in ClientHeaders
	incoming  []string      // from GRPCMetadata, looked up in incoming metadata
}

// outgoing returns ctx with the call's metadata appended to any outgoing
// metadata ctx already carries.
func (m *grpcMetadata) outgoing(ctx context.Context) context.Context {
	var kv []string
	if m.credKey != "" {
		kv = append(kv, m.credKey, m.credValue)
	}
	if len(m.headers) > 0 {
		if ch := clientheaders.From(ctx); ch != nil {
			for _, a := range m.headers {
				for _, v := range ch[a.canonical] {
					if mdValueOK(a.lower, v) {
						kv = append(kv, a.lower, v)
					}
				}
			}
		}
	}
	for _, k := range m.incoming {
		for _, v := range metadata.ValueFromIncomingContext(ctx, k) {
			if mdValueOK(k, v) {
				kv = append(kv, k, v)
			}
		}
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// mdKeyOK reports whether a lower-case name can be sent as metadata: gRPC
// refuses the whole call over a key outside [0-9a-z-_.] and silently drops
// or misreads its own reserved keys, so such names are filtered up front.
func mdKeyOK(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	switch k {
	case "content-type", "user-agent", "te":
		return false
	}
	return !strings.HasPrefix(k, "grpc-")
}

// mdValueOK reports whether v may be sent under key k: gRPC fails the whole
// call over a non-printable value in a text key, so one odd header value is
// dropped instead of costing the client its connect.
func mdValueOK(k, v string) bool {
	if strings.HasSuffix(k, "-bin") {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
