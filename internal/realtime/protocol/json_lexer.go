package protocol

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

// maxJSONDepth bounds nesting of objects and arrays (commands and embedded
// payloads alike) so hostile input cannot drive unbounded recursion; it
// matches the limit of encoding/json.
const maxJSONDepth = 10000

// lexError is the internal form of a JSON syntax or type error. path holds
// the keys from the innermost outwards; it is filled while the error unwinds
// so the happy path pays nothing for error context.
type lexError struct {
	off     int
	msg     string
	path    []string
	dropped bool // innermost keys were dropped to bound the path length
}

// maxErrorPath bounds the key path kept for an error, so an error deep in
// hostile nesting stays small; the outermost keys are the ones kept.
const maxErrorPath = 32

func (e *lexError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }

// lexer reads one command line. The tokens come from jsonwire's strict
// scanner (strict UTF-8 for skipped and embedded values, which may be sent
// on verbatim); the object and array walks stay here because they collect
// the key path of an error as it unwinds, which the scanner knows nothing
// about.
type lexer struct {
	jsonwire.Scanner
}

func newLexer(data []byte) lexer {
	return lexer{jsonwire.NewScanner(data, jsonwire.Options{MaxDepth: maxJSONDepth})}
}

func (l *lexer) errorf(msg string) error { return &lexError{off: l.Offset(), msg: msg} }

// asLexError gives a scanner error the protocol's form, so a key path can
// be attached to it; other errors pass through.
func asLexError(err error) (*lexError, bool) {
	switch e := err.(type) {
	case *lexError:
		return e, true
	case *jsonwire.SyntaxError:
		return &lexError{off: e.Offset, msg: e.Msg}, true
	}
	return nil, false
}

// withKey adds key to the path of an error coming out of that key's value.
func withKey(err error, key []byte) error {
	if le, ok := asLexError(err); ok {
		if len(le.path) == maxErrorPath {
			copy(le.path, le.path[1:])
			le.path = le.path[:maxErrorPath-1]
			le.dropped = true
		}
		le.path = append(le.path, string(key))
		return le
	}
	return err
}

// null consumes a JSON null if it is next; protocol fields set to null are
// treated as absent.
func (l *lexer) null() bool {
	return l.Peek() == 'n' && l.Literal("null") == nil
}

// enter opens one nesting level, in the protocol's wording.
func (l *lexer) enter() error {
	if l.Enter() != nil {
		return l.errorf("nesting too deep")
	}
	return nil
}

// object reads an object, calling fn with each key while the lexer sits
// before that key's value; fn must consume the value. null is an empty object.
func (l *lexer) object(fn func(key []byte) error) error {
	switch l.Peek() {
	case '{':
	case 'n':
		return l.Literal("null")
	default:
		return l.errorf("expected object")
	}
	if err := l.enter(); err != nil {
		return err
	}
	l.Advance()
	if l.Consume('}') {
		l.Leave()
		return nil
	}
	for {
		if l.Peek() != '"' {
			return l.errorf("expected string key")
		}
		key, err := l.String()
		if err != nil {
			return err
		}
		if !l.Consume(':') {
			return l.errorf("expected ':' after key")
		}
		l.Peek()
		if err := fn(key); err != nil {
			return withKey(err, key)
		}
		switch l.Peek() {
		case ',':
			l.Advance()
		case '}':
			l.Advance()
			l.Leave()
			return nil
		default:
			return l.errorf("expected ',' or '}' after object value")
		}
	}
}

// array reads an array, calling fn before each element; fn must consume it.
// null is an empty array.
func (l *lexer) array(fn func() error) error {
	switch l.Peek() {
	case '[':
	case 'n':
		return l.Literal("null")
	default:
		return l.errorf("expected array")
	}
	if err := l.enter(); err != nil {
		return err
	}
	l.Advance()
	if l.Consume(']') {
		l.Leave()
		return nil
	}
	for i := 0; ; i++ {
		l.Peek()
		if err := fn(); err != nil {
			return withKey(err, []byte(strconv.Itoa(i)))
		}
		switch l.Peek() {
		case ',':
			l.Advance()
		case ']':
			l.Advance()
			l.Leave()
			return nil
		default:
			return l.errorf("expected ',' or ']' after array element")
		}
	}
}

