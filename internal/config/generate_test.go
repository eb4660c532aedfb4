package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGenerateLoads(t *testing.T) {
	for _, format := range []string{"json", "yaml", "yml", "toml"} {
		t.Run(format, func(t *testing.T) {
			data, err := Generate(format)
			if err != nil {
				t.Fatal(err)
			}
			cfg, warns := mustLoad(t, LoadOptions{File: writeConfig(t, "config."+format, string(data))})
			if len(cfg.Token.HMACSecretKey) != 64 || len(cfg.HTTPAPI.Key) != 48 {
				t.Fatalf("secrets: %q %q", cfg.Token.HMACSecretKey, cfg.HTTPAPI.Key)
			}
			if !reflect.DeepEqual(cfg.Client.AllowedOrigins, []string{"http://127.0.0.1:8000", "http://localhost:8000"}) {
				t.Fatalf("origins: %v", cfg.Client.AllowedOrigins)
			}
			// The origins name the address the server binds.
			if cfg.HTTP.Address != "127.0.0.1" || cfg.HTTP.Port != 8000 {
				t.Fatalf("binds %s:%d, origins are for 127.0.0.1:8000", cfg.HTTP.Address, cfg.HTTP.Port)
			}
			if len(warns) != 0 {
				t.Fatalf("a generated config should load cleanly, got %v", warns)
			}
			again, err := Generate(format)
			if err != nil || bytes.Equal(again, data) {
				t.Fatal("secrets must be random per call")
			}
		})
	}
	if _, err := Generate("ini"); err == nil || !strings.Contains(err.Error(), "unknown config format") {
		t.Fatalf("ini: %v", err)
	}
}

func TestKnownKeys(t *testing.T) {
	keys := KnownKeys()
	byName := map[string]KeyInfo{}
	for _, k := range keys {
		if k.Scope == "top" {
			byName[k.Name] = k
		}
	}
	for _, name := range []string{"proxy_connect_endpoint", "allowed_origins", "namespaces", "grpc_api_key", "history_ttl", "publish", "redis_address"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("KnownKeys lacks %q", name)
		}
	}
	if k := byName["allowed_origins"]; k.Env != "CENTRIFUGO_ALLOWED_ORIGINS" || k.Type != "[]string" || k.Nested[0] != "client.allowed_origins" {
		t.Errorf("allowed_origins: %+v", k)
	}
	if byName["publish"].Supported || !byName["ping_interval"].Supported {
		t.Error("Supported flag wrong")
	}
	doc := Describe()
	if !strings.Contains(doc, "| `proxy_connect_endpoint` | top | string |") || !strings.Contains(doc, "| `timeout` | proxies[] | duration | `1s` |") {
		t.Errorf("Describe output unexpected:\n%s", doc[:min(len(doc), 600)])
	}
}

// TestEnvNamesUnambiguous guards against two keys sharing one
// CENTRIFUGO_ variable (e.g. a v6 path colliding with a flat key).
func TestEnvNamesUnambiguous(t *testing.T) {
	owner := map[string]string{}
	for _, d := range reg.defs {
		for _, s := range d.spellings() {
			env := envName(s)
			if prev, ok := owner[env]; ok && prev != d.name {
				t.Errorf("CENTRIFUGO_%s maps to both %s and %s", env, prev, d.name)
			}
			owner[env] = d.name
		}
	}
	spelled := map[string]string{}
	for _, d := range reg.defs {
		for _, s := range d.spellings() {
			if prev, ok := spelled[s]; ok && prev != d.name {
				t.Errorf("spelling %q belongs to both %s and %s", s, prev, d.name)
			}
			spelled[s] = d.name
		}
	}
}

// TestDocumentedDefaults checks that the default each key documents is
// the value Default() actually holds.
func TestDocumentedDefaults(t *testing.T) {
	want := newState()
	for _, d := range reg.defs {
		if d.target == nil || d.pass2 {
			continue
		}
		ptr := d.target(want)
		got := reflect.ValueOf(ptr).Elem().Interface()
		probe := newState()
		fresh := reflect.New(reflect.TypeOf(got))
		def := d.def
		if def != "" {
			n, err := textNode(d.kind, def)
			if err != nil {
				t.Fatalf("%s: default %q: %v", d.name, def, err)
			}
			if !probe.assign(fresh.Interface(), n, loc{key: d.name}, rules{stringOrList: true}) {
				t.Fatalf("%s: default %q does not parse: %v", d.name, def, probe.errs)
			}
		}
		if zero := fresh.Elem().Interface(); !reflect.DeepEqual(zero, got) && !(isEmpty(zero) && isEmpty(got)) {
			t.Errorf("%s documents default %q but Default() has %v", d.name, def, got)
		}
	}
	if want.timeouts[evConnect] != time.Second {
		t.Error("proxy timeouts must default to 1s")
	}
}

func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	return (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0
}
