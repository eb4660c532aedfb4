package node

import (
	"errors"
	"strings"
	"testing"
)

// TestProxyFailedNamesTheCallOnce: the proxy clients' errors already say
// "proxy rpc grpc://…"; the node must not say it again, but must say it for
// backends whose errors do not (the in-process app, a bad answer).
func TestProxyFailedNamesTheCallOnce(t *testing.T) {
	p := &Proxy{Name: "rpc", Endpoint: "grpc://127.0.0.1:10001"}
	c := &Client{}
	tests := []struct {
		name, cause, want string
	}{
		{"proxy client error", "proxy rpc grpc://127.0.0.1:10001: connection refused", "proxy rpc grpc://127.0.0.1:10001: connection refused"},
		{"in-process backend", "context deadline exceeded", "proxy rpc grpc://127.0.0.1:10001: context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.proxyFailed("rpc", p, errors.New(tc.cause))
			if err.Error() != tc.want {
				t.Fatalf("error = %q, want %q", err, tc.want)
			}
			if n := strings.Count(err.Error(), p.Endpoint); n != 1 {
				t.Fatalf("endpoint named %d times in %q", n, err)
			}
			if toClientError(err) != ErrorInternal {
				t.Fatalf("client sees %v, want the internal error", toClientError(err))
			}
		})
	}
}
