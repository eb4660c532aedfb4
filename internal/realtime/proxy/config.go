package proxy

import "time"

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
	GRPCTLS               bool
	GRPCCertFile          string
	GRPCCredentialsKey    string
	GRPCCredentialsValue  string
	GRPCCompression       bool
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
