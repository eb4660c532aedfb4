package proxy

import (
	"time"

	"github.com/spindle-rt/spindle/internal/tlsconf"
)

// Config is one backend endpoint for proxied events. The wiring fills it from
// the server configuration (flat per-event keys, v6 keys or named proxies);
// this package never reads configuration itself.
type Config struct {
	// Name is the proxies[] name, or the event name ("connect",
	// "subscribe"…) for the flat per-event proxies; it appears in errors.
	Name     string
	Endpoint string // grpc://host:port, host:port, http(s)://...
	Timeout  time.Duration

	// HTTPHeaders are the client's upgrade-request headers forwarded to
	// the backend (as HTTP headers or gRPC metadata); StaticHTTPHeaders
	// are sent on every call; GRPCMetadata are the client's gRPC metadata
	// keys forwarded.
	HTTPHeaders       []string
	StaticHTTPHeaders map[string]string
	GRPCMetadata      []string
	// BinaryEncoding sends payloads base64-encoded (b64data) instead of as
	// raw JSON; IncludeConnectionMeta adds the connection's meta to
	// per-connection requests.
	BinaryEncoding        bool
	IncludeConnectionMeta bool
	// GRPCTLS, when set, dials a gRPC proxy over TLS with this material
	// (no CA: the system roots); nil dials plaintext, as Centrifugo does
	// without grpc.tls.enabled. HTTPTLS, when set, is the TLS of an
	// https:// endpoint with a private CA, a server name or a client
	// certificate; nil verifies against the system roots.
	GRPCTLS              *tlsconf.Settings
	HTTPTLS              *tlsconf.Settings
	GRPCCredentialsKey   string
	GRPCCredentialsValue string
	GRPCCompression      bool
	// StatusCodeTransforms turn HTTP statuses into client errors or
	// disconnects instead of the default internal error.
	StatusCodeTransforms []StatusCodeTransform
}

// StatusCodeTransform maps an HTTP proxy status to a client error or
// disconnect instead of the default internal error.
type StatusCodeTransform struct {
	StatusCode   int
	ToError      *TransformError
	ToDisconnect *TransformDisconnect
}

// TransformError is the client-protocol error a status becomes.
type TransformError struct {
	Code      uint32
	Message   string
	Temporary bool
}

// TransformDisconnect is the client-protocol disconnect a status becomes.
type TransformDisconnect struct {
	Code   uint32
	Reason string
}
