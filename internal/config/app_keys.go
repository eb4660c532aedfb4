package config

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
)

// appKey describes one key of the app configuration, by its dotted path
// from the top of the file.
type appKey struct {
	// target is the field written by the generic decoder.
	target func(c *AppConfig) any
	rules
	// custom decodes values that need more than a plain assignment.
	custom func(d *appDecoder, n *node, at loc)
	// unsupported, when set, accepts the key with a warning saying why it
	// has no effect.
	unsupported string
}

// appSections are the top-level keys `spindle app` reads.
var appSections = map[string]bool{"version": true, "rpc": true, "server": true, "centrifuge": true, "status": true, "metrics": true}

// rrUnusedSections are RoadRunner plugin sections: a file written for
// RoadRunner may have them, so they are warned about, not rejected.
var rrUnusedSections = map[string]bool{
	"http": true, "logs": true, "otel": true, "kv": true,
	"jobs": true, "grpc": true, "temporal": true, "reload": true, "endure": true, "informer": true,
	"resetter": true, "tcp": true, "fileserver": true, "service": true, "lock": true, "redis": true,
	"amqp": true, "kafka": true, "nats": true, "sqs": true, "beanstalk": true, "boltdb": true,
	"memcached": true, "memory": true, "websockets": true, "broadcast": true, "headers": true,
	"gzip": true, "static": true, "sendfile": true, "prometheus": true, "proxy_ip_parser": true,
	"http_metrics": true, "googlepubsub": true, "include": true, "app": true,
}

