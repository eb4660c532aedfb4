package config

import (
	"errors"
	"fmt"

	"github.com/spindle-rt/spindle/internal/jsonwire"
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
	p := &jsoncParser{s: jsonwire.NewScanner(data, jsonwire.Options{MaxDepth: maxDepth, Comments: true})}
	// A UTF-8 byte order mark is harmless; editors on Windows add one.
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		p.s.SetOffset(3)
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.s.AtEnd() {
		return nil, p.errorf("empty document")
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if !p.s.AtEnd() {
		return nil, p.errorf("unexpected %s after the top-level value", p.describe())
	}
	return n, nil
}

// jsoncParser builds the node tree over jsonwire's tokens. The scanner
// handles comments and the lexical rules; lines come from its Position,
// which is computed from byte offsets on demand (newlines only occur in
// whitespace and comments), so nothing counts lines while scanning.
type jsoncParser struct {
	s jsonwire.Scanner
}

// errorAt reports msg at byte offset off of the input.
func (p *jsoncParser) errorAt(off int, msg string) error {
	line, col := p.s.Position(off)
	return &syntaxError{line: line, col: col, msg: msg}
}

func (p *jsoncParser) errorf(format string, args ...any) error {
	return p.errorAt(p.s.Offset(), fmt.Sprintf(format, args...))
}

// scanError gives a scanner error the reader's line and column form.
func (p *jsoncParser) scanError(err error) error {
	var se *jsonwire.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	return p.errorAt(se.Offset, se.Msg)
}

// line is the line of the cursor, recorded on nodes and keys.
func (p *jsoncParser) line() int {
	l, _ := p.s.Position(p.s.Offset())
	return l
}

// describe names the byte at the cursor for error messages.
func (p *jsoncParser) describe() string {
	data, pos := p.s.Data(), p.s.Offset()
	if pos >= len(data) {
		return "end of input"
	}
	c := data[pos]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// skipSpace moves past whitespace and comments.
func (p *jsoncParser) skipSpace() error {
	return p.scanError(p.s.SkipSpace())
}

// peek returns the byte at the cursor (after skipSpace), or 0 at the end.
func (p *jsoncParser) peek() byte {
	if p.s.AtEnd() {
		return 0
	}
	return p.s.Data()[p.s.Offset()]
}

func (p *jsoncParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d levels", maxDepth)
	}
	if p.s.AtEnd() {
		return nil, p.errorf("unexpected end of input, expected a value")
	}
	line := p.line()
	switch c := p.peek(); {
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
		lit, _, err := p.s.Number()
		if err != nil {
			return nil, p.scanError(err)
		}
		return &node{kind: kindNumber, line: line, text: string(lit)}, nil
	case c == 't':
		return p.literal("true", kindBool, line)
	case c == 'f':
		return p.literal("false", kindBool, line)
	case c == 'n':
		return p.literal("null", kindNull, line)
	}
	return nil, p.errorf("unexpected %s, expected a value", p.describe())
}

func (p *jsoncParser) literal(word string, kind nodeKind, line int) (*node, error) {
	if p.s.Literal(word) != nil {
		return nil, p.errorf("unexpected %s, expected a value", p.describe())
	}
	return &node{kind: kind, line: line, text: word}, nil
}

// str reads a string token. Escapes are decoded as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD).
func (p *jsoncParser) str() (string, error) {
	start := p.s.Offset()
	b, err := p.s.String()
	if err == nil {
		return string(b), nil
	}
	var se *jsonwire.SyntaxError
	switch {
	case errors.Is(err, jsonwire.ErrInvalidEscape):
		return "", p.errorAt(start, "invalid string escape")
	case errors.As(err, &se) && se.Offset < len(p.s.Data()) && p.s.Data()[se.Offset] < 0x20:
		return "", p.errorAt(se.Offset, "control character in string (strings cannot span lines)")
	}
	return "", p.scanError(err)
}

func (p *jsoncParser) object(depth int) (*node, error) {
	n := &node{kind: kindObject, line: p.line()}
	p.s.Advance() // {
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.s.AtEnd() {
			return nil, p.errorf("unexpected end of input inside an object")
		}
		if p.s.Consume('}') {
			return n, nil
		}
		if p.peek() != '"' {
			return nil, p.errorf("unexpected %s, expected a quoted key or '}'", p.describe())
		}
		keyLine := p.line()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if !p.s.Consume(':') {
			return nil, p.errorf("unexpected %s, expected ':' after key %q", p.describe(), key)
		}
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
		if p.s.AtEnd() {
			return nil, p.errorf("unexpected end of input inside an object")
		}
		switch {
		case p.s.Consume(','): // a trailing comma is fine: the loop accepts '}' next
		case p.s.Consume('}'):
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or '}' (missing comma?)", p.describe())
		}
	}
}

func (p *jsoncParser) array(depth int) (*node, error) {
	n := &node{kind: kindArray, line: p.line()}
	p.s.Advance() // [
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.s.AtEnd() {
			return nil, p.errorf("unexpected end of input inside an array")
		}
		if p.s.Consume(']') {
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
		if p.s.AtEnd() {
			return nil, p.errorf("unexpected end of input inside an array")
		}
		switch {
		case p.s.Consume(','):
		case p.s.Consume(']'):
			return n, nil
		default:
			return nil, p.errorf("unexpected %s, expected ',' or ']' (missing comma?)", p.describe())
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
