package app

import (
	"context"
	"net/http"

	"github.com/spindle-rt/spindle/internal/clientheaders"
)

func withHeaders(ctx context.Context, kv ...string) context.Context {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return clientheaders.With(ctx, h)
}
