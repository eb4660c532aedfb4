package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"go.yaml.in/yaml/v3"
)

// parseFile picks the reader by file extension and returns the document
// as a node tree. The error carries the line when the format reports one.
func parseFile(name string, data []byte) (n *node, err error) {
	// The YAML and TOML libraries are third-party code; a panic on odd
	// input must become a config error, not a crashed server.
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("parser failure: %v", r)
		}
	}()
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".json":
		return parseJSONC(data)
	case ".yaml", ".yml":
		return parseYAML(data)
	case ".toml":
		return parseTOML(data)
	default:
		return nil, fmt.Errorf("unsupported config file extension %q (use .json, .yaml, .yml or .toml)", ext)
	}
}

// maxAliasExpansions bounds YAML alias resolution ("billion laughs").
const maxAliasExpansions = 10000

func parseYAML(data []byte) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &node{kind: kindObject, line: 1}, nil // empty file
	}
	budget := maxAliasExpansions
	return fromYAML(doc.Content[0], 0, &budget)
}

func fromYAML(y *yaml.Node, depth int, budget *int) (*node, error) {
	if depth > maxDepth {
		return nil, &syntaxError{line: y.Line, col: y.Column, msg: "nesting too deep"}
	}
	switch y.Kind {
	case yaml.AliasNode:
		*budget--
		if *budget < 0 || y.Alias == nil {
			return nil, &syntaxError{line: y.Line, col: y.Column, msg: "too many alias expansions"}
		}
		n, err := fromYAML(y.Alias, depth+1, budget)
		if err != nil {
			return nil, err
		}
		// Report problems at the place the alias is used.
		cp := *n
		cp.line = y.Line
		return &cp, nil
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: kindNull, line: y.Line}, nil
		}
		return fromYAML(y.Content[0], depth+1, budget)
	case yaml.MappingNode:
		n := &node{kind: kindObject, line: y.Line}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, &syntaxError{line: k.Line, col: k.Column, msg: "mapping keys must be plain strings"}
			}
			if k.Tag == "!!merge" {
				return nil, &syntaxError{line: k.Line, col: k.Column, msg: "YAML merge keys (<<) are not supported; repeat the keys"}
			}
			val, err := fromYAML(v, depth+1, budget)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key: k.Value, line: k.Line, value: val})
		}
		return n, nil
	case yaml.SequenceNode:
		n := &node{kind: kindArray, line: y.Line}
		for _, it := range y.Content {
			val, err := fromYAML(it, depth+1, budget)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, val)
		}
		return n, nil
	case yaml.ScalarNode:
		return yamlScalar(y)
	}
	return nil, &syntaxError{line: y.Line, col: y.Column, msg: "unsupported YAML node"}
}

// yamlScalar maps YAML's resolved scalar tags onto JSON kinds, so that
// `port: 8000` is a number, `ping_interval: 25s` a string and `yes` stays
// the string "yes" (YAML 1.2 rules, as yaml.v3 resolves them).
func yamlScalar(y *yaml.Node) (*node, error) {
	n := &node{line: y.Line}
	switch y.ShortTag() {
	case "!!null":
		n.kind = kindNull
	case "!!bool":
		var b bool
		if err := y.Decode(&b); err != nil {
			return nil, &syntaxError{line: y.Line, col: y.Column, msg: err.Error()}
		}
		n.kind, n.text = kindBool, strconv.FormatBool(b)
	case "!!int":
		var i int64
		if err := y.Decode(&i); err != nil {
			return nil, &syntaxError{line: y.Line, col: y.Column, msg: err.Error()}
		}
		n.kind, n.text = kindNumber, strconv.FormatInt(i, 10)
	case "!!float":
		var f float64
		if err := y.Decode(&f); err != nil {
			return nil, &syntaxError{line: y.Line, col: y.Column, msg: err.Error()}
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &syntaxError{line: y.Line, col: y.Column, msg: "infinite or NaN numbers are not allowed"}
		}
		n.kind, n.text = kindNumber, strconv.FormatFloat(f, 'g', -1, 64)
	default: // !!str, !!timestamp, !!binary and custom tags keep their text
		n.kind, n.text = kindString, y.Value
	}
	return n, nil
}