// str reads a string value. Invalid UTF-8 and lone surrogates become
// U+FFFD, so the result is always valid for protobuf string fields. null
// reads as "".
func (l *lexer) str() (string, error) {
	switch l.Peek() {
	case '"':
	case 'n':
		return "", l.Literal("null")
	default:
		return "", l.errorf("expected string")
	}
	b, err := l.String()
	return string(b), err
}

func (l *lexer) boolean() (bool, error) {
	switch l.Peek() {
	case 't':
		return true, l.Literal("true")
	case 'f':
		return false, l.Literal("false")
	case 'n':
		return false, l.Literal("null")
	}
	return false, l.errorf("expected boolean")
}

// integer reads a JSON integer (no fraction, no exponent) within [min, max].
// null reads as 0.
func (l *lexer) integer(min int64, max uint64) (neg bool, mag uint64, err error) {
	switch c := l.Peek(); {
	case c == 'n':
		return false, 0, l.Literal("null")
	case c != '-' && (c < '0' || c > '9'):
		return false, 0, l.errorf("expected number")
	}
	start := l.Offset()
	digits, isInt, err := l.Number()
	if err != nil {
		return false, 0, err
	}
	if !isInt {
		l.SetOffset(start)
		return false, 0, l.errorf("expected integer")
	}
	if digits[0] == '-' {
		neg = true
		digits = digits[1:]
	}
	for _, d := range digits {
		if mag > math.MaxUint64/10 || (mag == math.MaxUint64/10 && d-'0' > math.MaxUint64%10) {
			l.SetOffset(start)
			return false, 0, l.errorf("integer out of range")
		}
		mag = mag*10 + uint64(d-'0')
	}
	if neg {
		if min == 0 || mag > uint64(-(min+1))+1 {
			l.SetOffset(start)
			return false, 0, l.errorf("integer out of range")
		}
	} else if mag > max {
		l.SetOffset(start)
		return false, 0, l.errorf("integer out of range")
	}
	return neg, mag, nil
}

func (l *lexer) uint32() (uint32, error) {
	_, m, err := l.integer(0, math.MaxUint32)
	return uint32(m), err
}

func (l *lexer) uint64() (uint64, error) {
	_, m, err := l.integer(0, math.MaxUint64)
	return m, err
}

func (l *lexer) int32() (int32, error) {
	neg, m, err := l.integer(math.MinInt32, math.MaxInt32)
	if neg {
		return int32(-int64(m)), err
	}
	return int32(m), err
}

func (l *lexer) int64() (int64, error) {
	neg, m, err := l.integer(math.MinInt64, math.MaxInt64)
	if neg {
		return -int64(m), err // two's complement makes MinInt64 come out right
	}
	return int64(m), err
}

// skip validates and consumes any JSON value. It walks containers itself,
// rather than calling the scanner's SkipValue, so an error inside an
// unknown key or an embedded payload still names its full key path.
// Strings must be valid UTF-8 because the value may be forwarded verbatim
// in a text frame.
func (l *lexer) skip() error {
	switch c := l.Peek(); {
	case c == '{':
		return l.object(func([]byte) error { return l.skip() })
	case c == '[':
		return l.array(l.skip)
	case c == '"':
		return l.SkipString()
	case c == 't':
		return l.Literal("true")
	case c == 'f':
		return l.Literal("false")
	case c == 'n':
		return l.Literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, _, err := l.Number()
		return err
	case l.Offset() >= len(l.Data()):
		return l.errorf("unexpected end of input, expected value")
	}
	return l.errorf("invalid character, expected value")
}

// raw reads any JSON value and returns a copy of its bytes, for bytes fields
// that carry embedded JSON. null reads as nil (absent). The copy keeps
// decoded commands independent of the caller's read buffer.
func (l *lexer) raw() ([]byte, error) {
	if l.null() {
		return nil, nil
	}
	start := l.Offset()
	if err := l.skip(); err != nil {
		return nil, err
	}
	return append([]byte(nil), l.Data()[start:l.Offset()]...), nil
}

// validJSON reports whether b is exactly one JSON value (surrounding
// whitespace allowed) whose strings are valid UTF-8.
func validJSON(b []byte) bool {
	return jsonwire.Validate(b, jsonwire.Options{MaxDepth: maxJSONDepth}) == nil
}

// ValidJSONPayload reports whether b can go to a JSON client as a payload
// (data, info): one JSON value in UTF-8. It is the rule the JSON encoder
// applies, so entrances that check with it refuse exactly what would
// otherwise close JSON clients with 3506 later.
func ValidJSONPayload(b []byte) bool { return utf8.Valid(b) && validJSON(b) }
