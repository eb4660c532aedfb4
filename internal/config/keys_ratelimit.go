package config

import (
	"fmt"
	"sort"
	"time"
)

// Keys of the per-connection command rate limit, in Centrifugo PRO's
// shape: v6 client.rate_limit.client_command.<section>.{enabled,buckets},
// and the v5 PRO spelling client_command_rate_limit.<section>.buckets where
// PRO had one. Sections are staged while decoding and resolved in
// checkCommandRateLimit, because whether a section counts depends on
// several keys (its enabled, its buckets, the layer's enabled).

const (
	rlV6 = "client.rate_limit.client_command."
	rlV5 = "client_command_rate_limit."
)

// Rate-limited sections: the two special ones, then the commands.
const (
	rlTotal   = "total"
	rlDefault = "default"
)

// rlCommands are the commands a section may be named after; channel
// commands take namespace_overrides, rpc takes method overrides. v5 PRO had
// no unsubscribe section, so it has only the v6 spelling.
var rlCommands = []struct {
	name    string
	channel bool
	v5      bool
}{
	{"subscribe", true, true}, {"unsubscribe", true, false}, {"publish", true, true},
	{"history", true, true}, {"presence", true, true}, {"presence_stats", true, true},
	{"refresh", false, true}, {"sub_refresh", true, true}, {"rpc", false, true},
}

// Limits PRO puts on a bucket.
const (
	minRateInterval = time.Second
	maxRateInterval = time.Hour
)

// rlSection is one staged section as written.
type rlSection struct {
	enabled, enabledSet bool
	enabledAt           loc
	buckets             []RateBucket
	bucketsAt           loc
	hasBuckets          bool
	overrides           []rlOverride
	overridesAt         loc
	overridesKeys       []string // spellings used (method_override and method_overrides may not be mixed)
}

// rlOverride is one namespace or RPC method override as written.
type rlOverride struct {
	name                string
	at                  loc
	enabled, enabledSet bool
	buckets             []RateBucket
	hasBuckets          bool
}

// on says whether a section or override takes effect: PRO writes enabled:
// true beside every bucket list; Spindle also takes buckets without it
// (the v5 spelling has no enabled), and enabled: false always wins.
func on(enabled, enabledSet, hasBuckets bool) bool {
	if enabledSet {
		return enabled
	}
	return hasBuckets
}

func (st *state) rlSection(name string) *rlSection {
	if st.rl == nil {
		st.rl = map[string]*rlSection{}
	}
	s := st.rl[name]
	if s == nil {
		s = &rlSection{}
		st.rl[name] = s
	}
	return s
}

func rateLimitKeys() []*keyDef {
	lim := func(s *state) *CommandRateLimit { return &s.cfg.CommandRateLimit }
	out := []*keyDef{
		{name: rlV5 + "enabled", aliases: a(rlV6 + "enabled"), def: "false", doc: "limit each connection's commands with the buckets below (Centrifugo PRO); refused commands get error 111",
			target: func(s *state) any { return &lim(s).Enabled }},
		{name: rlV6 + "dry_run", v6only: true, def: "false", doc: "count commands over the limit (metric dry_run=\"true\") but refuse none",
			target: func(s *state) any { return &lim(s).DryRun }},
		{name: rlV6 + "disconnect_after_refusals", v6only: true, def: "0", doc: "disconnect 3013 after this many refused commands in a row, 0 = never (Spindle addition, not in Centrifugo PRO)",
			rules:  rules{max: 1 << 20},
			target: func(s *state) any { return &lim(s).DisconnectAfterRefusals }},
		{name: rlV6 + "disconnect_on_accounted_limit", unsupported: true, doc: "Centrifugo PRO: disconnect when unsubscribe exceeds its bucket (not supported by Spindle)"},
	}
	section := func(name, what string, v5 bool) {
		bk := &keyDef{name: rlV6 + name + ".buckets", v6only: true, kind: vObjects,
			doc:    what + ": token buckets [{interval, rate}], all must allow; interval 1s–1h, rate ≥ 1",
			decode: func(st *state, n *node, at loc) { st.decodeRateSectionBuckets(name, n, at) }}
		if v5 {
			bk.name, bk.aliases, bk.v6only = rlV5+name+".buckets", a(rlV6+name+".buckets"), false
		}
		out = append(out, bk, &keyDef{name: rlV6 + name + ".enabled", v6only: true, kind: vBool, doc: what + ": on or off (on when buckets are given and this is not false)",
			decode: func(st *state, n *node, at loc) {
				s := st.rlSection(name)
				s.enabledSet, s.enabledAt = st.assign(&s.enabled, n, at, rules{}), at
			}})
	}
	section(rlTotal, "cap on all of a connection's limited commands together", true)
	section(rlDefault, "buckets of every command without its own, one set per command", true)
	for _, c := range rlCommands {
		c := c
		section(c.name, c.name+" commands", c.v5)
		if c.channel {
			out = append(out, &keyDef{name: rlV6 + c.name + ".namespace_overrides", v6only: true, kind: vObjects,
				doc:    c.name + ": [{namespace_name, enabled, buckets}] replacing the " + c.name + " buckets for a namespace's channels",
				decode: func(st *state, n *node, at loc) { st.decodeRateOverrides(c.name, "namespace_name", n, at) }})
		}
	}
	out = append(out,
		&keyDef{name: rlV6 + "rpc.method_overrides", v6only: true, kind: vObjects,
			doc:    "rpc: [{method, enabled, buckets}] replacing the rpc buckets for one method",
			decode: func(st *state, n *node, at loc) { st.decodeRateOverrides("rpc", "method", n, at) }},
		&keyDef{name: rlV5 + "rpc.method_override", aliases: a(rlV6 + "rpc.method_override"), kind: vObjects,
			doc:    "rpc: the older form of method_overrides, {method: {enabled, buckets}}",
			decode: decodeRateMethodOverrideMap},
	)
	return out
}

