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

	"github.com/BurntSushi/toml"
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
func parseTOML(data []byte) (*node, error) {
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &syntaxError{line: pe.Position.Line, col: pe.Position.Col, msg: pe.Message}
		}
		return nil, fmt.Errorf("toml: %w", err)
	}
	return fromGo(m, 0)
}

func fromGo(v any, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("toml: nesting too deep")
	}
	switch x := v.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool, text: strconv.FormatBool(x)}, nil
	case int64:
		return &node{kind: kindNumber, text: strconv.FormatInt(x, 10)}, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, errors.New("toml: infinite or NaN numbers are not allowed")
		}
		return &node{kind: kindNumber, text: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case string:
		return &node{kind: kindString, text: x}, nil
	case time.Time:
		return &node{kind: kindString, text: fmt.Sprint(x)}, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &node{kind: kindObject}
		for _, k := range keys {
			val, err := fromGo(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key: k, value: val})
		}
		return n, nil
	case []map[string]any:
		n := &node{kind: kindArray}
		for _, it := range x {
			val, err := fromGo(it, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, val)
		}
		return n, nil
	case []any:
		n := &node{kind: kindArray}
		for _, it := range x {
			val, err := fromGo(it, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, val)
		}
		return n, nil
	}
	return nil, fmt.Errorf("toml: unsupported value of type %T", v)
}
