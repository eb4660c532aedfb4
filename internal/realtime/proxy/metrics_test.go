package proxy

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// series returns the gathered series of metric name with exactly labels,
// nil when absent.
func series(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsAre(m, labels) {
				return m
			}
		}
	}
	return nil
}

func labelsAre(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, l := range m.GetLabel() {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	if NewMetrics(reg) == nil { // second registration reuses, no panic
		t.Fatal("nil metrics")
	}
	grpcAddr, _ := startGRPC(t, &fakeApp{})
	slow := endpoints(t, &fakeApp{delay: 2 * time.Second})
	set := NewSet(Options{Metrics: m})
	defer set.Close()
	get := func(cfg *Config) *Client {
		b, err := set.Get(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ctx := context.Background()
	ok := get(&Config{Endpoint: grpcAddr})
	for range 3 {
		if _, err := ok.RPC(ctx, &proxypb.RPCRequest{Method: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(&Config{Endpoint: slow["http"], Timeout: 50 * time.Millisecond}).Publish(ctx, &proxypb.PublishRequest{}); err == nil {
		t.Fatal("want timeout")
	}
	if _, err := get(&Config{Endpoint: "http://" + closedPort(t)}).SubRefresh(ctx, &proxypb.SubRefreshRequest{}); err == nil {
		t.Fatal("want error")
	}

	checks := []struct {
		event, protocol, outcome string
		want                     uint64
	}{
		{"rpc", "grpc", "ok", 3},
		{"rpc", "grpc", "error", 0},
		{"publish", "http", "timeout", 1},
		{"sub_refresh", "http", "error", 1},
		{"connect", "grpc", "ok", 0},
	}
	for _, c := range checks {
		m := series(t, reg, "spindle_proxy_duration_seconds", map[string]string{"event": c.event, "protocol": c.protocol, "outcome": c.outcome})
		if got := m.GetHistogram().GetSampleCount(); got != c.want {
			t.Errorf("duration{%s,%s,%s} count = %d, want %d", c.event, c.protocol, c.outcome, got, c.want)
		}
	}
	for _, c := range []struct {
		event, protocol string
		want            float64
	}{{"rpc", "grpc", 0}, {"publish", "http", 1}, {"sub_refresh", "http", 1}} {
		m := series(t, reg, "spindle_proxy_errors_total", map[string]string{"event": c.event, "protocol": c.protocol})
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("errors{%s,%s} = %v, want %v", c.event, c.protocol, got, c.want)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	cm := m.forProtocol("grpc")
	cm.observe(evConnect, outcomeError, 1) // must not panic
	if NewMetrics(nil) == nil {
		t.Fatal("NewMetrics(nil) = nil")
	}
}
