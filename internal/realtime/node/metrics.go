package node

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the node's Prometheus instruments. They are created per node
// (not globally) so tests can run several nodes in one process.
type Metrics struct {
	connectionsOpened     *prometheus.CounterVec
	disconnects           *prometheus.CounterVec
	subscriptions         prometheus.Gauge
	commandsIn            prometheus.Counter
	commandDuration       *prometheus.HistogramVec
	commandErrors         *prometheus.CounterVec
	framesOut             *prometheus.CounterVec
	messagesOut           *prometheus.CounterVec
	publications          prometheus.Counter
	publishErrors         prometheus.Counter
	publicationsDelivered prometheus.Counter
	recoveries            *prometheus.CounterVec
	commandsOverLimit     *prometheus.CounterVec
	emulationRequests     *prometheus.CounterVec
	sharedPollCalls       *prometheus.CounterVec
}

// NewMetrics creates the instruments and registers them with reg (nil:
// not registered anywhere).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	ns := "spindle"
	m := &Metrics{
		connectionsOpened: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "client", Name: "connections_opened_total", Help: "Connections accepted, by transport."}, []string{"transport"}),
		disconnects:       prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "client", Name: "disconnects_total", Help: "Connections closed, by disconnect code."}, []string{"code"}),
		subscriptions:     prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: "client", Name: "subscriptions", Help: "Current subscriptions on this node."}),
		commandsIn:        prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "client", Name: "commands_total", Help: "Commands received from clients."}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: "client", Name: "command_duration_seconds", Help: "Time to handle a client command, by method.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5}}, []string{"method"}),
		commandErrors:         prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "client", Name: "command_errors_total", Help: "Client commands answered with an error or disconnect, by method and code."}, []string{"method", "code"}),
		framesOut:             prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "transport", Name: "frames_sent_total", Help: "Writes to clients (a WebSocket message, a flushed HTTP-stream or SSE batch), by transport."}, []string{"transport"}),
		messagesOut:           prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "transport", Name: "messages_sent_total", Help: "Replies and pushes written (several may share a frame), by transport."}, []string{"transport"}),
		publications:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "node", Name: "publications_total", Help: "Publications accepted from clients and the API."}),
		publishErrors:         prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "node", Name: "publish_errors_total", Help: "Publications the engine refused."}),
		publicationsDelivered: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "node", Name: "publications_delivered_total", Help: "Publications handed to local subscribers."}),
		recoveries:            prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "client", Name: "recoveries_total", Help: "Recovery attempts on resubscribe, by outcome."}, []string{"recovered"}),
		commandsOverLimit: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "node", Name: "client_command_rate_limited_total",
			Help: "Client commands over their connection's rate limit, by method: refused with 111 (or 3013), except unsubscribe, which still runs, and with dry_run=\"true\", where nothing is refused."}, []string{"method", "dry_run"}),
		emulationRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "transport", Name: "emulation_requests_total",
			Help: "HTTP-streaming and SSE command posts, by where they went: local (a session on this node), forwarded (to the node holding it), unknown_session, unknown_node, failed."}, []string{"result"}),
		sharedPollCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "node", Name: "shared_poll_calls_total",
			Help: "Shared-poll backend calls (one per batch of a channel's tracked keys), by result: ok or failed."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.sharedPollCalls, m.emulationRequests, m.connectionsOpened, m.disconnects, m.subscriptions, m.commandsIn, m.commandDuration,
			m.commandErrors, m.framesOut, m.messagesOut, m.publications, m.publishErrors, m.publicationsDelivered, m.recoveries, m.commandsOverLimit)
	}
	return m
}

// RegisterGauges exposes live counts of n (connections, users, channels).
func (m *Metrics) RegisterGauges(reg prometheus.Registerer, n *Node) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "spindle", Subsystem: "node", Name: "connections", Help: "Current connections."}, func() float64 { return float64(n.NumClients()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "spindle", Subsystem: "node", Name: "users", Help: "Current distinct users."}, func() float64 { return float64(n.NumUsers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "spindle", Subsystem: "node", Name: "channels", Help: "Channels with subscribers on this node."}, func() float64 { return float64(n.NumChannels()) }),
	)
}

func codeLabel(code uint32) string { return strconv.FormatUint(uint64(code), 10) }

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
