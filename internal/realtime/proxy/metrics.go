package proxy

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// outcome is the result class of one proxy call, a metric label.
type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeError
	outcomeTimeout
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	outcomeOK:      "ok",
	outcomeError:   "error",
	outcomeTimeout: "timeout",
}

// Metrics lets operators see how slow and how unreliable the application
// backend is, per event and protocol, since every proxied client command
// waits on it. One Metrics is shared by all backends; nil disables metrics.
type Metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics creates the proxy metrics and registers them with reg (nil:
// not registered, useful in tests). Registering twice with the same
// registry reuses the collectors already there, so several servers in one
// process (tests, `spindle dev`) do not clash; any other registration
// problem leaves the metrics working but unexported rather than failing
// start-up over observability.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spindle_proxy_duration_seconds",
			Help:    "Duration of calls to the application backend (proxy), by event, protocol and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"event", "protocol", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spindle_proxy_errors_total",
			Help: "Proxy calls that failed at the transport level (unreachable, timeout, bad answer), by event and protocol.",
		}, []string{"event", "protocol"}),
	}
	if reg == nil {
		return m
	}
	if c, ok := register(reg, m.duration).(*prometheus.HistogramVec); ok {
		m.duration = c
	}
	if c, ok := register(reg, m.errors).(*prometheus.CounterVec); ok {
		m.errors = c
	}
	return m
}

// register registers c and returns the collector to use: c itself, or the
// equivalent one registered earlier.
func register(reg prometheus.Registerer, c prometheus.Collector) prometheus.Collector {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return are.ExistingCollector
	}
	return c
}

// callMetrics holds the label children for one protocol, resolved once so
// that a call only observes, without hashing label values.
type callMetrics struct {
	duration [numEvents][numOutcomes]prometheus.Observer
	errors   [numEvents]prometheus.Counter
}

// forProtocol resolves the children for protocol ("grpc" or "http"); nil
// when m is nil.
func (m *Metrics) forProtocol(protocol string) *callMetrics {
	if m == nil {
		return nil
	}
	cm := &callMetrics{}
	for ev := range numEvents {
		for oc := range numOutcomes {
			cm.duration[ev][oc] = m.duration.WithLabelValues(eventNames[ev], protocol, outcomeNames[oc])
		}
		cm.errors[ev] = m.errors.WithLabelValues(eventNames[ev], protocol)
	}
	return cm
}

// observe records one call.
func (cm *callMetrics) observe(ev event, oc outcome, seconds float64) {
	if cm == nil {
		return
	}
	cm.duration[ev][oc].Observe(seconds)
	if oc != outcomeOK {
		cm.errors[ev].Inc()
	}
}
