package server

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// registerPprof mounts Go's profiling handlers (Centrifugo's debug.enabled)
// under prefix. Named profiles (heap, goroutine, allocs …) are served by
// name below the prefix, so a custom prefix works as well as the default
// /debug/pprof, which pprof.Index alone would not do.
func registerPprof(mux *http.ServeMux, prefix string) {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		prefix = "/debug/pprof"
	}
	mux.HandleFunc(prefix+"/cmdline", pprof.Cmdline)
	mux.HandleFunc(prefix+"/profile", pprof.Profile)
	mux.HandleFunc(prefix+"/symbol", pprof.Symbol)
	mux.HandleFunc(prefix+"/trace", pprof.Trace)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, prefix+"/")
		if name == "" {
			pprof.Index(w, r)
			return
		}
		pprof.Handler(name).ServeHTTP(w, r)
	})
}
