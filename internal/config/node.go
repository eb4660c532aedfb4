package config

// nodeKind tells which JSON-like value a node holds.
type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// String names the kind the way error messages talk about values.
func (k nodeKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "an unknown value"
}

// node is the format-neutral parse tree every config source is turned into,
// so that one decoder (and one set of error messages with line numbers)
// serves JSON, YAML, TOML, environment variables and flags alike.
type node struct {
	kind nodeKind
	line int // 1-based; 0 when the source has no line information
	// text is the string value, the literal text of a number, or
	// "true"/"false".
	text string
	// fromText marks values that arrived as untyped text (environment,
	// flags): scalars may then be parsed out of the string.
	fromText bool
	items    []*node
	members  []member
}

// member is one key of an object, in document order.
type member struct {
	key   string
	line  int
	value *node
}

// toAny converts the tree to plain Go values (numbers stay as their
// literal text) — used by tests and by the fuzz target to compare with
// encoding/json.
func (n *node) toAny() any {
	switch n.kind {
	case kindBool:
		return n.text == "true"
	case kindNumber:
		return numberText(n.text)
	case kindString:
		return n.text
	case kindArray:
		out := make([]any, 0, len(n.items))
		for _, it := range n.items {
			out = append(out, it.toAny())
		}
		return out
	case kindObject:
		out := make(map[string]any, len(n.members))
		for _, m := range n.members {
			out[m.key] = m.value.toAny()
		}
		return out
	}
	return nil
}

// numberText distinguishes a number's literal from a string in toAny.
type numberText string
