package workerbridge

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spindle-rt/spindle/internal/appserver/worker"
)

// Pool is what the monitor needs: running requests and listing workers.
// *worker.Pool implements it.
type Pool interface {
	Executor
	Workers() []worker.WorkerInfo
}

// Monitor stands between the App and a worker pool to observe it: it is
// the Executor to give Use (counting and timing each request), a
// prometheus.Collector of the pool's state, and the source of the
// /health and /ready answers (see StatusHandler). Operators get the same
// picture RoadRunner's status and metrics plugins give.
type Monitor struct {
	pool     Pool
	inFlight atomic.Int64
	requests *prometheus.CounterVec
	duration prometheus.Histogram
}

// NewMonitor observes pool.
func NewMonitor(pool Pool) *Monitor {
	return &Monitor{
		pool: pool,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "spindle", Subsystem: "app", Name: "worker_requests_total",
			Help: "Requests handed to workers, by outcome (ok, worker_error, queue_full, no_free_workers, timeout, crashed, broken, destroyed, other).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "spindle", Subsystem: "app", Name: "worker_request_duration_seconds",
			Help:    "Time from handing a request to the pool until the reply, queue wait included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
}

// Exec passes the request to the pool, counting and timing it.
func (m *Monitor) Exec(ctx context.Context, p worker.Payload) (worker.Payload, error) {
	m.inFlight.Add(1)
	start := time.Now()
	out, err := m.pool.Exec(ctx, p)
	m.duration.Observe(time.Since(start).Seconds())
	m.inFlight.Add(-1)
	m.requests.WithLabelValues(outcome(err)).Inc()
	return out, err
}

// outcome classifies an Exec result for the requests counter.
func outcome(err error) string {
	var we *worker.WorkerError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &we):
		return "worker_error"
	case errors.Is(err, worker.ErrQueueFull):
		return "queue_full"
	case errors.Is(err, worker.ErrNoFreeWorkers):
		return "no_free_workers"
	case errors.Is(err, worker.ErrExecTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.Is(err, worker.ErrWorkerCrashed):
		return "crashed"
	case errors.Is(err, worker.ErrWorkerBroken):
		return "broken"
	case errors.Is(err, worker.ErrPoolDestroyed):
		return "destroyed"
	}
	return "other"
}

// workerStates are the states always exported (as 0 when empty), so
// dashboards see every series from the start.
var workerStates = []worker.State{worker.StateInactive, worker.StateReady, worker.StateWorking, worker.StateStopping}

var (
	descWorkers = prometheus.NewDesc("spindle_app_workers", "Live worker processes by state.", []string{"state"}, nil)
	descMemory  = prometheus.NewDesc("spindle_app_worker_memory_bytes", "Resident memory of each worker.", []string{"pid"}, nil)
	descExecs   = prometheus.NewDesc("spindle_app_worker_execs", "Requests served by each live worker.", []string{"pid"}, nil)
	descWaiting = prometheus.NewDesc("spindle_app_worker_requests_waiting",
		"Requests waiting for a free worker (in flight minus working workers).", nil, nil)
	descInFlight = prometheus.NewDesc("spindle_app_worker_requests_in_flight", "Requests handed to the pool and not yet answered.", nil, nil)
	// RoadRunner's centrifuge plugin names, so existing dashboards work.
	descRRTotal   = prometheus.NewDesc("rr_centrifugo_total_workers", "Total number of workers (RoadRunner-compatible).", nil, nil)
	descRRMemory  = prometheus.NewDesc("rr_centrifugo_workers_memory_bytes", "Memory usage by all workers (RoadRunner-compatible).", nil, nil)
	descRRReady   = prometheus.NewDesc("rr_centrifugo_workers_ready", "Workers currently ready (RoadRunner-compatible).", nil, nil)
	descRRWorking = prometheus.NewDesc("rr_centrifugo_workers_working", "Workers currently working (RoadRunner-compatible).", nil, nil)
	descRRInvalid = prometheus.NewDesc("rr_centrifugo_workers_invalid", "Workers neither ready nor working (RoadRunner-compatible).", nil, nil)
	descRRState   = prometheus.NewDesc("rr_centrifugo_worker_state", "Worker state as a label; value always 0 (RoadRunner-compatible).", []string{"state", "pid"}, nil)
	descRRWMemory = prometheus.NewDesc("rr_centrifugo_worker_memory_bytes", "Worker memory usage (RoadRunner-compatible).", []string{"pid"}, nil)
	descFailures  = prometheus.NewDesc("spindle_app_worker_consecutive_failures",
		"Worker spawns or fresh workers that failed in a row; above 0 the pool backs off, at CrashLoopFailures /ready says not ready.", nil, nil)
	monitorDescs = []*prometheus.Desc{descFailures, descWorkers, descMemory, descExecs, descWaiting, descInFlight, descRRTotal, descRRMemory, descRRReady, descRRWorking, descRRInvalid, descRRState, descRRWMemory}
)

