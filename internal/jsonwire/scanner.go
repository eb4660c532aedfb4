package jsonwire

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth is encoding/json's nesting limit, used when Options leave
// MaxDepth at zero.
const DefaultMaxDepth = 10000

// ErrInvalidEscape is wrapped by the *SyntaxError of a malformed backslash
// escape, so a user can word that case its own way ("invalid string
// escape" in config errors) without matching message text.
var ErrInvalidEscape = errors.New("invalid escape")

// SyntaxError is malformed input at a byte offset of the scanned data.
type SyntaxError struct {
	Offset int    // byte offset into the data given to the Scanner
	Msg    string // what was wrong, without the offset
	kind   error  // a sentinel such as ErrInvalidEscape, or nil
}

// Error formats as "syntax error at offset N: msg".
func (e *SyntaxError) Error() string {
	return "syntax error at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap exposes the error's kind for errors.Is.
func (e *SyntaxError) Unwrap() error { return e.kind }

// Options select the dialect a Scanner reads. The zero value is strict
// JSON (RFC 8259) with encoding/json's nesting limit.
type Options struct {
	// MaxDepth bounds nesting of objects and arrays (Enter and SkipValue),
	// so hostile input cannot drive unbounded recursion. Zero means
	// DefaultMaxDepth.
	MaxDepth int
	// Comments accepts // line and /* block */ comments wherever whitespace
	// may appear, for hand-written config files.
	Comments bool
	// AllowInvalidUTF8 lets SkipString and SkipValue accept strings with
	// invalid UTF-8, as encoding/json does. Without it such strings are an
	// error, because skipped values are often forwarded verbatim.
	AllowInvalidUTF8 bool
}

// Scanner reads JSON tokens from a byte slice. It never panics on any
// input and does not allocate except to decode strings with escapes or
// invalid UTF-8. The zero value is not ready; use NewScanner.
type Scanner struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	opts     Options

	// Position's cache: the line holding byte lineOff starts at lineStart.
	lineOff, line, lineStart int
}

// NewScanner returns a Scanner at the start of data. It returns a value so
// that callers can embed it without an allocation. With Options.Comments
// the scanner works on a copy of data with the comments blanked out.
func NewScanner(data []byte, opts Options) Scanner {
	if opts.Comments {
		data = blankComments(data)
	}
	s := Scanner{data: data, opts: opts, maxDepth: opts.MaxDepth, line: 1}
	if s.maxDepth <= 0 {
		s.maxDepth = DefaultMaxDepth
	}
	return s
}

// Data returns the scanned input.
func (s *Scanner) Data() []byte { return s.data }

// Offset returns the byte offset of the cursor.
func (s *Scanner) Offset() int { return s.pos }

// SetOffset moves the cursor, to skip a byte order mark or to rescan a
// token; offsets outside the data are clamped.
func (s *Scanner) SetOffset(off int) { s.pos = max(0, min(off, len(s.data))) }

// Advance consumes the byte Peek returned; it is a no-op at the end.
func (s *Scanner) Advance() {
	if s.pos < len(s.data) {
		s.pos++
	}
}

// Depth returns the current nesting level counted by Enter and Leave.
func (s *Scanner) Depth() int { return s.depth }

// Error returns a *SyntaxError at the cursor.
func (s *Scanner) Error(msg string) error { return &SyntaxError{Offset: s.pos, Msg: msg} }

func (s *Scanner) errorAt(off int, msg string, kind error) error {
	return &SyntaxError{Offset: off, Msg: msg, kind: kind}
}

// Peek skips whitespace and returns the next byte without consuming it,
// or 0 at the end of the data; callers that must tell the end from a NUL
// byte use AtEnd. It is small enough to be inlined into decoder loops,
// which is why comments are not handled here (see blankComments). An
// unterminated block comment is left in place, so Peek returns its '/';
// SkipSpace reports it.
func (s *Scanner) Peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// AtEnd skips whitespace and reports whether the data is exhausted.
func (s *Scanner) AtEnd() bool {
	s.Peek()
	return s.pos >= len(s.data)
}

// Consume skips whitespace and consumes c if it is the next byte.
func (s *Scanner) Consume(c byte) bool {
	if s.Peek() == c && s.pos < len(s.data) {
		s.pos++
		return true
	}
	return false
}

