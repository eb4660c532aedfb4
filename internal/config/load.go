package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// LoadOptions are the three configuration sources; Load layers them as
// flags > env > file > defaults.
type LoadOptions struct {
	// File is the config path (.json, .yaml, .yml or .toml); empty means
	// defaults, env and flags only.
	File string
	// Data, when not nil, is the file's content, already read (a config
	// built in memory); File then only names it, for its format (by
	// extension) and in error messages.
	Data []byte
	// Env is the environment in os.Environ() form; only CENTRIFUGO_*
	// entries are read. Empty values count as unset.
	Env []string
	// Flags maps a key (flat "grpc_api_port" or nested "grpc_api.port";
	// dashes and leading "--" are tolerated) to its command-line value.
	Flags map[string]string
}

// Load reads, merges and validates the configuration. On failure the
// error is an *Errors listing every problem with its source, line and
// key; warnings are returned either way.
func Load(opts LoadOptions) (*Config, []Warning, error) {
	var data []byte
	var readErr error
	switch {
	case opts.Data != nil:
		data = opts.Data
	case opts.File != "":
		data, readErr = readFile(opts.File)
	}
	return load(opts, data, readErr)
}

// load is Load after the file has been read (the fuzz tests enter here).
func load(opts LoadOptions, data []byte, readErr error) (*Config, []Warning, error) {
	st := newState()
	fileLayer := layer{}
	if readErr != nil {
		st.errs = append(st.errs, &Error{Source: opts.File, Msg: "cannot read config file: " + readError(readErr), Err: readErr})
	} else if opts.File != "" {
		st.collectFile(opts.File, data, fileLayer)
	}
	envLayer := st.collectEnv(opts.Env)
	flagLayer := st.collectFlags(opts.Flags)

	merged := layer{}
	for _, l := range []layer{fileLayer, envLayer, flagLayer} {
		for d, e := range l {
			merged[d] = e
		}
	}
	if len(st.errs) == 0 || onlyValueErrors(st.errs) {
		st.apply(merged)
		st.finish()
	}
	sortProblems(st.errs, st.warns, opts.File)
	if len(st.errs) > 0 {
		return nil, st.warns, &Errors{List: st.errs}
	}
	return st.cfg, st.warns, nil
}

// onlyValueErrors is false when the file could not be read or parsed at
// all; then nothing else is worth reporting.
func onlyValueErrors(errs []*Error) bool {
	for _, e := range errs {
		if e.Err != nil {
			return false
		}
	}
	return true
}

// state is one Load in progress: the config being filled, staging areas
// for values that are combined later, and the problems found.
type state struct {
	cfg *Config

	common    Proxy // v5 proxy_* options shared by the per-event proxies
	events    [numEvents]Proxy
	endpoints [numEvents]string
	timeouts  [numEvents]time.Duration
	hints     [numEvents]bool

	subToken         Token
	separateSubToken bool

	rl map[string]*rlSection // command rate-limit sections as written

	nsInfos  []nsInfo
	rpcInfos []rpcNsInfo

	locs  map[string]loc  // canonical key → where it was set
	bad   map[string]bool // keys (as written) whose value was rejected
	errs  []*Error
	warns []Warning
}

func newState() *state {
	st := &state{cfg: Default(), locs: map[string]loc{}, bad: map[string]bool{}}
	for i := range st.timeouts {
		st.timeouts[i] = defaultProxyTimeout
	}
	return st
}

// where locates a canonical key for cross-key messages; keys left at
// their default have no source.
func (st *state) where(name string) loc {
	if l, ok := st.locs[name]; ok {
		return l
	}
	return loc{key: name}
}

// rejected reports whether the value at l failed to decode, so checks
// that combine keys stay quiet instead of piling on a second error.
func (st *state) rejected(l loc) bool { return st.bad[l.key] }

func (st *state) isSet(name string) bool {
	_, ok := st.locs[name]
	return ok
}

// entry is one key's value from one source.
type entry struct {
	n       *node
	at      loc
	spelled string // the spelling matched (for spelling-specific warnings)
}

type layer map[*keyDef]entry

func buildTopSchema() *objSchema {
	kinds := map[string]valueKind{}
	for name, d := range reg.byName {
		kinds[name] = d.kind
	}
	canon := func(p string) string { return reg.byName[p].name }
	hint := func(p string) string {
		if _, ok := proxyOptIndex[p]; ok || p == "endpoint" || p == "timeout" {
			return "proxy options belong inside proxies[] entries (or use the proxy_* keys)"
		}
		if p == rlV6+"connect" || p == rlV5+"connect" {
			return "connect is not rate limited per connection (it is a connection's first command); use client_connection_rate_limit"
		}
		return ""
	}
	return newSchema(kinds, canon, hint)
}

func (st *state) collectFile(path string, data []byte, l layer) {
	root, err := parseFile(path, data)
	if err != nil {
		e := &Error{Source: path, Msg: "cannot parse: " + err.Error(), Err: err}
		var se *syntaxError
		if errors.As(err, &se) {
			e.Line = se.line
			e.Msg = fmt.Sprintf("syntax error (column %d): %s", se.col, se.msg)
		}
		st.errs = append(st.errs, e)
		return
	}
	if root.kind == kindNull {
		return // empty YAML document
	}
	if root.kind != kindObject {
		st.errs = append(st.errs, &Error{Source: path, Line: root.line, Msg: "the top level must be an object of keys", Err: errors.New("not an object")})
		return
	}
	st.walk(root, topSchema, path, "", "", func(p string, m member, at loc) {
		l[reg.byName[p]] = entry{n: m.value, at: at, spelled: p}
	})
}

