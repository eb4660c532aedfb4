package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func sec(n int) []RateBucket { return []RateBucket{{Interval: time.Second, Rate: n}} }

// TestCommandRateLimitKeys: what each spelling of the PRO keys turns into.
func TestCommandRateLimitKeys(t *testing.T) {
	const ns = `"namespaces": [{"name": "chat"}],`
	tests := []struct {
		name    string
		content string
		env     []string
		want    CommandRateLimit
		warn    string // a warning that must be given ("" = none)
	}{
		{name: "off by default", content: `{}`, want: CommandRateLimit{}},
		{
			name: "v6 nested, as in the PRO docs",
			content: `{` + ns + `"client": {"rate_limit": {"client_command": {
				"enabled": true,
				"total": {"enabled": true, "buckets": [{"interval": "1s", "rate": 20}, {"interval": "60s", "rate": 50}]},
				"default": {"enabled": true, "buckets": [{"interval": "1s", "rate": 60}]},
				"publish": {"enabled": true, "buckets": [{"interval": "1s", "rate": 1}],
					"namespace_overrides": [{"namespace_name": "chat", "enabled": true, "buckets": [{"interval": "1s", "rate": 20}]}]},
				"rpc": {"enabled": true, "buckets": [{"interval": "1s", "rate": 10}],
					"method_overrides": [{"method": "update_user_status", "enabled": true, "buckets": [{"interval": "20s", "rate": 1}]},
						{"method": "uses_default", "enabled": true}]}}}}}`,
			want: CommandRateLimit{Enabled: true,
				Total:   []RateBucket{{Interval: time.Second, Rate: 20}, {Interval: time.Minute, Rate: 50}},
				Default: sec(60),
				Commands: map[string]CommandBuckets{
					"publish": {Buckets: sec(1), Overrides: map[string][]RateBucket{"chat": sec(20)}},
					"rpc": {Buckets: sec(10), Overrides: map[string][]RateBucket{
						"update_user_status": {{Interval: 20 * time.Second, Rate: 1}}, "uses_default": nil}},
				}},
		},
		{
			name: "v5 PRO spelling, with the older method_override map",
			content: `{"client_command_rate_limit": {"enabled": true, "publish": {"buckets": [{"interval": "1s", "rate": 2}]},
				"rpc": {"method_override": {"m": {"buckets": [{"interval": "2s", "rate": 3}]}}}}}`,
			want: CommandRateLimit{Enabled: true, Commands: map[string]CommandBuckets{
				"publish": {Buckets: sec(2)},
				"rpc":     {Overrides: map[string][]RateBucket{"m": {{Interval: 2 * time.Second, Rate: 3}}}},
			}},
		},
		{
			name: "environment",
			env: []string{"CENTRIFUGO_CLIENT_RATE_LIMIT_CLIENT_COMMAND_ENABLED=true", "CENTRIFUGO_CLIENT_RATE_LIMIT_CLIENT_COMMAND_DRY_RUN=true",
				"CENTRIFUGO_CLIENT_RATE_LIMIT_CLIENT_COMMAND_DISCONNECT_AFTER_REFUSALS=5",
				`CENTRIFUGO_CLIENT_RATE_LIMIT_CLIENT_COMMAND_DEFAULT_BUCKETS=[{"interval":"1s","rate":7}]`},
			want: CommandRateLimit{Enabled: true, DryRun: true, DisconnectAfterRefusals: 5, Default: sec(7)},
			warn: "dry_run is on",
		},
		{
			name:    "enabled false wins over buckets",
			content: `{"client": {"rate_limit": {"client_command": {"enabled": true, "default": {"buckets": [{"interval": "1s", "rate": 1}]}, "publish": {"enabled": false, "buckets": [{"interval": "1s", "rate": 1}]}}}}}`,
			want:    CommandRateLimit{Enabled: true, Default: sec(1)},
			warn:    "publish is disabled: its buckets are ignored",
		},
		{
			name:    "sections without the layer switch",
			content: `{"client": {"rate_limit": {"client_command": {"default": {"enabled": true, "buckets": [{"interval": "1s", "rate": 1}]}}}}}`,
			want:    CommandRateLimit{Default: sec(1)},
			warn:    "client.rate_limit.client_command.enabled is false: no command is limited",
		},
		{
			name:    "the layer switch without buckets",
			content: `{"client": {"rate_limit": {"client_command": {"enabled": true}}}}`,
			want:    CommandRateLimit{Enabled: true},
			warn:    "no buckets are configured",
		},
		{
			name:    "PRO layers Spindle lacks are named",
			content: `{"client": {"rate_limit": {"user_command": {"enabled": true}, "client_command": {"enabled": true, "disconnect_on_accounted_limit": true, "total": {"buckets": [{"interval": "1s", "rate": 1}]}}}}}`,
			want:    CommandRateLimit{Enabled: true, Total: sec(1)},
			warn:    "client.rate_limit.user_command: not supported by Spindle",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: tt.env}
			if tt.content != "" {
				opts.File = writeConfig(t, "config.json", tt.content)
			}
			cfg, warns := mustLoad(t, opts)
			if !reflect.DeepEqual(cfg.CommandRateLimit, tt.want) {
				t.Errorf("got  %+v\nwant %+v", cfg.CommandRateLimit, tt.want)
			}
			if tt.warn != "" && !hasWarning(warns, tt.warn) {
				t.Errorf("no warning %q; got %v", tt.warn, warns)
			}
			if tt.warn == "" && hasWarning(warns, "rate_limit") {
				t.Errorf("unexpected warnings %v", warns)
			}
		})
	}
}