// SkipSpace is Peek for readers that accept comments: it returns an error
// for a block comment that never ends, located at the comment's start.
func (s *Scanner) SkipSpace() error {
	s.Peek()
	if s.opts.Comments && len(s.data)-s.pos >= 2 && s.data[s.pos] == '/' && s.data[s.pos+1] == '*' {
		return s.Error("unterminated /* comment")
	}
	return nil
}

// blankComments returns a copy of data in which every complete comment
// outside strings is overwritten with spaces, keeping its line breaks.
// Doing this once up front, instead of testing for '/' in the whitespace
// loop, keeps the token loop identical for strict JSON and for config
// files; offsets and line numbers are unchanged, so errors still point at
// the original text. The copy costs one allocation per document, which
// only hand-written config files pay. An unterminated block comment is
// left as it is for SkipSpace to report.
func blankComments(data []byte) []byte {
	out := append([]byte(nil), data...)
	inStr := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
			continue
		}
		if c != '/' || i+1 >= len(out) {
			continue
		}
		end := -1
		switch out[i+1] {
		case '/':
			end = i + 2
			for end < len(out) && out[end] != '\n' {
				end++
			}
		case '*':
			for j := i + 2; j+1 < len(out); j++ {
				if out[j] == '*' && out[j+1] == '/' {
					end = j + 2
					break
				}
			}
			if end < 0 {
				return out // unterminated: SkipSpace reports it
			}
		default:
			continue
		}
		for j := i; j < end; j++ {
			if out[j] != '\n' {
				out[j] = ' '
			}
		}
		i = end - 1
	}
	return out
}

// Enter counts one level of object or array nesting and fails past
// MaxDepth; Leave undoes it when the container closes.
func (s *Scanner) Enter() error {
	if s.depth++; s.depth > s.maxDepth {
		return s.tooDeep()
	}
	return nil
}

func (s *Scanner) tooDeep() error {
	return s.Error("nesting deeper than " + strconv.Itoa(s.maxDepth) + " levels")
}

// Leave ends a level opened by Enter.
func (s *Scanner) Leave() { s.depth-- }

// Literal consumes the exact word lit (true, false, null) at the cursor.
func (s *Scanner) Literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.Error("invalid literal, expected " + lit)
	}
	s.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Number consumes a JSON number at the cursor and returns its text, which
// aliases the input, and whether it is an integer (no fraction, no
// exponent). On error the cursor is at the offending byte.
func (s *Scanner) Number() (lit []byte, integer bool, err error) {
	d := s.data
	start, i := s.pos, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		s.pos = i
		return nil, false, s.Error("invalid number")
	}
	integer = true
	if i < len(d) && d[i] == '.' {
		integer = false
		i++
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return nil, false, s.Error("invalid number: no digits after '.'")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		integer = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return nil, false, s.Error("invalid number: no digits in exponent")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return d[start:i], integer, nil
}

// String consumes the string at the cursor and returns its decoded
// content. Without escapes and with valid UTF-8 the result is a view of
// the input (no allocation); otherwise it is a fresh slice in which
// invalid UTF-8 and lone surrogates became U+FFFD, as in encoding/json.
func (s *Scanner) String() ([]byte, error) {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return nil, s.Error("expected string")
	}
	start := s.pos + 1
	ascii := true
	for i := start; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			if ascii || utf8.Valid(d[start:i]) {
				s.pos = i + 1
				return d[start:i], nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return s.stringSlow(start)
}

func (s *Scanner) stringSlow(start int) ([]byte, error) {
	d := s.data
	out := make([]byte, 0, 32)
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.Error("control character in string")
		case c == '\\':
			r, n, err := s.escape(i)
			if err != nil {
				return nil, err
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
		}
	}
	s.pos = i
	return nil, s.Error("unterminated string")
}