var bucketSchema = newSchema(map[string]valueKind{"interval": vDuration, "rate": vInt},
	func(p string) string { return p }, func(string) string { return "" })

var overrideSchemas = map[string]*objSchema{}

func overrideSchema(nameKey string) *objSchema {
	if sc, ok := overrideSchemas[nameKey]; ok {
		return sc
	}
	sc := newSchema(map[string]valueKind{nameKey: vString, "enabled": vBool, "buckets": vObjects},
		func(p string) string { return p }, func(string) string { return "" })
	overrideSchemas[nameKey] = sc
	return sc
}

// decodeBuckets reads a bucket list, checking each bucket as PRO does.
func (st *state) decodeBuckets(n *node, at loc) []RateBucket {
	if !st.checkItemArray(n, at) {
		return nil
	}
	out := make([]RateBucket, 0, len(n.items))
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		itemAt := loc{source: at.source, line: lineOr(item.line, at.line), key: disp}
		var b RateBucket
		haveInterval, haveRate := false, false
		st.walk(item, bucketSchema, at.source, disp+".", disp, func(p string, m member, mat loc) {
			switch p {
			case "interval":
				if !st.assign(&b.Interval, m.value, mat, rules{}) {
					haveInterval = true // reported already
					return
				}
				haveInterval = true
				if b.Interval < minRateInterval || b.Interval > maxRateInterval {
					st.errorf(mat, "must be between %s and %s, got %s", minRateInterval, maxRateInterval, b.Interval)
				}
			case "rate":
				haveRate = true
				st.assign(&b.Rate, m.value, mat, rules{min: 1})
			}
		})
		if !haveInterval {
			st.errorf(itemAt, "bucket has no interval (e.g. \"1s\")")
		}
		if !haveRate {
			st.errorf(itemAt, "bucket has no rate (commands per interval, at least 1)")
		}
		out = append(out, b)
	}
	return out
}

func (st *state) decodeRateSectionBuckets(name string, n *node, at loc) {
	s := st.rlSection(name)
	s.buckets, s.bucketsAt, s.hasBuckets = st.decodeBuckets(n, at), at, true
}

// decodeRateOverrides reads namespace_overrides or method_overrides.
func (st *state) decodeRateOverrides(section, nameKey string, n *node, at loc) {
	s := st.rlSection(section)
	s.overridesAt = at
	s.overridesKeys = append(s.overridesKeys, at.key)
	if !st.checkItemArray(n, at) {
		return
	}
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		o := rlOverride{at: loc{source: at.source, line: lineOr(item.line, at.line), key: disp}}
		haveName := false
		st.walk(item, overrideSchema(nameKey), at.source, disp+".", disp, func(p string, m member, mat loc) {
			switch p {
			case nameKey:
				haveName = st.assign(&o.name, m.value, mat, rules{})
			case "enabled":
				o.enabledSet = st.assign(&o.enabled, m.value, mat, rules{})
			case "buckets":
				o.buckets, o.hasBuckets = st.decodeBuckets(m.value, mat), true
			}
		})
		if !haveName || o.name == "" {
			st.errorf(o.at, "override has no %s", nameKey)
			continue
		}
		s.overrides = append(s.overrides, o)
	}
}

