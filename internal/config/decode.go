package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loc says where a value came from, for errors and warnings.
type loc struct {
	source string // file path, "env", "flags"
	line   int
	key    string // as written, with any path prefix
}

// errorf records a problem once: a shared v5 proxy option is checked in
// every per-event proxy that inherits it, and should be named only once.
func (st *state) errorf(at loc, format string, args ...any) {
	e := &Error{Source: at.source, Line: at.line, Key: at.key, Msg: fmt.Sprintf(format, args...)}
	for _, old := range st.errs {
		if old.Source == e.Source && old.Line == e.Line && old.Key == e.Key && old.Msg == e.Msg {
			return
		}
	}
	st.errs = append(st.errs, e)
}

// warnf records a warning once, like errorf.
func (st *state) warnf(at loc, format string, args ...any) {
	w := Warning{Source: at.source, Line: at.line, Key: at.key, Msg: fmt.Sprintf(format, args...)}
	for _, old := range st.warns {
		if old == w {
			return
		}
	}
	st.warns = append(st.warns, w)
}

// describeNode names a value in "got …" messages.
func describeNode(n *node) string {
	switch n.kind {
	case kindString:
		return fmt.Sprintf("string %q", n.text)
	case kindNumber:
		return "number " + n.text
	case kindBool:
		return n.text
	}
	return n.kind.String()
}

// assign decodes n into the field ptr points to, enforcing r. It records
// an error and returns false when the value does not fit.
func (st *state) assign(ptr any, n *node, at loc, r rules) (ok bool) {
	defer func() {
		if !ok {
			st.bad[at.key] = true
		}
	}()
	switch p := ptr.(type) {
	case *string:
		s, ok := st.decodeString(n, at, r)
		if ok {
			*p = s
		}
		return ok
	case *bool:
		b, ok := st.decodeBool(n, at)
		if ok {
			*p = b
		}
		return ok
	case *int:
		i, ok := st.decodeInt(n, at, r)
		if ok {
			*p = i
		}
		return ok
	case *int64:
		i, ok := st.decodeInteger(n, at, r, 64)
		if ok {
			*p = i
		}
		return ok
	case *time.Duration:
		d, ok := st.decodeDuration(n, at, r)
		if ok {
			*p = d
		}
		return ok
	case *[]string:
		l, ok := st.decodeStrings(n, at, r)
		if ok {
			*p = l
		}
		return ok
	case *map[string]string:
		m, ok := st.decodeStringMap(n, at)
		if ok {
			*p = m
		}
		return ok
	}
	st.errorf(at, "internal: no decoder for %T", ptr)
	return false
}

func (st *state) decodeString(n *node, at loc, r rules) (string, bool) {
	if n.kind != kindString {
		st.errorf(at, "must be a string, got %s", describeNode(n))
		return "", false
	}
	if len(r.oneOf) > 0 {
		for _, v := range r.oneOf {
			if n.text == v {
				return n.text, true
			}
		}
		msg := fmt.Sprintf("invalid value %q: must be one of %s", n.text, quoteList(r.oneOf))
		if s := suggest(n.text, r.oneOf); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		st.errorf(at, "%s", msg)
		return "", false
	}
	return n.text, true
}

func quoteList(vals []string) string {
	q := make([]string, 0, len(vals))
	for _, v := range vals {
		q = append(q, strconv.Quote(v))
	}
	return strings.Join(q, ", ")
}

func (st *state) decodeBool(n *node, at loc) (bool, bool) {
	if n.kind == kindBool {
		return n.text == "true", true
	}
	if n.fromText {
		b, err := strconv.ParseBool(strings.TrimSpace(n.text))
		if err == nil {
			return b, true
		}
	}
	st.errorf(at, "must be true or false, got %s", describeNode(n))
	return false, false
}

func (st *state) decodeInt(n *node, at loc, r rules) (int, bool) {
	v, ok := st.decodeInteger(n, at, r, strconv.IntSize)
	return int(v), ok
}

// decodeInteger reads a whole number that fits in bits bits (a Unix time
// is an int64 even where int is 32 bits wide).
func (st *state) decodeInteger(n *node, at loc, r rules, bits int) (int64, bool) {
	var text string
	switch n.kind {
	case kindNumber:
		text = n.text
	case kindString:
		// Centrifugo documents port as a string ("8000"); accept integer
		// strings for every int key.
		text = strings.TrimSpace(n.text)
	default:
		st.errorf(at, "must be a whole number, got %s", describeNode(n))
		return 0, false
	}
	v, err := strconv.ParseInt(text, 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			st.errorf(at, "number %s is out of range", text)
		} else {
			st.errorf(at, "must be a whole number, got %s", describeNode(n))
		}
		return 0, false
	}
	if v < int64(r.min) {
		if r.min == 0 {
			st.errorf(at, "must not be negative, got %d", v)
		} else {
			st.errorf(at, "must be at least %d, got %d", r.min, v)
		}
		return 0, false
	}
	if r.max > 0 && v > int64(r.max) {
		st.errorf(at, "must be at most %d, got %d", r.max, v)
		return 0, false
	}
	return v, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeDuration accepts Go duration strings only: a bare number is
