package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseJSONC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"plain", `{"a": 1, "b": [true, null, "x"]}`, map[string]any{"a": numberText("1"), "b": []any{true, nil, "x"}}},
		{"line comment", "{\n  // ...\n  \"a\": \"b\" // trailing\n}", map[string]any{"a": "b"}},
		{"block comment", "{/* multi\nline */\"a\":/**/2}", map[string]any{"a": numberText("2")}},
		{"comment marker inside string", `{"url": "http://x//y/*z*/"}`, map[string]any{"url": "http://x//y/*z*/"}},
		{"trailing commas", `{"a": [1, 2,], "b": {"c": 3,},}`, map[string]any{"a": []any{numberText("1"), numberText("2")}, "b": map[string]any{"c": numberText("3")}}},
		{"escapes", `{"s": "a\"b\\c\u00e9\n"}`, map[string]any{"s": "a\"b\\c\u00e9\n"}},
		{"bom", "\xEF\xBB\xBF{}", map[string]any{}},
		{"numbers", `[0, -1.5e3, 2E-2]`, []any{numberText("0"), numberText("-1.5e3"), numberText("2E-2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseJSONC([]byte(tt.in))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := n.toAny(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseJSONCErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		line     int
		contains string
	}{
		{"missing comma", "{\n\"a\": 1\n\"b\": 2}", 3, "missing comma"},
		{"unterminated comment", "{\n/* oops\n", 2, "unterminated"},
		{"bare word", "{\n\"a\": yes}", 2, "expected a value"},
		{"lone comma", "[,]", 1, "expected a value"},
		{"double comma", "[1,,2]", 1, "expected a value"},
		{"newline in string", "{\"a\": \"x\ny\"}", 1, "control character"},
		{"trailing garbage", "{} {}", 1, "after the top-level value"},
		{"empty", "  // nothing\n", 2, "empty document"},
		{"single quotes", "{'a': 1}", 1, "quoted key"},
		{"leading zero", "[01]", 1, "expected ','"},
		{"bad escape", `{"a": "\q"}`, 1, "invalid string escape"},
		{"too deep", strings.Repeat("[", maxDepth+5), 1, "nesting deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseJSONC([]byte(tt.in))
			se, ok := err.(*syntaxError)
			if !ok {
				t.Fatalf("want *syntaxError, got %T %v", err, err)
			}
			if se.line != tt.line || !strings.Contains(se.msg, tt.contains) {
				t.Fatalf("got line %d %q, want line %d containing %q", se.line, se.msg, tt.line, tt.contains)
			}
		})
	}
}

func TestParseJSONCKeepsKeyLines(t *testing.T) {
	n, err := parseJSONC([]byte("{\n  \"a\": 1,\n\n  \"b\": {\n    \"c\": 2\n  }\n}"))
	if err != nil {
		t.Fatal(err)
	}
	if n.members[0].line != 2 || n.members[1].line != 4 || n.members[1].value.members[0].line != 5 {
		t.Fatalf("lines: a=%d b=%d c=%d", n.members[0].line, n.members[1].line, n.members[1].value.members[0].line)
	}
}

// jsonEquivalent converts encoding/json output to toAny's shape.
func jsonEquivalent(v any) any {
	switch x := v.(type) {
	case json.Number:
		return numberText(x)
	case []any:
		for i := range x {
			x[i] = jsonEquivalent(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = jsonEquivalent(x[k])
		}
		return x
	}
	return v
}

// FuzzParseJSONC checks that the reader never panics and that on
// standard JSON it agrees with encoding/json.
func FuzzParseJSONC(f *testing.F) {
	for _, s := range []string{
		`{"a": 1}`, "{\n// c\n\"a\": [1, 2,],}", `{"s": "\u00e9\"\\"}`, `[1e5, -0.5, true, false, null]`,
		"/* x */ {}", `{"a": {"b": {"c": []}}}`, "{\"a\":\"\\ud83d\\ude00\"}", `{"a":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseJSONC(data)
		if !json.Valid(data) {
			return
		}
		if err != nil {
			// Our reader is a superset of JSON, except for nesting depth.
			if strings.Contains(err.Error(), "nesting deeper") {
				return
			}
			t.Fatalf("valid JSON rejected: %v\n%q", err, data)
		}
		if hasDuplicateKeys(n) {
			return // encoding/json keeps the last, we keep all members
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if got := n.toAny(); !reflect.DeepEqual(got, jsonEquivalent(want)) {
			t.Fatalf("mismatch on %q:\n got %#v\nwant %#v", data, got, want)
		}
	})
}

func hasDuplicateKeys(n *node) bool {
	seen := map[string]bool{}
	for _, m := range n.members {
		if seen[m.key] || hasDuplicateKeys(m.value) {
			return true
		}
		seen[m.key] = true
	}
	for _, it := range n.items {
		if hasDuplicateKeys(it) {
			return true
		}
	}
	return false
}