// decodeRateMethodOverrideMap reads PRO's older {method: {enabled,
// buckets}} form of the rpc method overrides.
func decodeRateMethodOverrideMap(st *state, n *node, at loc) {
	s := st.rlSection("rpc")
	s.overridesAt = at
	s.overridesKeys = append(s.overridesKeys, at.key)
	if n.kind != kindObject {
		st.errorf(at, "must be an object of method: {enabled, buckets}, got %s", describeNode(n))
		return
	}
	for _, m := range n.members {
		mat := loc{source: at.source, line: lineOr(m.line, at.line), key: at.key + "." + m.key}
		if m.value.kind != kindObject {
			st.errorf(mat, "must be an object {enabled, buckets}, got %s", describeNode(m.value))
			continue
		}
		o := rlOverride{name: m.key, at: mat}
		st.walk(m.value, overrideSchema("method"), at.source, mat.key+".", mat.key, func(p string, mm member, pat loc) {
			switch p {
			case "method":
				st.errorf(pat, "the method is the key of this object; remove \"method\"")
			case "enabled":
				o.enabledSet = st.assign(&o.enabled, mm.value, pat, rules{})
			case "buckets":
				o.buckets, o.hasBuckets = st.decodeBuckets(mm.value, pat), true
			}
		})
		s.overrides = append(s.overrides, o)
	}
}

// checkCommandRateLimit resolves the staged sections into
// cfg.CommandRateLimit and says what would silently do nothing.
func (st *state) checkCommandRateLimit() {
	rl := &st.cfg.CommandRateLimit
	layerAt := st.where(rlV5 + "enabled")
	names := make([]string, 0, len(st.rl))
	for name := range st.rl {
		names = append(names, name)
	}
	sort.Strings(names)
	namespaces := map[string]bool{}
	for _, ns := range st.cfg.Channel.Namespaces {
		namespaces[ns.Name] = true
	}
	anyOn := false
	for _, name := range names {
		s := st.rl[name]
		if len(s.overridesKeys) > 1 {
			st.errorf(s.overridesAt, "method_override and method_overrides both set: use one (method_overrides is the current form)")
		}
		active := on(s.enabled, s.enabledSet, s.hasBuckets || len(s.overrides) > 0)
		if !active {
			if s.hasBuckets || len(s.overrides) > 0 {
				st.warnf(s.enabledAt, "%s is disabled: its buckets are ignored", name)
			}
			continue
		}
		anyOn = true
		switch name {
		case rlTotal, rlDefault:
			if len(s.buckets) == 0 {
				at := s.enabledAt
				if s.hasBuckets {
					at = s.bucketsAt
				}
				st.warnf(at, "%s is enabled without buckets: it limits nothing", name)
			}
			if name == rlTotal {
				rl.Total = s.buckets
			} else {
				rl.Default = s.buckets
			}
			continue
		}
		cb := CommandBuckets{Buckets: s.buckets}
		seen := map[string]loc{}
		for _, o := range s.overrides {
			if first, dup := seen[o.name]; dup {
				st.errorf(o.at, "second override for %q (first at %s)", o.name, describePlace(first))
				continue
			}
			seen[o.name] = o.at
			if name != "rpc" && !namespaces[o.name] {
				st.errorf(o.at, "namespace_name %q is not a namespace defined in namespaces", o.name)
				continue
			}
			if !on(o.enabled, o.enabledSet, o.hasBuckets) {
				if !o.enabledSet {
					st.warnf(o.at, "override for %q has neither enabled nor buckets: it does nothing", o.name)
				}
				continue
			}
			if cb.Overrides == nil {
				cb.Overrides = map[string][]RateBucket{}
			}
			cb.Overrides[o.name] = o.buckets
		}
		if rl.Commands == nil {
			rl.Commands = map[string]CommandBuckets{}
		}
		rl.Commands[name] = cb
	}
	switch {
	case !rl.Enabled && (anyOn || rl.DryRun || rl.DisconnectAfterRefusals > 0):
		st.warnf(layerAt, "client.rate_limit.client_command.enabled is false: no command is limited, whatever its buckets say")
	case rl.Enabled && !anyOn:
		st.warnf(layerAt, "enabled, but no buckets are configured (total, default or a command's): no command is limited")
	case rl.Enabled && rl.DryRun && rl.DisconnectAfterRefusals > 0:
		st.warnf(st.where(rlV6+"disconnect_after_refusals"), "dry_run is on: nobody is refused, so nobody is disconnected either")
	}
}