// TestCommandRateLimitErrors: a bad bucket or override fails with the key
// that holds it, as checkconfig prints it.
func TestCommandRateLimitErrors(t *testing.T) {
	const pre = `"namespaces": [{"name": "chat"}], "client": {"rate_limit": {"client_command": {"enabled": true, `
	const post = `}}}`
	tests := []struct {
		name, content, key, msg string
	}{
		{"zero rate", `"publish": {"buckets": [{"interval": "1s", "rate": 0}]}`,
			"client.rate_limit.client_command.publish.buckets[0].rate", "must be at least 1, got 0"},
		{"negative rate", `"total": {"buckets": [{"interval": "1s", "rate": -5}]}`,
			"client.rate_limit.client_command.total.buckets[0].rate", "must be at least 1"},
		{"rate as text", `"rpc": {"buckets": [{"interval": "1s", "rate": "many"}]}`,
			"client.rate_limit.client_command.rpc.buckets[0].rate", "must be a whole number"},
		{"interval too short", `"default": {"buckets": [{"interval": "100ms", "rate": 1}]}`,
			"client.rate_limit.client_command.default.buckets[0].interval", "must be between 1s and 1h0m0s, got 100ms"},
		{"interval too long", `"default": {"buckets": [{"interval": "2h", "rate": 1}]}`,
			"client.rate_limit.client_command.default.buckets[0].interval", "must be between 1s and 1h0m0s"},
		{"no rate", `"history": {"buckets": [{"interval": "1s"}]}`,
			"client.rate_limit.client_command.history.buckets[0]", "bucket has no rate"},
		{"unknown bucket key", `"history": {"buckets": [{"interval": "1s", "rate": 1, "capacity": 3}]}`,
			"client.rate_limit.client_command.history.buckets[0].capacity", `unknown key "capacity"`},
		{"unknown namespace", `"subscribe": {"namespace_overrides": [{"namespace_name": "chta", "buckets": [{"interval": "1s", "rate": 1}]}]}`,
			"client.rate_limit.client_command.subscribe.namespace_overrides[0]", `namespace_name "chta" is not a namespace defined in namespaces`},
		{"override without a name", `"subscribe": {"namespace_overrides": [{"enabled": true}]}`,
			"client.rate_limit.client_command.subscribe.namespace_overrides[0]", "override has no namespace_name"},
		{"both override forms", `"rpc": {"method_overrides": [{"method": "a", "enabled": true}], "method_override": {"b": {"enabled": true}}}`,
			"client.rate_limit.client_command.rpc.method_override", "method_override and method_overrides both set"},
		{"connect is not limited per connection", `"connect": {"buckets": [{"interval": "1s", "rate": 1}]}`,
			"client.rate_limit.client_command.connect", "connect is not rate limited per connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, "config.json", "{\n"+pre+tt.content+post+"\n}")
			errs := loadErrors(t, LoadOptions{File: p})
			for _, e := range errs {
				if strings.HasPrefix(e.Key, tt.key) && strings.Contains(e.Msg, tt.msg) {
					if e.Line != 2 {
						t.Fatalf("error %q at line %d, want 2", e.Msg, e.Line)
					}
					return
				}
			}
			t.Fatalf("no error for key %q containing %q; got:\n%v", tt.key, tt.msg, (&Errors{List: errs}).Error())
		})
	}
}
