package config

import (
	"sort"
	"strings"
	"time"
)

// valueKind is the type of value a key accepts.
type valueKind uint8

const (
	kindAny valueKind = iota // recognised-but-unsupported keys: any value
	vString
	vBool
	vInt
	vDuration
	vStrings
	vStringMap
	vObjects // arrays of objects with their own keys (namespaces, proxies…)
)

// typeName is how docs and errors name a kind.
func (k valueKind) typeName() string {
	switch k {
	case vString:
		return "string"
	case vBool:
		return "bool"
	case vInt:
		return "int"
	case vDuration:
		return "duration"
	case vStrings:
		return "[]string"
	case vStringMap:
		return "map[string]string"
	case vObjects:
		return "[]object"
	}
	return "any"
}

// kindOfTarget derives the value kind from the Go type a key writes to,
// so the tables below cannot disagree with the structs.
func kindOfTarget(p any) valueKind {
	switch p.(type) {
	case *string:
		return vString
	case *bool:
		return vBool
	case *int, *int64:
		return vInt
	case *time.Duration:
		return vDuration
	case *[]string:
		return vStrings
	case *map[string]string:
		return vStringMap
	}
	return kindAny
}

// rules are per-key value constraints checked while decoding.
type rules struct {
	min, max     int      // ints: inclusive range; max 0 means none
	wholeSeconds bool     // durations that Centrifugo stores in seconds
	oneOf        []string // strings: allowed values
	stringOrList bool     // []string keys that also take one string
}

// keyDef describes one top-level key and every spelling of it.
type keyDef struct {
	// name is the canonical spelling: the flat v4/v5 key, or the v6 path
	// for the few v6-only keys (v6only).
	name string
	// aliases are other accepted spellings: v6 nested paths (dotted) and
	// legacy names.
	aliases []string
	// notes are warnings issued when a given spelling is used.
	notes map[string]string
	// target returns the field the value is written to; nil for keys that
	// Spindle recognises but does not implement.
	target func(st *state) any
	// decode handles structured values (namespaces, proxies…).
	decode func(st *state, n *node, at loc)
	kind   valueKind
	rules
	def         string // default, as text, for docs
	doc         string
	unsupported bool
	// ignored replaces the generic warning of an unsupported key that
	// Spindle ignores on purpose; it is issued whenever the key is set.
	ignored string
	v6only  bool
	// secret keys hold credentials: a value of the wrong type is refused
	// without echoing it (describeNode would quote it), and they document
	// no default (a test checks).
	secret bool
	// pass2 keys are applied after the shared proxy options so that a v6
	// per-proxy option overrides the v5 shared one.
	pass2 bool
}

// spellings lists the canonical name followed by the aliases.
func (d *keyDef) spellings() []string {
	return append([]string{d.name}, d.aliases...)
}

// registry is the immutable key index built once at start-up.
type registry struct {
	defs     []*keyDef
	byName   map[string]*keyDef // every spelling
	prefixes map[string]bool    // every proper prefix of a dotted spelling
	byEnv    map[string]*keyDef // CENTRIFUGO_ suffix, upper-case
	names    []string           // every spelling and prefix, sorted (did-you-mean)
}

// reg and topSchema are built in init, not in variable initialisers,
// because the key tables refer to decoders that consult reg themselves.
var (
	reg       *registry
	topSchema *objSchema
)

func init() {
	reg = buildRegistry()
	topSchema = buildTopSchema()
}

func buildRegistry() *registry {
	r := &registry{
		byName:   map[string]*keyDef{},
		prefixes: map[string]bool{},
		byEnv:    map[string]*keyDef{},
	}
	var defs []*keyDef
	defs = append(defs, serverKeys()...)
	defs = append(defs, clientKeys()...)
	defs = append(defs, rateLimitKeys()...)
	defs = append(defs, tokenKeys()...)
	defs = append(defs, channelKeys()...)
	defs = append(defs, proxyKeys()...)
	defs = append(defs, apiKeys()...)
	defs = append(defs, engineKeys()...)
	defs = append(defs, mapBrokerKeys()...)
	defs = append(defs, sharedPollKeys()...)
	defs = append(defs, unsupportedKeys()...)
	probe := newState()
	for _, d := range defs {
		if d.target != nil {
			d.kind = kindOfTarget(d.target(probe))
		}
		r.defs = append(r.defs, d)
		for _, s := range d.spellings() {
			if _, dup := r.byName[s]; !dup {
				r.byName[s] = d
			}
			env := envName(s)
			if _, dup := r.byEnv[env]; !dup {
				r.byEnv[env] = d
			}
			parts := strings.Split(s, ".")
			for i := 1; i < len(parts); i++ {
				r.prefixes[strings.Join(parts[:i], ".")] = true
			}
		}
	}
	seen := map[string]bool{}
	for s := range r.byName {
		seen[s] = true
	}
	for s := range r.prefixes {
		seen[s] = true
	}
	for s := range seen {
		r.names = append(r.names, s)
	}
	sort.Strings(r.names)
	return r
}

// envName is the CENTRIFUGO_ suffix of a spelling: upper-cased, dots
// replaced by underscores.
func envName(spelling string) string {
	return strings.ToUpper(strings.ReplaceAll(spelling, ".", "_"))
}
