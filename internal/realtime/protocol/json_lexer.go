package protocol

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
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

// lexer is a strict, allocation-light reader of one JSON text. It knows
// nothing about the protocol; the decoders drive it key by key.
type lexer struct {
	data  []byte
	pos   int
	depth int
}

func (l *lexer) errorf(msg string) error { return &lexError{off: l.pos, msg: msg} }

// withKey adds key to the path of an error coming out of that key's value.
func withKey(err error, key []byte) error {
	if le, ok := err.(*lexError); ok {
		if len(le.path) == maxErrorPath {
			copy(le.path, le.path[1:])
			le.path = le.path[:maxErrorPath-1]
			le.dropped = true
		}
		le.path = append(le.path, string(key))
	}
	return err
}

func (l *lexer) skipWS() {
	for l.pos < len(l.data) {
		switch l.data[l.pos] {
		case ' ', '\t', '\r', '\n':
			l.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the
// end; callers that must tell the end from a NUL byte compare pos and len.
func (l *lexer) peek() byte {
	l.skipWS()
	if l.pos >= len(l.data) {
		return 0
	}
	return l.data[l.pos]
}

// null consumes a JSON null if it is next; protocol fields set to null are
// treated as absent.
func (l *lexer) null() bool {
	if l.peek() == 'n' && l.literal("null") == nil {
		return true
	}
	return false
}

func (l *lexer) literal(lit string) error {
	if len(l.data)-l.pos < len(lit) || string(l.data[l.pos:l.pos+len(lit)]) != lit {
		return l.errorf("invalid literal, expected " + lit)
	}
	l.pos += len(lit)
	return nil
}

// object reads an object, calling fn with each key while the lexer sits
// before that key's value; fn must consume the value. null is an empty object.
func (l *lexer) object(fn func(key []byte) error) error {
	switch l.peek() {
	case '{':
	case 'n':
		return l.literal("null")
	default:
		return l.errorf("expected object")
	}
	if l.depth++; l.depth > maxJSONDepth {
		return l.errorf("nesting too deep")
	}
	l.pos++
	if l.peek() == '}' {
		l.pos++
		l.depth--
		return nil
	}
	for {
		if l.peek() != '"' {
			return l.errorf("expected string key")
		}
		key, err := l.key()
		if err != nil {
			return err
		}
		if l.peek() != ':' {
			return l.errorf("expected ':' after key")
		}
		l.pos++
		l.skipWS()
		if err := fn(key); err != nil {
			return withKey(err, key)
		}
		switch l.peek() {
		case ',':
			l.pos++
		case '}':
			l.pos++
			l.depth--
			return nil
		default:
			return l.errorf("expected ',' or '}' after object value")
		}
	}
}

// array reads an array, calling fn before each element; fn must consume it.
// null is an empty array.
func (l *lexer) array(fn func() error) error {
	switch l.peek() {
	case '[':
	case 'n':
		return l.literal("null")
	default:
		return l.errorf("expected array")
	}
	if l.depth++; l.depth > maxJSONDepth {
		return l.errorf("nesting too deep")
	}
	l.pos++
	if l.peek() == ']' {
		l.pos++
		l.depth--
		return nil
	}
	for i := 0; ; i++ {
		l.skipWS()
		if err := fn(); err != nil {
			return withKey(err, []byte(strconv.Itoa(i)))
		}
		switch l.peek() {
		case ',':
			l.pos++
		case ']':
			l.pos++
			l.depth--
			return nil
		default:
			return l.errorf("expected ',' or ']' after array element")
		}
	}
}

// key reads an object key. Keys without escapes are returned as a view of
// the input; the protocol's keys never need escaping.
func (l *lexer) key() ([]byte, error) {
	start := l.pos + 1
	for i := start; i < len(l.data); i++ {
		c := l.data[i]
		if c == '"' {
			l.pos = i + 1
			return l.data[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	s, err := l.str()
	return []byte(s), err
}

// str reads a string value, decoding escapes. Invalid UTF-8 and lone
// surrogates become U+FFFD, as encoding/json does, so the result is always
// valid for protobuf string fields. null reads as "".
func (l *lexer) str() (string, error) {
	switch l.peek() {
	case '"':
	case 'n':
		return "", l.literal("null")
	default:
		return "", l.errorf("expected string")
	}
	start := l.pos + 1
	for i := start; i < len(l.data); i++ {
		c := l.data[i]
		if c == '"' {
			l.pos = i + 1
			return string(l.data[start:i]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return l.strSlow()
}

func (l *lexer) strSlow() (string, error) {
	l.pos++ // opening quote
	buf := make([]byte, 0, 32)
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case c == '"':
			l.pos++
			return string(buf), nil
		case c < 0x20:
			return "", l.errorf("control character in string")
		case c == '\\':
			r, err := l.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			l.pos++
		default:
			r, size := utf8.DecodeRune(l.data[l.pos:])
			buf = utf8.AppendRune(buf, r) // RuneError for invalid bytes
			l.pos += size
		}
	}
	return "", l.errorf("unterminated string")
}

// escape decodes one backslash escape at l.pos, joining surrogate pairs.
func (l *lexer) escape() (rune, error) {
	if l.pos+1 >= len(l.data) {
		return 0, l.errorf("unterminated escape")
	}
	c := l.data[l.pos+1]
	l.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := l.hex4()
		if err != nil {
			return 0, err
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if l.pos+1 < len(l.data) && l.data[l.pos] == '\\' && l.data[l.pos+1] == 'u' {
			save := l.pos
			l.pos += 2
			r2, err := l.hex4()
			if err != nil {
				return 0, err
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, nil
			}
			l.pos = save // not a pair: the second escape stands alone
		}
		return utf8.RuneError, nil
	}
	l.pos--
	return 0, l.errorf("invalid escape character")
}

func (l *lexer) hex4() (rune, error) {
	if len(l.data)-l.pos < 4 {
		return 0, l.errorf("short \\u escape")
	}
	var r rune
	for _, c := range l.data[l.pos : l.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, l.errorf("invalid hex digit in \\u escape")
		}
		r = r<<4 | rune(c)
	}
	l.pos += 4
	return r, nil
}

func (l *lexer) boolean() (bool, error) {
	switch l.peek() {
	case 't':
		return true, l.literal("true")
	case 'f':
		return false, l.literal("false")
	case 'n':
		return false, l.literal("null")
	}
	return false, l.errorf("expected boolean")
}

// number scans a JSON number and reports whether it had a fraction or
// exponent; it returns the literal's bounds.
func (l *lexer) number() (start int, integer bool, err error) {
	start = l.pos
	i := l.pos
	if i < len(l.data) && l.data[i] == '-' {
		i++
	}
	switch {
	case i < len(l.data) && l.data[i] == '0':
		i++
	case i < len(l.data) && '1' <= l.data[i] && l.data[i] <= '9':
		for i < len(l.data) && '0' <= l.data[i] && l.data[i] <= '9' {
			i++
		}
	default:
		l.pos = i
		return start, false, l.errorf("invalid number")
	}
	integer = true
	if i < len(l.data) && l.data[i] == '.' {
		integer = false
		i++
		d := i
		for i < len(l.data) && '0' <= l.data[i] && l.data[i] <= '9' {
			i++
		}
		if i == d {
			l.pos = i
			return start, false, l.errorf("invalid number: no digits after '.'")
		}
	}
	if i < len(l.data) && (l.data[i] == 'e' || l.data[i] == 'E') {
		integer = false
		i++
		if i < len(l.data) && (l.data[i] == '+' || l.data[i] == '-') {
			i++
		}
		d := i
		for i < len(l.data) && '0' <= l.data[i] && l.data[i] <= '9' {
			i++
		}
		if i == d {
			l.pos = i
			return start, false, l.errorf("invalid number: no digits in exponent")
		}
	}
	l.pos = i
	return start, integer, nil
}

// integer reads a JSON integer (no fraction, no exponent) within [min, max].
// null reads as 0.
func (l *lexer) integer(min int64, max uint64) (neg bool, mag uint64, err error) {
	switch c := l.peek(); {
	case c == 'n':
		return false, 0, l.literal("null")
	case c != '-' && (c < '0' || c > '9'):
		return false, 0, l.errorf("expected number")
	}
	start, isInt, err := l.number()
	if err != nil {
		return false, 0, err
	}
	if !isInt {
		l.pos = start
		return false, 0, l.errorf("expected integer")
	}
	digits := l.data[start:l.pos]
	if digits[0] == '-' {
		neg = true
		digits = digits[1:]
	}
	for _, d := range digits {
		if mag > math.MaxUint64/10 || (mag == math.MaxUint64/10 && d-'0' > math.MaxUint64%10) {
			l.pos = start
			return false, 0, l.errorf("integer out of range")
		}
		mag = mag*10 + uint64(d-'0')
	}
	if neg {
		if min == 0 || mag > uint64(-(min+1))+1 {
			l.pos = start
			return false, 0, l.errorf("integer out of range")
		}
	} else if mag > max {
		l.pos = start
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

// skip validates and consumes any JSON value.
func (l *lexer) skip() error {
	switch c := l.peek(); {
	case c == '{':
		return l.object(func([]byte) error { return l.skip() })
	case c == '[':
		return l.array(l.skip)
	case c == '"':
		return l.skipString()
	case c == 't':
		return l.literal("true")
	case c == 'f':
		return l.literal("false")
	case c == 'n':
		return l.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, _, err := l.number()
		return err
	case l.pos >= len(l.data):
		return l.errorf("unexpected end of input, expected value")
	}
	return l.errorf("invalid character, expected value")
}

// skipString validates a string without decoding it; bytes ≥ 0x80 must be
// valid UTF-8 because the string may be forwarded verbatim in a text frame.
func (l *lexer) skipString() error {
	i := l.pos + 1
	for i < len(l.data) {
		c := l.data[i]
		switch {
		case c == '"':
			l.pos = i + 1
			return nil
		case c < 0x20:
			l.pos = i
			return l.errorf("control character in string")
		case c == '\\':
			l.pos = i
			if _, err := l.escape(); err != nil {
				return err
			}
			i = l.pos
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(l.data[i:])
			if r == utf8.RuneError && size == 1 {
				l.pos = i
				return l.errorf("invalid UTF-8 in string")
			}
			i += size
		}
	}
	l.pos = i
	return l.errorf("unterminated string")
}

// raw reads any JSON value and returns a copy of its bytes, for bytes fields
// that carry embedded JSON. null reads as nil (absent). The copy keeps
// decoded commands independent of the caller's read buffer.
func (l *lexer) raw() ([]byte, error) {
	if l.null() {
		return nil, nil
	}
	start := l.pos
	if err := l.skip(); err != nil {
		return nil, err
	}
	return append([]byte(nil), l.data[start:l.pos]...), nil
}

// validJSON reports whether b is exactly one JSON value (surrounding
// whitespace allowed) whose strings are valid UTF-8.
func validJSON(b []byte) bool {
	l := lexer{data: b}
	if l.skip() != nil {
		return false
	}
	l.skipWS()
	return l.pos == len(b)
}