var (
	_ prometheus.Collector = (*Monitor)(nil)
	_ Executor             = (*Monitor)(nil)
	_ Pool                 = (*worker.Pool)(nil) // the real pool is what Use and NewMonitor take
)

// gaugeOf builds a scrape-time gauge sample.
func gaugeOf(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Describe implements prometheus.Collector.
func (m *Monitor) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range monitorDescs {
		ch <- d
	}
	m.requests.Describe(ch)
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector; it reads the pool at scrape
// time.
func (m *Monitor) Collect(ch chan<- prometheus.Metric) {
	ws := m.pool.Workers()
	byState := map[worker.State]int{}
	var total uint64
	for _, w := range ws {
		byState[w.State]++
		total += w.MemoryBytes
		pid := strconv.Itoa(w.PID)
		ch <- gaugeOf(descMemory, float64(w.MemoryBytes), pid)
		ch <- gaugeOf(descExecs, float64(w.NumExecs), pid)
		ch <- gaugeOf(descRRWMemory, float64(w.MemoryBytes), pid)
		ch <- gaugeOf(descRRState, 0, w.State.String(), pid)
	}
	for _, s := range workerStates {
		if _, ok := byState[s]; !ok {
			byState[s] = 0
		}
	}
	for s, n := range byState {
		ch <- gaugeOf(descWorkers, float64(n), s.String())
	}
	inFlight := m.inFlight.Load()
	ch <- gaugeOf(descInFlight, float64(inFlight))
	ch <- gaugeOf(descWaiting, float64(max(0, inFlight-int64(byState[worker.StateWorking]))))
	ready, working := byState[worker.StateReady], byState[worker.StateWorking]
	ch <- gaugeOf(descRRTotal, float64(len(ws)))
	ch <- gaugeOf(descRRMemory, float64(total))
	ch <- gaugeOf(descRRReady, float64(ready))
	ch <- gaugeOf(descRRWorking, float64(working))
	ch <- gaugeOf(descRRInvalid, float64(len(ws)-ready-working))
	ch <- gaugeOf(descFailures, float64(m.failures()))
	m.requests.Collect(ch)
	m.duration.Collect(ch)
}

// CrashLoopFailures is how many failures in a row make the pool a crash
// loop: /ready then answers not ready even while a freshly spawned worker
// is briefly idle, so a load balancer stops sending traffic to an app whose
// workers die as they start.
const CrashLoopFailures = 3

// failures is the pool's consecutive failures, when it counts them.
func (m *Monitor) failures() int {
	if f, ok := m.pool.(interface{ ConsecutiveFailures() int }); ok {
		return f.ConsecutiveFailures()
	}
	return 0
}

// Health reports RoadRunner's /health rule: some worker is ready or
// working.
func (m *Monitor) Health() bool {
	for _, w := range m.pool.Workers() {
		if w.State == worker.StateReady || w.State == worker.StateWorking {
			return true
		}
	}
	return false
}

// Ready reports RoadRunner's /ready rule — some worker is ready to take a
// request now — unless the pool is crash-looping (CrashLoopFailures).
func (m *Monitor) Ready() bool {
	if m.failures() >= CrashLoopFailures {
		return false
	}
	for _, w := range m.pool.Workers() {
		if w.State == worker.StateReady {
			return true
		}
	}
	return false
}