var appKeys = map[string]appKey{
	"version": {custom: (*appDecoder).version},

	"rpc.listen": {custom: func(d *appDecoder, n *node, at loc) {
		if s, ok := d.str(n, at); ok {
			if err := checkListenDSN(s, false); err != nil {
				d.st.errorf(at, "%v", err)
				return
			}
			d.cfg.RPC.Listen = s
		}
	}},

	"server.command": {custom: func(d *appDecoder, n *node, at loc) { d.cfg.Server.Command, _ = d.command(n, at) }},
	"server.relay": {custom: func(d *appDecoder, n *node, at loc) {
		if s, ok := d.str(n, at); ok {
			if err := checkRelay(s); err != nil {
				d.st.errorf(at, "%v", err)
				return
			}
			d.cfg.Server.Relay = s
		}
	}},
	"server.env":     {custom: (*appDecoder).env},
	"server.user":    {unsupported: "running workers as another user is not supported yet"},
	"server.group":   {unsupported: "running workers as another group is not supported yet"},
	"server.on_init": {unsupported: "on_init commands are not supported yet"},

	"status.address":                 {custom: hostPort(func(c *AppConfig) *string { return &c.Status.Address })},
	"status.unavailable_status_code": {target: func(c *AppConfig) any { return &c.Status.UnavailableStatusCode }, rules: rules{min: 100, max: 599}},
	"metrics.address":                {custom: hostPort(func(c *AppConfig) *string { return &c.Metrics.Address })},
	"metrics.collect":                {unsupported: "custom metric collectors are not supported"},

	"centrifuge.proxy_address": {custom: func(d *appDecoder, n *node, at loc) {
		if s, ok := d.str(n, at); ok {
			if err := checkListenDSN(s, true); err != nil {
				d.st.errorf(at, "%v", err)
				return
			}
			d.cfg.Centrifuge.ProxyAddress = s
		}
	}},
	"centrifuge.grpc_api_address": {custom: func(d *appDecoder, n *node, at loc) {
		if s, ok := d.str(n, at); ok {
			addr, err := normalizeAPIAddress(s)
			if err != nil {
				d.st.errorf(at, "%v", err)
				return
			}
			d.cfg.Centrifuge.GRPCAPIAddress = addr
		}
	}},
	"centrifuge.grpc_api_key": {target: func(c *AppConfig) any { return &c.Centrifuge.GRPCAPIKey }},
	"centrifuge.api_timeout": {custom: func(d *appDecoder, n *node, at loc) {
		var v = d.cfg.Centrifuge.APITimeout
		if d.st.assign(&v, n, at, rules{}) {
			if v == 0 {
				d.st.errorf(at, "must be positive: every API call needs a deadline")
				return
			}
			d.cfg.Centrifuge.APITimeout = v
		}
	}},
	"centrifuge.use_compressor": {target: func(c *AppConfig) any { return &c.Centrifuge.UseCompressor }},
	"centrifuge.sub_refresh_type": {custom: func(d *appDecoder, n *node, at loc) {
		var v string
		if d.st.assign(&v, n, at, rules{}) {
			switch v {
			case "subrefresh", "sub_refresh":
				d.cfg.Centrifuge.SubRefreshType = v
			default:
				d.st.errorf(at, "%q: use \"subrefresh\" (RoadRunner, the default) or \"sub_refresh\" (roadrunner-php/centrifugo 2.x)", v)
			}
		}
	}},
	"centrifuge.name":                  {target: func(c *AppConfig) any { return &c.Centrifuge.Name }},
	"centrifuge.version":               {target: func(c *AppConfig) any { return &c.Centrifuge.Version }},
	"centrifuge.tls.key":               {target: func(c *AppConfig) any { return &c.Centrifuge.TLS.Key }},
	"centrifuge.tls.cert":              {target: func(c *AppConfig) any { return &c.Centrifuge.TLS.Cert }},
	"centrifuge.tls.ca":                {target: func(c *AppConfig) any { return &c.Centrifuge.TLS.CA }},
	"centrifuge.tls.server_name":       {target: func(c *AppConfig) any { return &c.Centrifuge.TLS.ServerName }},
	"centrifuge.proxy_tls.cert":        {target: func(c *AppConfig) any { return &c.Centrifuge.ProxyTLS.Cert }},
	"centrifuge.proxy_tls.key":         {target: func(c *AppConfig) any { return &c.Centrifuge.ProxyTLS.Key }},
	"centrifuge.proxy_tls.client_ca":   {target: func(c *AppConfig) any { return &c.Centrifuge.ProxyTLS.ClientCA }},
	"centrifuge.pool.command":          {custom: func(d *appDecoder, n *node, at loc) { d.cfg.Centrifuge.Pool.Command, _ = d.command(n, at) }},
	"centrifuge.pool.num_workers":      {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.NumWorkers }, rules: rules{max: 500}},
	"centrifuge.pool.max_jobs":         {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.MaxJobs }},
	"centrifuge.pool.max_queue_size":   {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.MaxQueueSize }},
	"centrifuge.pool.allocate_timeout": {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.AllocateTimeout }},
	"centrifuge.pool.destroy_timeout":  {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.DestroyTimeout }},
	"centrifuge.pool.reset_timeout":    {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.ResetTimeout }},
	"centrifuge.pool.stream_timeout": {custom: unsupportedPoolKey(func(c *AppConfig) any { return &c.Centrifuge.Pool.StreamTimeout }, rules{},
		"workers answer with one frame, never a stream")},
	"centrifuge.pool.debug": {custom: unsupportedPoolKey(func(c *AppConfig) any { return &c.Centrifuge.Pool.Debug }, rules{},
		"workers are pre-forked as usual")},
	"centrifuge.pool.supervisor.watch_tick":          {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.Supervisor.WatchTick }},
	"centrifuge.pool.supervisor.ttl":                 {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.Supervisor.TTL }},
	"centrifuge.pool.supervisor.idle_ttl":            {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.Supervisor.IdleTTL }},
	"centrifuge.pool.supervisor.exec_ttl":            {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.Supervisor.ExecTTL }},
	"centrifuge.pool.supervisor.max_worker_memory":   {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.Supervisor.MaxWorkerMemory }},
	"centrifuge.pool.dynamic_allocator.max_workers":  {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.DynamicAllocator.MaxWorkers }},
	"centrifuge.pool.dynamic_allocator.spawn_rate":   {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.DynamicAllocator.SpawnRate }, rules: rules{min: 1}},
	"centrifuge.pool.dynamic_allocator.idle_timeout": {target: func(c *AppConfig) any { return &c.Centrifuge.Pool.DynamicAllocator.IdleTimeout }},
}

