package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// nameRe is the rule for namespace, rpc namespace and proxy names.
var nameRe = regexp.MustCompile(`^[-a-zA-Z0-9_.]{2,}$`)

// nsInfo remembers where each option of a namespace was set, so checks
// that run after decoding (proxy references) can point at the line.
type nsInfo struct {
	at   loc
	locs map[string]loc // by canonical channel option name
}

func (i *nsInfo) where(opt string) loc {
	if l, ok := i.locs[opt]; ok {
		return l
	}
	return i.at
}

func (i *nsInfo) isSet(opt string) bool {
	_, ok := i.locs[opt]
	return ok
}

var nsSchema = func() *objSchema {
	kinds := map[string]valueKind{"name": vString}
	for _, o := range chanOpts {
		k := kindAny
		if o.target != nil {
			k = kindOfTarget(o.target(&ChannelOptions{}))
		}
		kinds[o.name] = k
		kinds[o.v6Name()] = k
	}
	canon := func(p string) string {
		if o := chanOptIndex[p]; o != nil {
			return o.name
		}
		return p
	}
	hint := func(p string) string {
		if _, ok := reg.byName[p]; ok {
			return "it is a top-level key, not a namespace option"
		}
		return ""
	}
	return newSchema(kinds, canon, hint)
}()

// checkItemArray verifies the shape shared by every list of objects.
func (st *state) checkItemArray(n *node, at loc) bool {
	if n.kind != kindArray {
		st.errorf(at, "must be an array of objects, got %s", describeNode(n))
		return false
	}
	ok := true
	for i, it := range n.items {
		if it.kind != kindObject {
			st.errorf(loc{source: at.source, line: lineOr(it.line, at.line), key: fmt.Sprintf("%s[%d]", at.key, i)},
				"must be an object, got %s", describeNode(it))
			ok = false
		}
	}
	return ok
}

// checkName validates a namespace/proxy name and its uniqueness.
func (st *state) checkName(name string, have bool, what string, at, nameAt loc, seen map[string]loc) {
	switch {
	case !have || name == "":
		st.errorf(at, "%s has no name", what)
	case !nameRe.MatchString(name):
		st.errorf(nameAt, "invalid %s name %q: use at least 2 of a-z A-Z 0-9 - _ .", what, name)
	default:
		if first, dup := seen[name]; dup {
			st.errorf(nameAt, "duplicate %s name %q (first at %s)", what, name, describePlace(first))
			return
		}
		seen[name] = nameAt
	}
}

func describePlace(l loc) string {
	if l.line > 0 {
		return fmt.Sprintf("line %d", l.line)
	}
	return l.key
}

func decodeNamespaces(st *state, n *node, at loc) {
	if !st.checkItemArray(n, at) {
		return
	}
	seen := map[string]loc{}
	var out []Namespace
	var infos []nsInfo
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		itemAt := loc{source: at.source, line: lineOr(item.line, at.line), key: disp}
		var ns Namespace
		info := nsInfo{at: itemAt, locs: map[string]loc{}}
		haveName := false
		nameAt := itemAt
		st.walk(item, nsSchema, at.source, disp+".", disp, func(p string, m member, mat loc) {
			if p == "name" {
				nameAt = mat
				haveName = st.assign(&ns.Name, m.value, mat, rules{})
				return
			}
			o := chanOptIndex[p]
			info.locs[o.name] = mat
			if o.ignored != "" {
				st.warnf(mat, "%s", o.ignored)
				return
			}
			if o.unsupported {
				if !isZero(m.value) {
					st.warnf(mat, "%s is not supported by Spindle and is ignored", p)
				}
				return
			}
			st.assign(o.target(&ns.ChannelOptions), m.value, mat, o.rules)
		})
		st.checkName(ns.Name, haveName, "namespace", itemAt, nameAt, seen)
		scope := fmt.Sprintf("namespace %q", ns.Name)
		st.checkChannelOptions(&ns.ChannelOptions, info.where, scope)
		st.checkMapOptions(&ns.ChannelOptions, info.where, info.isSet, scope)
		st.checkSharedPollOptions(&ns.ChannelOptions, info.where, info.isSet, scope)
		out = append(out, ns)
		infos = append(infos, info)
	}
	st.cfg.Channel.Namespaces = out
	st.nsInfos = infos
}

