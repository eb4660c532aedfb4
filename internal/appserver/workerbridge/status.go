package workerbridge

import (
	"fmt"
	"net/http"
)

// StatusHandler serves RoadRunner's status endpoints from the monitor, so
// orchestrator probes written for RoadRunner keep working:
//
//	GET /health  200 if some worker is ready or working, else unavailable
//	GET /ready   200 if some worker is ready now, else unavailable
//
// Both accept RoadRunner's ?plugin=centrifuge (any other plugin name is
// 404). unavailable is the failure status (RoadRunner's
// status.unavailable_status_code; 0 means 503).
func (m *Monitor) StatusHandler(unavailable int) http.Handler {
	if unavailable == 0 {
		unavailable = http.StatusServiceUnavailable
	}
	mux := http.NewServeMux()
	probe := func(ok func() bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for _, p := range r.URL.Query()["plugin"] {
				if p != "centrifuge" {
					http.Error(w, fmt.Sprintf("plugin %q is not served here (only centrifuge)", p), http.StatusNotFound)
					return
				}
			}
			code := http.StatusOK
			if !ok() {
				code = unavailable
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(code)
			_, _ = fmt.Fprintf(w, "plugin: centrifuge, status: %d\n", code)
		}
	}
	mux.HandleFunc("GET /health", probe(m.Health))
	mux.HandleFunc("GET /ready", probe(m.Ready))
	return mux
}