// parseTOML decodes TOML into a node tree. The TOML library does not
// expose key positions, so these nodes carry no line numbers; keys are
// ordered alphabetically to keep error order stable.
// parseTOML decodes with go-toml (which owns TOML's rules: types, tables,
// duplicate keys) and then takes each key's line from go-toml's own parser,
// so TOML problems are reported at their line like JSON and YAML ones.
func parseTOML(data []byte) (*node, error) {
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &syntaxError{line: line, col: col, msg: tomlMessage(de)}
		}
		return nil, fmt.Errorf("toml: %w", err)
	}
	return fromTOML(m, 0, "", tomlKeyLines(data))
}

// tomlMessage is go-toml's message without its own position prefix.
func tomlMessage(de *toml.DecodeError) string {
	msg := de.Error()
	if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "toml: ") && i >= 0 {
		return msg[i+3:]
	}
	return strings.TrimPrefix(msg, "toml: ")
}

// tomlPath joins key path parts the way fromTOML looks them up: "a.b" for
// nested keys, "a[2]" for the third table of an array.
func tomlPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// tomlKeyLines maps every key path of a decoded document to the line the
// key is written on. Table headers count as the place of their table, and
// the i-th [[array]] header as the place of its i-th table.
func tomlKeyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	lineOf := func(n *unstable.Node) int { return p.Shape(n.Raw).Start.Line }
	// keyPath extends base by a (possibly dotted) key, recording a line
	// for each prefix not seen yet.
	keyPath := func(base string, it unstable.Iterator) string {
		path := base
		for it.Next() {
			k := it.Node()
			path = tomlPath(path, string(k.Data))
			if _, ok := lines[path]; !ok {
				lines[path] = lineOf(k)
			}
		}
		return path
	}
	var value func(path string, v *unstable.Node)
	value = func(path string, v *unstable.Node) {
		switch v.Kind {
		case unstable.InlineTable:
			for it := v.Children(); it.Next(); {
				kv := it.Node()
				value(keyPath(path, kv.Key()), kv.Value())
			}
		case unstable.Array:
			i := 0
			for it := v.Children(); it.Next(); i++ {
				item := it.Node()
				ip := path + "[" + strconv.Itoa(i) + "]"
				if _, ok := lines[ip]; !ok && item.Raw.Length > 0 {
					lines[ip] = lineOf(item)
				}
				value(ip, item)
			}
		}
	}
	current := ""
	arrays := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			current = keyPath("", e.Key())
		case unstable.ArrayTable:
			head := keyPath("", e.Key())
			i := arrays[head]
			arrays[head] = i + 1
			current = head + "[" + strconv.Itoa(i) + "]"
			if it := e.Key(); it.Next() {
				lines[current] = lineOf(it.Node())
			}
		case unstable.KeyValue:
			value(keyPath(current, e.Key()), e.Value())
		}
	}
	return lines
}

// fromTOML converts go-toml's decoded values into the node tree, with the
// line of each key from lines (0 where none is known).
func fromTOML(v any, depth int, path string, lines map[string]int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("toml: nesting too deep")
	}
	line := lines[path]
	switch x := v.(type) {
	case nil:
		return &node{kind: kindNull, line: line}, nil
	case bool:
		return &node{kind: kindBool, line: line, text: strconv.FormatBool(x)}, nil
	case int64:
		return &node{kind: kindNumber, line: line, text: strconv.FormatInt(x, 10)}, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, &syntaxError{line: line, msg: "infinite or NaN numbers are not allowed"}
		}
		return &node{kind: kindNumber, line: line, text: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case string:
		return &node{kind: kindString, line: line, text: x}, nil
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return &node{kind: kindString, line: line, text: fmt.Sprint(x)}, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			li, lj := lines[tomlPath(path, keys[i])], lines[tomlPath(path, keys[j])]
			if li != lj {
				return li < lj
			}
			return keys[i] < keys[j]
		})
		n := &node{kind: kindObject, line: line}
		for _, k := range keys {
			kp := tomlPath(path, k)
			val, err := fromTOML(x[k], depth+1, kp, lines)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key: k, line: lines[kp], value: val})
		}
		return n, nil
	case []any:
		n := &node{kind: kindArray, line: line}
		for i, it := range x {
			val, err := fromTOML(it, depth+1, path+"["+strconv.Itoa(i)+"]", lines)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, val)
		}
		return n, nil
	}
	return nil, fmt.Errorf("toml: unsupported value of type %T", v)
}