// Optional sub-sections that become pointers in AppConfig.
const (
	pathTLS        = "centrifuge.tls"
	pathProxyTLS   = "centrifuge.proxy_tls"
	pathSupervisor = "centrifuge.pool.supervisor"
	pathDynamic    = "centrifuge.pool.dynamic_allocator"
)

var appSchema = buildAppSchema()

func buildAppSchema() *objSchema {
	probe := withAppSections(DefaultAppConfig())
	kinds := map[string]valueKind{}
	for p, k := range appKeys {
		if k.target != nil {
			kinds[p] = kindOfTarget(k.target(probe))
		} else {
			kinds[p] = kindAny // leaf with its own decoder
		}
	}
	return newSchema(kinds, func(p string) string { return p }, func(string) string { return "" })
}

// withAppSections allocates the optional sub-sections with their
// defaults.
func withAppSections(c *AppConfig) *AppConfig {
	c.Centrifuge.TLS = &AppTLS{}
	c.Centrifuge.ProxyTLS = &AppProxyTLS{}
	c.Centrifuge.Pool.Supervisor = defaultSupervisor()
	c.Centrifuge.Pool.DynamicAllocator = defaultDynamicAllocator()
	return c
}

func defaultSupervisor() *PoolSupervisor { return &PoolSupervisor{WatchTick: 5e9} }

func defaultDynamicAllocator() *PoolDynamicAllocator {
	return &PoolDynamicAllocator{MaxWorkers: 10, SpawnRate: 5, IdleTimeout: 60e9}
}

// appDecoder fills an AppConfig from a parsed file.
type appDecoder struct {
	st     *state
	cfg    *AppConfig
	source string
}

func (d *appDecoder) at(line int, key string) loc {
	return loc{source: d.source, line: line, key: key}
}

func (d *appDecoder) decode(root *node) {
	kept := &node{kind: kindObject, line: root.line}
	var unused []member
	present := map[string]*node{}
	for _, m := range root.members {
		switch {
		case appSections[m.key]:
			if m.value.kind == kindNull && m.key != "version" {
				m.value = &node{kind: kindObject, line: m.line} // `rpc:` alone: the section with defaults
			}
			present[m.key] = m.value
			kept.members = append(kept.members, m)
		case rrUnusedSections[m.key]:
			unused = append(unused, m)
		default:
			kept.members = append(kept.members, m) // unknown: walk reports it
		}
	}
	for _, m := range unused {
		d.st.warnf(d.at(m.line, m.key), "RoadRunner section that `spindle app` does not run; ignored")
	}
	emptyNullSections(kept, "")

	if n, _ := objectAt(kept, pathTLS); n != nil {
		d.cfg.Centrifuge.TLS = &AppTLS{}
	}
	if n, _ := objectAt(kept, pathProxyTLS); n != nil {
		d.cfg.Centrifuge.ProxyTLS = &AppProxyTLS{}
	}
	if n, _ := objectAt(kept, pathSupervisor); n != nil {
		d.cfg.Centrifuge.Pool.Supervisor = defaultSupervisor()
	}
	if n, _ := objectAt(kept, pathDynamic); n != nil {
		d.cfg.Centrifuge.Pool.DynamicAllocator = defaultDynamicAllocator()
	}

	d.st.walk(kept, appSchema, d.source, "", "", func(p string, m member, at loc) {
		k := appKeys[p]
		switch {
		case k.unsupported != "":
			if !isZero(m.value) {
				d.st.warnf(at, "%s; ignored", k.unsupported)
			}
		case k.custom != nil:
			k.custom(d, m.value, at)
		default:
			d.st.assign(k.target(d.cfg), m.value, at, k.rules)
		}
	})

	if _, ok := present["rpc"]; ok && d.cfg.RPC.Listen == "" && !d.st.bad["rpc.listen"] {
		d.cfg.RPC.Listen = DefaultAppRPCListen
	}
	if _, ok := present["centrifuge"]; !ok {
		d.st.warnf(loc{source: d.source}, "no centrifuge section: serving proxied events on %s with defaults", DefaultAppProxyAddress)
	}
	d.checkTLS(kept)
}

