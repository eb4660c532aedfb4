package config

import "strings"

// envMap indexes an os.Environ()-style list; later entries win.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// expandNodeEnv expands environment references in every string value of
// the tree. Expanded values are marked fromText, so "true" or "4" coming
// from a variable decode into booleans and numbers as they would from
// the environment.
func expandNodeEnv(st *state, n *node, source string, env map[string]string) {
	switch n.kind {
	case kindString:
		out, unset, changed := expandEnv(n.text, env)
		if !changed {
			return
		}
		n.text, n.fromText = out, true
		for _, name := range unset {
			st.warns = append(st.warns, Warning{Source: source, Line: n.line,
				Msg: "environment variable " + name + " is not set; it expands to an empty string"})
		}
	case kindArray:
		for _, it := range n.items {
			expandNodeEnv(st, it, source, env)
		}
	case kindObject:
		for _, m := range n.members {
			expandNodeEnv(st, m.value, source, env)
		}
	}
}

// expandEnv replaces ${NAME}, ${NAME:-default} (default when NAME is
// unset or empty) and $NAME. A `$` not followed by a name or a
// well-formed ${…} is kept as is, so passwords with a lone `$` survive.
func expandEnv(s string, env map[string]string) (out string, unset []string, changed bool) {
	if !strings.Contains(s, "$") {
		return s, nil, false
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteByte(s[i])
				i++
				continue
			}
			inner := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(inner, ":-")
			if !isEnvName(name) {
				b.WriteByte(s[i])
				i++
				continue
			}
			v, ok := env[name]
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				unset = append(unset, name)
			}
			b.WriteString(v)
			changed = true
			i += 2 + end + 1
			continue
		}
		j := i + 1
		for j < len(s) && isEnvNameByte(s[j], j == i+1) {
			j++
		}
		if j == i+1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		name := s[i+1 : j]
		v, ok := env[name]
		if !ok {
			unset = append(unset, name)
		}
		b.WriteString(v)
		changed = true
		i = j
	}
	return b.String(), unset, changed
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isEnvNameByte(s[i], i == 0) {
			return false
		}
	}
	return true
}

func isEnvNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}