const envPrefix = "CENTRIFUGO_"

func (st *state) collectEnv(env []string) layer {
	l := layer{}
	var unknown []string
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || value == "" {
			continue
		}
		at := loc{source: "env", key: name}
		d := reg.byEnv[strings.ToUpper(name[len(envPrefix):])]
		if d == nil {
			unknown = append(unknown, name)
			continue
		}
		if prev, dup := l[d]; dup && prev.at.key != name {
			st.errorf(at, "sets the same option as %s", prev.at.key)
			continue
		}
		n, err := textNode(d.kind, value)
		if err != nil {
			st.errorf(at, "%v", err)
			continue
		}
		l[d] = entry{n: n, at: at, spelled: strings.ToLower(name[len(envPrefix):])}
	}
	if len(unknown) > 0 {
		var names []string
		for s := range reg.byEnv {
			names = append(names, envPrefix+s)
		}
		sort.Strings(names)
		for _, name := range unknown {
			msg := "unknown CENTRIFUGO_ variable; ignored"
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			st.warns = append(st.warns, Warning{Source: "env", Key: name, Msg: msg})
		}
	}
	return l
}

func (st *state) collectFlags(flags map[string]string) layer {
	l := layer{}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		norm := strings.ReplaceAll(strings.TrimLeft(k, "-"), "-", "_")
		at := loc{source: "flags", key: "--" + strings.TrimLeft(k, "-")}
		d := reg.byName[norm]
		if d == nil {
			st.unknownKey(at, norm, "", suggest(norm, reg.names), "")
			continue
		}
		if prev, dup := l[d]; dup {
			st.errorf(at, "sets the same option as %s", prev.at.key)
			continue
		}
		n, err := textNode(d.kind, flags[k])
		if err != nil {
			st.errorf(at, "%v", err)
			continue
		}
		l[d] = entry{n: n, at: at, spelled: norm}
	}
	return l
}

// apply decodes every set key in registry order. Pass-2 keys (v6
// per-proxy options) run after the shared v5 proxy options have been
// copied into each per-event proxy, so they override them.
func (st *state) apply(l layer) {
	for _, pass2 := range []bool{false, true} {
		if pass2 {
			for ev := range st.events {
				st.events[ev] = cloneProxy(st.common)
			}
		}
		for _, d := range reg.defs {
			e, ok := l[d]
			if !ok || d.pass2 != pass2 {
				continue
			}
			st.locs[d.name] = e.at
			st.applyEntry(d, e)
		}
	}
}

func (st *state) applyEntry(d *keyDef, e entry) {
	note, hasNote := d.notes[e.spelled]
	if hasNote {
		st.warnf(e.at, "%s", note)
	}
	switch {
	case d.ignored != "":
		st.warnf(e.at, "%s", d.ignored)
	case d.unsupported:
		if !hasNote && !isZero(e.n) {
			st.warnf(e.at, "not supported by Spindle and ignored: %s", d.doc)
		}
	case d.decode != nil:
		d.decode(st, e.n, e.at)
	case d.secret && e.n.kind != kindString:
		// describeNode would quote the value: a YAML secret of digits is
		// a number, and the message must not show it.
		st.bad[e.at.key] = true
		st.errorf(e.at, "must be a string, got %s (quote it; the value is not shown, it is a secret)", e.n.kind)
	case d.target != nil:
		st.assign(d.target(st), e.n, e.at, d.rules)
	}
}

func cloneProxy(p Proxy) Proxy {
	p.HTTPHeaders = append([]string(nil), p.HTTPHeaders...)
	p.GRPCMetadata = append([]string(nil), p.GRPCMetadata...)
	p.StatusCodeTransforms = append([]StatusCodeTransform(nil), p.StatusCodeTransforms...)
	if p.StaticHTTPHeaders != nil {
		m := make(map[string]string, len(p.StaticHTTPHeaders))
		for k, v := range p.StaticHTTPHeaders {
			m[k] = v
		}
		p.StaticHTTPHeaders = m
	}
	return p
}

// sortProblems orders errors and warnings as a reader scans them: the
// file top to bottom, then env, flags and whole-config problems.
func sortProblems(errs []*Error, warns []Warning, file string) {
	rank := func(source string) int {
		switch source {
		case "":
			return 3
		case file:
			return 0
		case "env":
			return 1
		case "flags":
			return 2
		}
		return 3
	}
	sort.SliceStable(errs, func(i, j int) bool {
		ri, rj := rank(errs[i].Source), rank(errs[j].Source)
		if ri != rj {
			return ri < rj
		}
		return errs[i].Line < errs[j].Line
	})
	sort.SliceStable(warns, func(i, j int) bool {
		ri, rj := rank(warns[i].Source), rank(warns[j].Source)
		if ri != rj {
			return ri < rj
		}
		return warns[i].Line < warns[j].Line
	})
}