// emptyNullSections turns `section:` with no value into an empty object
// wherever the schema expects an object, as RoadRunner does.
func emptyNullSections(obj *node, path string) {
	for i := range obj.members {
		m := &obj.members[i]
		p := m.key
		if path != "" {
			p = path + "." + m.key
		}
		if !appSchema.prefixes[p] {
			continue
		}
		if m.value.kind == kindNull {
			m.value = &node{kind: kindObject, line: m.line}
		}
		if m.value.kind == kindObject {
			emptyNullSections(m.value, p)
		}
	}
}

// objectAt returns the object at a dotted path and the line of its key,
// or nil.
func objectAt(n *node, path string) (*node, int) {
	line := 0
	for _, key := range strings.Split(path, ".") {
		if n == nil || n.kind != kindObject {
			return nil, 0
		}
		var next *node
		for _, m := range n.members {
			if m.key == key {
				next, line = m.value, m.line
			}
		}
		n = next
	}
	if n == nil || n.kind != kindObject {
		return nil, 0
	}
	return n, line
}

// checkTLS reads and checks every certificate, key and CA of the
// centrifuge.tls and centrifuge.proxy_tls sections, so that a missing
// file or a mismatched pair fails the load (and checkconfig) naming its
// key, not the first API call or handshake.
func (d *appDecoder) checkTLS(root *node) {
	if t := d.cfg.Centrifuge.TLS; t != nil {
		if sec, line := objectAt(root, pathTLS); sec != nil {
			f := d.tlsFiles(sec, line, pathTLS)
			if t.Key == "" && t.Cert == "" && t.CA == "" && t.ServerName == "" {
				f.fail(f.at(""), "needs key and cert (the client certificate for the API connection), or ca")
			}
			t.CertPEM, t.KeyPEM = f.pair("cert", t.Cert, "key", t.Key, "the API client certificate")
			t.CAPEM = f.ca("ca", t.CA)
		}
	}
	if t := d.cfg.Centrifuge.ProxyTLS; t != nil {
		if sec, line := objectAt(root, pathProxyTLS); sec != nil {
			f := d.tlsFiles(sec, line, pathProxyTLS)
			if t.Cert == "" || t.Key == "" {
				f.fail(f.at(""), "needs cert and key: the certificate the proxy listener presents")
			}
			t.CertPEM, t.KeyPEM = f.pair("cert", t.Cert, "key", t.Key, "the proxy listener certificate")
			t.ClientCAPEM = f.ca("client_ca", t.ClientCA)
		}
	}
}

// tlsSection reads the PEM values of one TLS section, reporting each
// problem at its key once.
type tlsSection struct {
	d    *appDecoder
	sec  *node
	line int
	path string
}

func (d *appDecoder) tlsFiles(sec *node, line int, path string) *tlsSection {
	return &tlsSection{d: d, sec: sec, line: line, path: path}
}

// at locates a key of the section; "" is the section itself.
func (f *tlsSection) at(key string) loc {
	if key == "" {
		return f.d.at(f.line, f.path)
	}
	line := f.line
	for _, m := range f.sec.members {
		if m.key == key {
			line = m.line
		}
	}
	return f.d.at(line, f.path+"."+key)
}

func (f *tlsSection) fail(at loc, format string, args ...any) {
	if !f.d.st.bad[at.key] {
		f.d.st.errorf(at, format, args...)
	}
}

func (f *tlsSection) read(key, v string) []byte {
	if v == "" || f.d.st.bad[f.path+"."+key] {
		return nil
	}
	b, err := resolvePEM(v)
	if err != nil {
		f.fail(f.at(key), "%v", err)
	}
	return b
}

// pair reads a certificate and its key, which go together and must match.
func (f *tlsSection) pair(certKey, cert, keyKey, key, what string) (certPEM, keyPEM []byte) {
	if (cert == "") != (key == "") {
		f.fail(f.at(""), "needs both %s and %s (%s)", keyKey, certKey, what)
	}
	certPEM, keyPEM = f.read(certKey, cert), f.read(keyKey, key)
	if certPEM != nil && keyPEM != nil {
		if err := checkKeyPair(certPEM, keyPEM); err != nil {
			f.fail(f.at(keyKey), "%v", err)
			return nil, nil
		}
	}
	return certPEM, keyPEM
}