// ambiguous (seconds? nanoseconds?) and Centrifugo rejects it too, except
// 0.
func (st *state) decodeDuration(n *node, at loc, r rules) (time.Duration, bool) {
	var d time.Duration
	switch n.kind {
	case kindNumber:
		if f, err := strconv.ParseFloat(n.text, 64); err == nil && f == 0 {
			return 0, true
		}
		st.errorf(at, "bare number %s is not a duration: write it with a unit, e.g. \"%ss\" or \"%sms\"", n.text, n.text, n.text)
		return 0, false
	case kindString:
		text := strings.TrimSpace(n.text)
		if text == "0" {
			return 0, true
		}
		var err error
		d, err = time.ParseDuration(text)
		if err != nil {
			if allDigits(text) {
				st.errorf(at, "duration %q has no unit: write e.g. \"%ss\" or \"%sms\"", text, text, text)
			} else {
				st.errorf(at, "invalid duration %q: use Go duration strings such as \"500ms\", \"10s\", \"1m30s\"", text)
			}
			return 0, false
		}
	default:
		st.errorf(at, "must be a duration string such as \"10s\", got %s", describeNode(n))
		return 0, false
	}
	switch {
	case d < 0:
		st.errorf(at, "must not be negative, got %s", d)
		return 0, false
	case d%time.Millisecond != 0:
		st.errorf(at, "duration %s is finer than the 1ms resolution", d)
		return 0, false
	case r.wholeSeconds && d%time.Second != 0:
		st.errorf(at, "must be whole seconds, got %s", d)
		return 0, false
	}
	return d, true
}

func (st *state) decodeStrings(n *node, at loc, r rules) ([]string, bool) {
	if n.kind == kindString && (r.stringOrList || n.fromText) {
		if n.fromText {
			return strings.Fields(n.text), true
		}
		return []string{n.text}, true
	}
	if n.kind != kindArray {
		st.errorf(at, "must be an array of strings, got %s", describeNode(n))
		return nil, false
	}
	out := make([]string, 0, len(n.items))
	ok := true
	for i, it := range n.items {
		if it.kind != kindString {
			st.errorf(loc{source: at.source, line: lineOr(it.line, at.line), key: fmt.Sprintf("%s[%d]", at.key, i)},
				"must be a string, got %s", describeNode(it))
			ok = false
			continue
		}
		out = append(out, it.text)
	}
	return out, ok
}

func (st *state) decodeStringMap(n *node, at loc) (map[string]string, bool) {
	if n.kind != kindObject {
		st.errorf(at, "must be an object of string values, got %s", describeNode(n))
		return nil, false
	}
	out := make(map[string]string, len(n.members))
	ok := true
	for _, m := range n.members {
		mat := loc{source: at.source, line: lineOr(m.line, at.line), key: at.key + "." + m.key}
		if _, dup := out[m.key]; dup {
			st.errorf(mat, "duplicate key")
			ok = false
			continue
		}
		if m.value.kind != kindString {
			st.errorf(mat, "must be a string, got %s", describeNode(m.value))
			ok = false
			continue
		}
		out[m.key] = m.value.text
	}
	return out, ok
}

func lineOr(line, fallback int) int {
	if line > 0 {
		return line
	}
	return fallback
}

// isZero reports whether a value is "off" (null, false, 0, "", empty), so
// that unsupported keys left at their defaults stay silent.
func isZero(n *node) bool {
	switch n.kind {
	case kindNull:
		return true
	case kindBool:
		return n.text == "false"
	case kindNumber:
		f, err := strconv.ParseFloat(n.text, 64)
		return err == nil && f == 0
	case kindString:
		t := strings.TrimSpace(n.text)
		if n.fromText {
			return t == "" || t == "0" || strings.EqualFold(t, "false")
		}
		return t == ""
	case kindArray:
		return len(n.items) == 0
	case kindObject:
		return len(n.members) == 0
	}
	return false
}

// textNode turns an environment or flag value into a node of the shape
// the key expects: arrays are space-separated (or a JSON array), maps
// and object lists are JSON.
func textNode(kind valueKind, value string) (*node, error) {
	switch kind {
	case vStrings:
		if strings.HasPrefix(strings.TrimSpace(value), "[") {
			return parseJSONC([]byte(value))
		}
		n := &node{kind: kindArray}
		for _, f := range strings.Fields(value) {
			n.items = append(n.items, &node{kind: kindString, text: f})
		}
		return n, nil
	case vStringMap, vObjects:
		n, err := parseJSONC([]byte(value))
		if err != nil {
			return nil, fmt.Errorf("must be JSON: %w", err)
		}
		return n, nil
	}
	return &node{kind: kindString, text: value, fromText: true}, nil
}
