package config

import (
	"encoding/json"
	"fmt"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

// syntaxError is a parse failure at a line and column of the input.
type syntaxError struct {
	line, col int
	msg       string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.line, e.col, e.msg)
}

// parseJSONC reads JSON extended with `//` and `/* */` comments and
// trailing commas — the dialect people actually write config files in
// (the Spiral docs' example has a `// ...` line). Keys keep their line
// numbers so later errors can point at them. Duplicate keys are kept;
// the decoder reports them with both lines.
func parseJSONC(data []byte) (*node, error) {
	p := &jsoncParser{data: data, line: 1}
	// A UTF-8 byte order mark is harmless; editors on Windows add one.
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		p.pos = 3
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("empty document")
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.pos < len(p.data) {
		return nil, p.errorf("unexpected %s after the top-level value", p.describe())
	}
	return n, nil
}

type jsoncParser struct {
	data      []byte
	pos       int
	line      int
	lineStart int
}

func (p *jsoncParser) errorf(format string, args ...any) error {
	return &syntaxError{line: p.line, col: p.pos - p.lineStart + 1, msg: fmt.Sprintf(format, args...)}
}

// describe names the byte at the cursor for error messages.
func (p *jsoncParser) describe() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	c := p.data[p.pos]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *jsoncParser) newline() {
	p.line++
	p.lineStart = p.pos + 1
}

// skipSpace moves past whitespace and comments.
func (p *jsoncParser) skipSpace() error {
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '\n':
			p.newline()
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '/' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '/':
			for p.pos < len(p.data) && p.data[p.pos] != '\n' {
				p.pos++
			}
		case c == '/' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '*':
			startLine, startCol := p.line, p.pos-p.lineStart+1
			p.pos += 2
			closed := false
			for p.pos < len(p.data) {
				if p.data[p.pos] == '*' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '/' {
					p.pos += 2
					closed = true
					break
				}
				if p.data[p.pos] == '\n' {
					p.newline()
				}
				p.pos++
			}
			if !closed {
				return &syntaxError{line: startLine, col: startCol, msg: "unterminated /* comment"}
			}
		default:
			return nil
		}
	}
	return nil
}

func (p *jsoncParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input, expected a value")
	}
	line := p.line
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindString, line: line, text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", kindBool)
	case c == 'f':
		return p.literal("false", kindBool)
	case c == 'n':
		return p.literal("null", kindNull)
	}
	return nil, p.errorf("unexpected %s, expected a value", p.describe())
}

func (p *jsoncParser) literal(word string, kind nodeKind) (*node, error) {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return nil, p.errorf("unexpected %s, expected a value", p.describe())
	}
	n := &node{kind: kind, line: p.line, text: word}
	p.pos += len(word)
	return n, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number checks the JSON number grammar and keeps the literal text.
func (p *jsoncParser) number() (*node, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.pos < len(p.data) && isDigit(p.data[p.pos]):
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
		}
	default:
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.pos >= len(p.data) || !isDigit(p.data[p.pos]) {
			return nil, p.errorf("invalid number: digits expected after '.'")
		}
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.pos >= len(p.data) || !isDigit(p.data[p.pos]) {
			return nil, p.errorf("invalid number: digits expected in exponent")
		}
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
		}
	}
	return &node{kind: kindNumber, line: p.line, text: string(p.data[start:p.pos])}, nil
}

// str scans a string token and lets encoding/json decode its escapes, so
// escape handling matches the standard exactly.
func (p *jsoncParser) str() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return "", &syntaxError{line: p.line, col: start - p.lineStart + 1, msg: "invalid string escape"}
			}
			return s, nil
		case c == '\\':
			p.pos += 2
		case c < 0x20:
			return "", p.errorf("control character in string (strings cannot span lines)")
		default:
			p.pos++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsoncParser) object(depth int) (*node, error) {
	n := &node{kind: kindObject, line: p.line}
	p.pos++ // {
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input inside an object")
		}
		if p.data[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		if p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s, expected a quoted key or '}'", p.describe())
		}
		keyLine := p.line
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %s, expected ':' after key %q", p.describe(), key)
		}
		p.pos++
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, member{key: key, line: keyLine, value: v})
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input inside an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++ // a trailing comma is fine: the loop accepts '}' next
		case '}':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or '}' (missing comma?)", p.describe())
		}
	}
}

func (p *jsoncParser) array(depth int) (*node, error) {
	n := &node{kind: kindArray, line: p.line}
	p.pos++ // [
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input inside an array")
		}
		if p.data[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, v)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input inside an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or ']' (missing comma?)", p.describe())
		}
	}
}
