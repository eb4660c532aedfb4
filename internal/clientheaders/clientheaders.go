// Package clientheaders carries a client's upgrade-request headers in a
// context from the hub to whatever answers its proxied events: the gRPC and
// HTTP proxy clients forward the allow-listed ones, and the application
// itself reads them when `spindle dev` calls it in-process. It is a leaf of
// its own so that neither wing has to import the other to share the key.
package clientheaders

import (
	"context"
	"net/http"
)

type key struct{}

// With attaches the client's upgrade-request headers to ctx for the
// connection's whole life. h is only read, never modified; readers look
// names up in canonical form (as net/http stores them), so hand-built maps
// should use http.Header.Set/Add.
func With(ctx context.Context, h http.Header) context.Context {
	if h == nil {
		return ctx
	}
	return context.WithValue(ctx, key{}, h)
}

// From returns the headers attached by With, or nil.
func From(ctx context.Context) http.Header {
	h, _ := ctx.Value(key{}).(http.Header)
	return h
}
