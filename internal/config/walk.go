package config

import (
	"fmt"
	"sort"
	"strings"
)

// objSchema describes the keys allowed in one kind of object (the top
// level, a namespace, a proxy…). Dotted keys describe nested objects
// (v6 layout).
type objSchema struct {
	kinds    map[string]valueKind
	prefixes map[string]bool
	names    []string // spellings and prefixes, for did-you-mean
	// canon maps a spelling to the setting it controls, so two spellings
	// of one setting in the same object are caught.
	canon func(path string) string
	// hint adds advice to an unknown-key error.
	hint func(path string) string
}

func newSchema(kinds map[string]valueKind, canon func(string) string, hint func(string) string) *objSchema {
	sc := &objSchema{kinds: kinds, prefixes: map[string]bool{}, canon: canon, hint: hint}
	all := map[string]bool{}
	for k := range kinds {
		all[k] = true
		parts := strings.Split(k, ".")
		for i := 1; i < len(parts); i++ {
			p := strings.Join(parts[:i], ".")
			sc.prefixes[p] = true
			all[p] = true
		}
	}
	for k := range all {
		sc.names = append(sc.names, k)
	}
	sort.Strings(sc.names)
	return sc
}

// walk visits every known key of obj, descending into nested v6 objects,
// and reports unknown and duplicated keys. display prefixes key names in
// messages ("namespaces[2]."); in names the enclosing object for
// unknown-key messages ("" at top level).
func (st *state) walk(obj *node, sc *objSchema, source, display, in string, visit func(path string, m member, at loc)) {
	seen := map[string]loc{}
	st.walkAt(obj, sc, source, display, in, "", seen, visit)
}

func (st *state) walkAt(obj *node, sc *objSchema, source, display, in, path string, seen map[string]loc, visit func(string, member, loc)) {
	for _, m := range obj.members {
		p := m.key
		if path != "" {
			p = path + "." + m.key
		}
		at := loc{source: source, line: lineOr(m.line, obj.line), key: display + p}
		kind, known := sc.kinds[p]
		leaf := known && (kind == vStringMap || kind == kindAny)
		if m.value.kind == kindObject && sc.prefixes[p] && !leaf {
			st.walkAt(m.value, sc, source, display, in, p, seen, visit)
			continue
		}
		if !known {
			if sc.prefixes[p] {
				st.errorf(at, "must be an object, got %s", describeNode(m.value))
				continue
			}
			st.unknownKey(at, p, in, suggest(p, sc.names), sc.hint(p))
			continue
		}
		c := sc.canon(p)
		if first, dup := seen[c]; dup {
			what := "set twice"
			if first.key != at.key {
				what = fmt.Sprintf("sets the same option as %q", first.key)
			}
			if first.line > 0 {
				st.errorf(at, "%s (first at line %d)", what, first.line)
			} else {
				st.errorf(at, "%s", what)
			}
			continue
		}
		seen[c] = at
		if m.value.kind == kindNull {
			// null means "not set"; often a template that found no value,
			// so say so rather than let the default apply unnoticed.
			st.warnf(at, "null: not set, the default applies")
			continue
		}
		visit(p, m, at)
	}
}

func (st *state) unknownKey(at loc, name, in, suggestion, hint string) {
	msg := fmt.Sprintf("unknown key %q", name)
	if in != "" {
		msg += " in " + in
	}
	if suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", suggestion)
	}
	if hint != "" {
		msg += "; " + hint
	}
	st.errs = append(st.errs, &Error{Source: at.source, Line: at.line, Key: at.key, Msg: msg, keyInMsg: true})
}