// escape decodes the backslash escape at d[i], joining surrogate pairs, and
// returns the rune and the escape's length. A surrogate that is not half of
// a pair becomes U+FFFD and a following \u escape then stands alone.
func (s *Scanner) escape(i int) (rune, int, error) {
	d := s.data
	if i+1 >= len(d) {
		s.pos = len(d)
		return 0, 0, s.Error("unterminated string")
	}
	switch c := d[i+1]; c {
	case '"', '\\', '/':
		return rune(c), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r := hex4(d, i+2)
		if r < 0 {
			s.pos = i + 2
			return 0, 0, s.errorAt(i+2, `invalid \u escape: want 4 hex digits`, ErrInvalidEscape)
		}
		if !utf16.IsSurrogate(r) {
			return r, 6, nil
		}
		if len(d)-i >= 8 && d[i+6] == '\\' && d[i+7] == 'u' {
			r2 := hex4(d, i+8)
			if r2 < 0 {
				s.pos = i + 8
				return 0, 0, s.errorAt(i+8, `invalid \u escape: want 4 hex digits`, ErrInvalidEscape)
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, 12, nil
			}
		}
		return utf8.RuneError, 6, nil
	}
	s.pos = i + 1
	return 0, 0, s.errorAt(i+1, "invalid escape character", ErrInvalidEscape)
}

// hex4 decodes the four hex digits at d[i:], or returns -1.
func hex4(d []byte, i int) rune {
	if len(d)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// SkipString validates the string at the cursor without decoding it.
// Invalid UTF-8 is an error unless Options.AllowInvalidUTF8 is set.
func (s *Scanner) SkipString() error {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return s.Error("expected string")
	}
	i := s.pos + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return nil
		case c < 0x20:
			s.pos = i
			return s.Error("control character in string")
		case c == '\\':
			_, n, err := s.escape(i)
			if err != nil {
				return err
			}
			i += n
		case c < utf8.RuneSelf || s.opts.AllowInvalidUTF8:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return s.Error("invalid UTF-8 in string")
			}
			i += size
		}
	}
	s.pos = i
	return s.Error("unterminated string")
}

// SkipValue validates and consumes any JSON value after optional
// whitespace, within the nesting limit.
func (s *Scanner) SkipValue() error {
	switch c := s.Peek(); {
	case c == '{':
		return s.skipContainer('}')
	case c == '[':
		return s.skipContainer(']')
	case c == '"':
		return s.SkipString()
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	case c == '-' || isDigit(c):
		_, _, err := s.Number()
		return err
	case s.pos >= len(s.data):
		return s.Error("unexpected end of input, expected value")
	default:
		return s.Error("invalid character " + strconv.QuoteRune(rune(c)) + ", expected value")
	}
}

// skipContainer skips an object or array whose opening byte is at the
// cursor.
func (s *Scanner) skipContainer(end byte) error {
	if err := s.Enter(); err != nil {
		return err
	}
	s.pos++
	if s.Consume(end) {
		s.Leave()
		return nil
	}
	for {
		if end == '}' {
			if s.Peek() != '"' {
				return s.Error("expected string key")
			}
			if err := s.SkipString(); err != nil {
				return err
			}
			if !s.Consume(':') {
				return s.Error("expected ':' after key")
			}
		}
		if err := s.SkipValue(); err != nil {
			return err
		}
		switch {
		case s.Consume(','):
		case s.Consume(end):
			s.Leave()
			return nil
		case end == '}':
			return s.Error("expected ',' or '}' after object value")
		default:
			return s.Error("expected ',' or ']' after array element")
		}
	}
}

// Validate reports whether data is exactly one JSON value in the dialect
// of opts, with nothing but whitespace (or comments) around it.
func Validate(data []byte, opts Options) error {
	s := NewScanner(data, opts)
	if err := s.SkipValue(); err != nil {
		return err
	}
	if err := s.SkipSpace(); err != nil {
		return err
	}
	if s.pos != len(data) {
		return s.Error("unexpected data after JSON value")
	}
	return nil
}

// Position converts a byte offset of the data into a 1-based line and a
// 1-based column counted in bytes. Lines are counted on demand rather than
// while scanning (see the package documentation); the last answer is
// cached, so asking for increasing offsets costs linear time overall.
func (s *Scanner) Position(off int) (line, col int) {
	off = max(0, min(off, len(s.data)))
	if off < s.lineOff {
		s.lineOff, s.line, s.lineStart = 0, 1, 0
	}
	for i := s.lineOff; i < off; i++ {
		if s.data[i] == '\n' {
			s.line++
			s.lineStart = i + 1
		}
	}
	s.lineOff = off
	return s.line, off - s.lineStart + 1
}