var rpcNsSchema = newSchema(map[string]valueKind{
	"name": vString, "rpc_proxy_name": vString, "proxy_name": vString, "proxy_enabled": vBool,
}, func(p string) string {
	if p == "proxy_name" {
		return "rpc_proxy_name"
	}
	return p
}, func(string) string { return "" })

// rpcNsInfo keeps what resolving an rpc namespace's proxy needs.
type rpcNsInfo struct {
	at, proxyAt loc
	enabled     bool
	enabledSet  bool
	enabledAt   loc
}

func decodeRPCNamespaces(st *state, n *node, at loc) {
	if !st.checkItemArray(n, at) {
		return
	}
	seen := map[string]loc{}
	var out []RPCNamespace
	var infos []rpcNsInfo
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		itemAt := loc{source: at.source, line: lineOr(item.line, at.line), key: disp}
		var ns RPCNamespace
		info := rpcNsInfo{at: itemAt, proxyAt: itemAt}
		haveName := false
		nameAt := itemAt
		st.walk(item, rpcNsSchema, at.source, disp+".", disp, func(p string, m member, mat loc) {
			switch p {
			case "name":
				nameAt = mat
				haveName = st.assign(&ns.Name, m.value, mat, rules{})
			case "rpc_proxy_name", "proxy_name":
				info.proxyAt = mat
				st.assign(&ns.ProxyName, m.value, mat, rules{})
			case "proxy_enabled":
				info.enabledSet = true
				info.enabledAt = mat
				st.assign(&info.enabled, m.value, mat, rules{})
			}
		})
		st.checkName(ns.Name, haveName, "rpc namespace", itemAt, nameAt, seen)
		out = append(out, ns)
		infos = append(infos, info)
	}
	st.cfg.RPC.Namespaces = out
	st.rpcInfos = infos
}

// proxyOptIndex maps every spelling inside a proxy object to its option.
var proxyOptIndex = func() map[string]*proxyOpt {
	m := map[string]*proxyOpt{}
	for _, o := range proxyOpts {
		m[o.name] = o
		m[o.v6Name()] = o
	}
	return m
}()

var proxySchema = func() *objSchema {
	kinds := map[string]valueKind{"name": vString, "endpoint": vString, "timeout": vDuration}
	for _, o := range proxyOpts {
		kinds[o.name] = o.kind
		kinds[o.v6Name()] = o.kind
	}
	canon := func(p string) string {
		if o := proxyOptIndex[p]; o != nil {
			return o.name
		}
		return p
	}
	hint := func(p string) string {
		for _, o := range proxyOpts {
			if p == o.global {
				return fmt.Sprintf("inside proxies[] it is spelled %q", o.name)
			}
		}
		return ""
	}
	return newSchema(kinds, canon, hint)
}()

func decodeProxies(st *state, n *node, at loc) {
	if !st.checkItemArray(n, at) {
		return
	}
	seen := map[string]loc{}
	var out []Proxy
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		itemAt := loc{source: at.source, line: lineOr(item.line, at.line), key: disp}
		p := Proxy{Timeout: defaultProxyTimeout}
		haveName := false
		nameAt, endpointAt, timeoutAt := itemAt, itemAt, itemAt
		optAt := map[*proxyOpt]loc{}
		st.walk(item, proxySchema, at.source, disp+".", disp, func(path string, m member, mat loc) {
			switch path {
			case "name":
				nameAt = mat
				haveName = st.assign(&p.Name, m.value, mat, rules{})
			case "endpoint":
				endpointAt = mat
				st.assign(&p.Endpoint, m.value, mat, rules{})
			case "timeout":
				timeoutAt = mat
				st.assign(&p.Timeout, m.value, mat, rules{})
			default:
				o := proxyOptIndex[path]
				optAt[o] = mat
				if o.target != nil {
					st.assign(o.target(&p), m.value, mat, rules{})
				} else {
					o.decode(st, m.value, mat, &p)
				}
			}
		})
		st.checkName(p.Name, haveName, "proxy", itemAt, nameAt, seen)
		if p.Endpoint == "" {
			st.errorf(endpointAt, "proxy %q has no endpoint", p.Name)
		} else if err := validateEndpoint(p.Endpoint); err != nil {
			st.errorf(endpointAt, "%v", err)
		}
		if p.Timeout <= 0 {
			st.errorf(timeoutAt, "proxy timeout must be greater than 0")
		}
		st.checkProxyTLS(&p, func(o *proxyOpt) loc {
			if l, ok := optAt[o]; ok {
				return l
			}
			return loc{key: disp + "." + o.v6Name()}
		})
		out = append(out, p)
	}
	st.cfg.Proxy.Named = out
}