// ca reads a CA bundle, which must hold a certificate.
func (f *tlsSection) ca(key, v string) []byte {
	b := f.read(key, v)
	if b == nil {
		return nil
	}
	if err := checkCABundle(b); err != nil {
		f.fail(f.at(key), "%v", err)
		return nil
	}
	return b
}

// str decodes a string value.
func (d *appDecoder) str(n *node, at loc) (string, bool) {
	var s string
	ok := d.st.assign(&s, n, at, rules{})
	return s, ok
}

// command decodes a worker command: a string split on whitespace, or a
// list used verbatim.
func (d *appDecoder) command(n *node, at loc) ([]string, bool) {
	if n.kind == kindString {
		return strings.Fields(n.text), true
	}
	var l []string
	if !d.st.assign(&l, n, at, rules{}) {
		return nil, false
	}
	return l, true
}

// env decodes server.env; scalar values of any kind become text, keys
// are upper-cased as RoadRunner does.
func (d *appDecoder) env(n *node, at loc) {
	if n.kind != kindObject {
		d.st.errorf(at, "must be an object of NAME: value pairs, got %s", describeNode(n))
		return
	}
	out := map[string]string{}
	seen := map[string]int{}
	for _, m := range n.members {
		mat := d.at(lineOr(m.line, at.line), at.key+"."+m.key)
		name := strings.ToUpper(m.key)
		if first, dup := seen[name]; dup {
			d.st.errorf(mat, "sets %s again (first at line %d; names are upper-cased)", name, first)
			continue
		}
		seen[name] = mat.line
		switch m.value.kind {
		case kindString, kindNumber, kindBool:
			out[name] = m.value.text
		case kindNull:
			out[name] = ""
		default:
			d.st.errorf(mat, "must be a string, got %s", describeNode(m.value))
		}
	}
	d.cfg.Server.Env = out
}

// hostPort decodes a listener address given as host:port (RoadRunner's
// status.address and metrics.address form).
func hostPort(field func(*AppConfig) *string) func(*appDecoder, *node, loc) {
	return func(d *appDecoder, n *node, at loc) {
		s, ok := d.str(n, at)
		if !ok {
			return
		}
		_, port, err := net.SplitHostPort(s)
		if err == nil {
			if p, perr := strconv.ParseUint(port, 10, 16); perr != nil || strings.Contains(s, "://") {
				err = fmt.Errorf("bad port %q", port)
			} else if p == 0 {
				err = fmt.Errorf("port 0")
			}
		}
		if err != nil {
			d.st.errorf(at, "want host:port, e.g. 127.0.0.1:2114: %v", err)
			return
		}
		*field(d.cfg) = s
	}
}

// version accepts `version: '3'`; other values load with a warning.
func (d *appDecoder) version(n *node, at loc) {
	switch n.kind {
	case kindString:
		d.cfg.Version = n.text
	case kindNumber:
		d.cfg.Version = n.text
		d.st.warnf(at, "should be a string: write version: '%s' (RoadRunner rejects a number)", n.text)
		return
	default:
		d.st.errorf(at, "must be a string such as '3', got %s", describeNode(n))
		return
	}
	if v := d.cfg.Version; v != "3" && v != "3.0" {
		d.st.warnf(at, "config version %q: RoadRunner's current format is '3'", v)
	}
}

// unsupportedPoolKey decodes a RoadRunner pool key Spindle reads but does
// not act on, and says so where checkconfig and the start-up log show it
// (unless set to its zero value: `debug: false` asks for nothing).
func unsupportedPoolKey(target func(*AppConfig) any, r rules, instead string) func(*appDecoder, *node, loc) {
	return func(d *appDecoder, n *node, at loc) {
		ptr := target(d.cfg)
		if d.st.assign(ptr, n, at, r) && !reflect.ValueOf(ptr).Elem().IsZero() {
			d.st.warnf(at, "not supported: %s", instead)
		}
	}
}
