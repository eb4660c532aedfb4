package workerbridge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spindle-rt/spindle/internal/appserver/worker"
)

// statePool is a Pool with fixed workers and a scripted Exec.
type statePool struct {
	states   []worker.State
	err      error
	failures int
}

func (p *statePool) ConsecutiveFailures() int { return p.failures }

func (p *statePool) Exec(context.Context, worker.Payload) (worker.Payload, error) {
	return worker.Payload{}, p.err
}

func (p *statePool) Workers() []worker.WorkerInfo {
	out := make([]worker.WorkerInfo, len(p.states))
	for i, s := range p.states {
		out[i] = worker.WorkerInfo{PID: 100 + i, State: s, NumExecs: uint64(i), MemoryBytes: 1000}
	}
	return out
}

func TestWorkerStatus(t *testing.T) {
	cases := []struct {
		name           string
		states         []worker.State
		failures       int
		health, ready  int
		unavailable    int
		query          string
		wantQueryError bool
	}{
		{"ready", []worker.State{worker.StateReady}, 0, 200, 200, 0, "", false},
		{"all busy", []worker.State{worker.StateWorking, worker.StateWorking}, 0, 200, 503, 0, "", false},
		{"none", nil, 0, 503, 503, 0, "", false},
		{"starting and stopping", []worker.State{worker.StateInactive, worker.StateStopping}, 0, 503, 503, 0, "", false},
		{"custom code", nil, 0, 500, 500, 500, "", false},
		{"plugin param", []worker.State{worker.StateReady}, 0, 200, 200, 0, "?plugin=centrifuge", false},
		{"other plugin", []worker.State{worker.StateReady}, 0, 404, 404, 0, "?plugin=http", true},
		// A fresh worker is briefly idle between crashes: not ready for
		// traffic all the same (hardening defect 10).
		{"crash loop", []worker.State{worker.StateReady}, CrashLoopFailures, 200, 503, 0, "", false},
		{"a failure or two is not a loop", []worker.State{worker.StateReady}, CrashLoopFailures - 1, 200, 200, 0, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewMonitor(&statePool{states: tc.states, failures: tc.failures}).StatusHandler(tc.unavailable)
			for path, want := range map[string]int{"/health": tc.health, "/ready": tc.ready} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+tc.query, nil))
				if rec.Code != want {
					t.Errorf("%s: %d, want %d (%s)", path, rec.Code, want, rec.Body)
				}
				if !tc.wantQueryError && !strings.Contains(rec.Body.String(), fmt.Sprintf("status: %d", want)) {
					t.Errorf("%s body %q", path, rec.Body)
				}
			}
		})
	}
}

func TestWorkerMetrics(t *testing.T) {
	pool := &statePool{states: []worker.State{worker.StateReady, worker.StateWorking, worker.StateErrored}, failures: 4}
	m := NewMonitor(pool)
	for _, err := range []error{nil, nil, worker.ErrQueueFull, fmt.Errorf("x: %w", &worker.WorkerError{Message: "m"}), worker.ErrExecTimeout} {
		pool.err = err
		_, _ = m.Exec(context.Background(), worker.Payload{Body: []byte("x")})
	}
	got := gatherSamples(t, m)
	want := map[string]float64{
		"rr_centrifugo_workers_ready":                               1,
		"rr_centrifugo_workers_working":                             1,
		"rr_centrifugo_workers_invalid":                             1,
		"rr_centrifugo_total_workers":                               3,
		"rr_centrifugo_workers_memory_bytes":                        3000,
		`spindle_app_workers{state="errored"}`:                      1,
		`spindle_app_workers{state="inactive"}`:                     0,
		`spindle_app_workers{state="ready"}`:                        1,
		`spindle_app_workers{state="working"}`:                      1,
		`spindle_app_worker_memory_bytes{pid="101"}`:                1000,
		`spindle_app_worker_execs{pid="102"}`:                       2,
		`spindle_app_worker_requests_total{outcome="ok"}`:           2,
		`spindle_app_worker_requests_total{outcome="queue_full"}`:   1,
		`spindle_app_worker_requests_total{outcome="timeout"}`:      1,
		`spindle_app_worker_requests_total{outcome="worker_error"}`: 1,
		"spindle_app_worker_request_duration_seconds_count":         5,
		"spindle_app_worker_requests_in_flight":                     0,
		"spindle_app_worker_consecutive_failures":                   4,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// gatherSamples scrapes c through a pedantic registry (which also checks
// the descriptors) into "name{labels}" → value.
func gatherSamples(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