var transformSchema = newSchema(map[string]valueKind{
	"status_code":          vInt,
	"to_error.code":        vInt,
	"to_error.message":     vString,
	"to_error.temporary":   vBool,
	"to_disconnect.code":   vInt,
	"to_disconnect.reason": vString,
}, func(p string) string { return p }, func(string) string { return "" })

// maxCloseReason is the WebSocket limit on a close reason in bytes.
const maxCloseReason = 123

func (st *state) decodeTransforms(n *node, at loc) []StatusCodeTransform {
	if !st.checkItemArray(n, at) {
		return nil
	}
	var out []StatusCodeTransform
	for i, item := range n.items {
		disp := fmt.Sprintf("%s[%d]", at.key, i)
		itemAt := loc{source: at.source, line: lineOr(item.line, at.line), key: disp}
		var t StatusCodeTransform
		var e ProxyError
		var d ProxyDisconnect
		var eCode, dCode int
		set := map[string]loc{}
		st.walk(item, transformSchema, at.source, disp+".", disp, func(p string, m member, mat loc) {
			set[p] = mat
			switch p {
			case "status_code":
				st.assign(&t.StatusCode, m.value, mat, rules{})
			case "to_error.code":
				st.assign(&eCode, m.value, mat, rules{max: 1<<31 - 1})
			case "to_error.message":
				st.assign(&e.Message, m.value, mat, rules{})
			case "to_error.temporary":
				st.assign(&e.Temporary, m.value, mat, rules{})
			case "to_disconnect.code":
				st.assign(&dCode, m.value, mat, rules{max: 1<<31 - 1})
			case "to_disconnect.reason":
				st.assign(&d.Reason, m.value, mat, rules{})
			}
		})
		hasErr, hasDisc := false, false
		for p := range set {
			hasErr = hasErr || strings.HasPrefix(p, "to_error.")
			hasDisc = hasDisc || strings.HasPrefix(p, "to_disconnect.")
		}
		if t.StatusCode < 100 || t.StatusCode > 599 {
			st.errorf(itemAt, "status_code must be an HTTP status (100-599), got %d", t.StatusCode)
		}
		switch {
		case hasErr == hasDisc:
			st.errorf(itemAt, "needs exactly one of to_error or to_disconnect")
		case hasErr:
			if eCode == 0 {
				st.errorf(itemAt, "to_error.code must be set and non-zero")
			}
			e.Code = uint32(eCode)
			t.ToError = &e
		default:
			if dCode < 3000 || dCode > 4999 {
				st.errorf(itemAt, "to_disconnect.code must be in 3000-4999, got %d", dCode)
			}
			if len(d.Reason) > maxCloseReason {
				st.errorf(itemAt, "to_disconnect.reason is %d bytes; a close reason fits at most %d", len(d.Reason), maxCloseReason)
			}
			d.Code = uint32(dCode)
			t.ToDisconnect = &d
		}
		out = append(out, t)
	}
	return out
}

// namedList lists proxy names for "unknown proxy" messages.
func namedList(ps []Proxy) string {
	if len(ps) == 0 {
		return "no proxies are defined in proxies"
	}
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return "proxies defines " + quoteList(names)
}
