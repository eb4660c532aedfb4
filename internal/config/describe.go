package config

import (
	"sort"
	"strings"
)

// KeyInfo documents one configuration key. It feeds `spindle
// checkconfig`, the generated docs and the did-you-mean suggestions.
type KeyInfo struct {
	// Name is the flat v4/v5 key, or the v6 path for v6-only keys.
	Name string
	// Nested lists other accepted spellings: v6 paths and legacy names.
	Nested []string
	// Env is the environment variable that sets the key.
	Env string
	// Scope is "top" for top-level keys (channel options there apply to
	// channels without a namespace), or the list whose entries hold the
	// key: "namespaces[]", "rpc_namespaces[]", "proxies[]".
	Scope   string
	Type    string // string, bool, int, duration, []string, map[string]string, []object, any
	Default string
	Doc     string
	// Supported is false for Centrifugo keys that Spindle accepts but
	// ignores (with a warning when set).
	Supported bool
	// V6Only marks keys that exist only in the nested v6 layout.
	V6Only bool
}

// KnownKeys lists every key Load understands, top-level keys first in
// alphabetical order, then the keys of namespace, rpc namespace and
// proxy entries.
func KnownKeys() []KeyInfo {
	var top []KeyInfo
	for _, d := range reg.defs {
		top = append(top, KeyInfo{
			Name: d.name, Nested: append([]string(nil), d.aliases...), Env: envPrefix + envName(d.name),
			Scope: "top", Type: d.kind.typeName(), Default: d.def, Doc: d.doc,
			Supported: !d.unsupported, V6Only: d.v6only,
		})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].Name < top[j].Name })
	out := top
	out = append(out, KeyInfo{Name: "name", Scope: "namespaces[]", Type: "string", Doc: "namespace name, unique, ^[-a-zA-Z0-9_.]{2,}$", Supported: true})
	for _, o := range chanOpts {
		info := KeyInfo{Name: o.name, Scope: "namespaces[]", Type: kindAny.typeName(), Default: o.def, Doc: o.doc, Supported: !o.unsupported, V6Only: o.v6only}
		if o.target != nil {
			info.Type = kindOfTarget(o.target(&ChannelOptions{})).typeName()
		}
		if o.v6 != "" {
			info.Nested = []string{o.v6}
		}
		out = append(out, info)
	}
	out = append(out,
		KeyInfo{Name: "name", Scope: "rpc_namespaces[]", Type: "string", Doc: "rpc namespace name, unique", Supported: true},
		KeyInfo{Name: "rpc_proxy_name", Nested: []string{"proxy_name"}, Scope: "rpc_namespaces[]", Type: "string", Doc: "named proxy for the namespace's methods", Supported: true},
		KeyInfo{Name: "proxy_enabled", Scope: "rpc_namespaces[]", Type: "bool", Doc: "v6 switch for the namespace's proxy", Supported: true, V6Only: true},
		KeyInfo{Name: "name", Scope: "proxies[]", Type: "string", Doc: "proxy name, unique, ^[-a-zA-Z0-9_.]{2,}$", Supported: true},
		KeyInfo{Name: "endpoint", Scope: "proxies[]", Type: "string", Doc: "grpc://host:port, host:port or http(s)://…", Supported: true},
		KeyInfo{Name: "timeout", Scope: "proxies[]", Type: "duration", Default: "1s", Doc: "call deadline", Supported: true},
	)
	for _, o := range proxyOpts {
		info := KeyInfo{Name: o.name, Scope: "proxies[]", Type: o.kind.typeName(), Doc: o.doc, Supported: true}
		if o.v6 != "" {
			info.Nested = []string{o.v6}
		}
		out = append(out, info)
	}
	return out
}

// Describe renders KnownKeys as a Markdown table for the docs.
func Describe() string {
	var b strings.Builder
	b.WriteString("| key | scope | type | default | v6 / other spellings | meaning |\n|---|---|---|---|---|---|\n")
	for _, k := range KnownKeys() {
		doc := k.Doc
		if !k.Supported && !strings.Contains(doc, "not supported") {
			doc += " (not supported by Spindle)"
		}
		nested := make([]string, 0, len(k.Nested))
		for _, n := range k.Nested {
			nested = append(nested, "`"+n+"`")
		}
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		b.WriteString("| `" + k.Name + "` | " + k.Scope + " | " + k.Type + " | " + def + " | " +
			strings.Join(nested, ", ") + " | " + strings.ReplaceAll(doc, "|", "\\|") + " |\n")
	}
	return b.String()
}
