package appserver

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/testlog"
)

// TestPoolKeysNotSupportedSayWhy: pool keys the pool does not implement are
// named in a warning when set, and silent at their defaults.
func TestPoolKeysNotSupportedSayWhy(t *testing.T) {
	def := config.DefaultAppConfig().Centrifuge.Pool
	for _, tc := range []struct {
		name   string
		mutate func(*config.PoolConfig)
		want   string
	}{
		{"defaults", func(*config.PoolConfig) {}, ""},
		// stream_timeout and debug are config.LoadApp's warnings.
		{"dynamic_allocator", func(p *config.PoolConfig) { p.DynamicAllocator = &config.PoolDynamicAllocator{MaxWorkers: 2} }, "centrifuge.pool.dynamic_allocator is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := def
			tc.mutate(&pc)
			var logs testlog.Buffer
			poolConfig(pc, slog.New(slog.NewTextHandler(&logs, nil)))
			got := logs.String()
			if tc.want == "" && strings.Contains(got, "not supported") {
				t.Fatalf("defaults warned: %s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("log %q lacks %q", got, tc.want)
			}
		})
	}
}
