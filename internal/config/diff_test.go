package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every field of Config a key fills is reported by Changes when it
// changes, so a reload never applies or ignores a key without saying so.
// Resolved proxy pointers are derived from the proxy keys and names,
// which are reported themselves.
func TestChangesCoversEveryField(t *testing.T) {
	derived := []string{"SubscribeProxy", "PublishProxy", "SubRefreshProxy", "SubscribeStreamProxy", "RemoveProxy"}
	// The TLS type is shared with client roles (Redis); no key fills its
	// client-side options on a listener (the HTTP server, the gRPC API).
	unkeyed := []string{"HTTP.TLS.ServerName", "HTTP.TLS.InsecureSkipVerify", "GRPCAPI.TLS.ServerName", "GRPCAPI.TLS.InsecureSkipVerify"}
	var leaves []string
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			// SharedPoll.Proxy is derived like the others, but its plain
			// name is also that of Config.Proxy.
			if slices.Contains(derived, f.Name) || prefix != "" && f.Name == "Proxy" && strings.HasSuffix(prefix, "SharedPoll.") {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+f.Name+".")
				continue
			}
			if !slices.Contains(unkeyed, prefix+f.Name) {
				leaves = append(leaves, prefix+f.Name)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	for _, path := range leaves {
		t.Run(path, func(t *testing.T) {
			old, changed := Default(), Default()
			v := reflect.ValueOf(changed).Elem()
			for _, name := range splitPath(path) {
				v = v.FieldByName(name)
			}
			mutate(t, v)
			if got := Changes(old, changed); len(got) == 0 {
				t.Fatalf("changing %s is not reported", path)
			}
			if got := Changes(old, Default()); len(got) != 0 {
				t.Fatalf("equal configs reported as changed: %v", got)
			}
		})
	}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := range len(p) {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// mutate sets v to a value different from the default.
func mutate(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 7)
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.String:
			v.Set(reflect.Append(v, reflect.ValueOf("x")))
		case reflect.Uint8:
			v.SetBytes(append(v.Bytes(), 'x'))
		case reflect.Struct:
			e := reflect.New(v.Type().Elem()).Elem()
			if n := e.FieldByName("Name"); n.IsValid() {
				n.SetString("added")
			}
			v.Set(reflect.Append(v, e))
		default:
			t.Fatalf("no mutation for %s", v.Type())
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), reflect.Zero(v.Type().Elem()))
		v.Set(m)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	default:
		t.Fatalf("no mutation for %s", v.Type())
	}
}

func TestChangesNamesKeys(t *testing.T) {
	base := func() *Config {
		c := Default()
		c.Channel.Namespaces = []Namespace{{Name: "chat"}, {Name: "gone"}}
		c.Proxy.Named = []Proxy{{Name: "auth", Endpoint: "grpc://127.0.0.1:1"}}
		return c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []Change
	}{
		{"nothing", func(*Config) {}, nil},
		{"flat key", func(c *Config) { c.Client.PingInterval = time.Minute }, []Change{{"ping_interval", "Client.PingInterval"}}},
		{"port", func(c *Config) { c.HTTP.Port = 9001 }, []Change{{"port", "HTTP.Port"}}},
		{"token secret, mirrored into subscription tokens", func(c *Config) { c.Token.HMACSecretKey, c.SubToken.HMACSecretKey = "new", "new" },
			[]Change{{"token_hmac_secret_key", "Token.HMACSecretKey"}}},
		{"separate subscription secret", func(c *Config) { c.SubToken.HMACSecretKey = "sub" }, []Change{{"subscription_token_hmac_secret_key", "SubToken"}}},
		{"namespace option, namespace added and removed", func(c *Config) {
			c.Channel.Namespaces = []Namespace{{Name: "chat", ChannelOptions: ChannelOptions{Presence: true}}, {Name: "new"}}
		}, []Change{{"namespaces[chat].presence", "Channel.Namespaces"}, {"namespaces[new]", "Channel.Namespaces"}, {"namespaces[gone]", "Channel.Namespaces"}}},
		{"named proxy endpoint", func(c *Config) { c.Proxy.Named[0].Endpoint = "grpc://127.0.0.1:2" }, []Change{{"proxies[auth]", "Proxy.Named"}}},
		{"event proxy", func(c *Config) { c.Proxy.Connect = &Proxy{Name: "connect", Endpoint: "http://127.0.0.1:1"} }, []Change{{"client.proxy.connect", "Proxy"}}},
		{"certificate file rewritten", func(c *Config) { c.HTTP.TLS.Cert = []byte("other") }, []Change{{"tls_cert", "HTTP.TLS.CertFile"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(c)
			if got := Changes(base(), c); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
