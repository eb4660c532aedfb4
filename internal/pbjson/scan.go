package pbjson

import (
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds nesting (messages and embedded raw JSON alike) so hostile
// input cannot exhaust the stack.
const maxDepth = 1000

// scanner is a minimal JSON reader over a byte slice. It validates as it
// goes and never panics; positions are byte offsets into data.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if !isSpace(c) {
			return c
		}
		s.pos++
	}
	return 0
}

// kindName names the JSON value starting with c, for "want X, got Y".
func kindName(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	case c == 0:
		return "end of input"
	default:
		return "invalid character " + strconv.QuoteRune(rune(c))
	}
}

// syntaxError describes malformed input at the current offset.
func (s *scanner) syntaxError(msg string) *Error {
	return &Error{Msg: "syntax error at offset " + strconv.Itoa(s.pos) + ": " + msg}
}

func (s *scanner) enter() *Error {
	s.depth++
	if s.depth > maxDepth {
		return s.syntaxError("nesting deeper than " + strconv.Itoa(maxDepth))
	}
	return nil
}

// literal consumes the exact word w (true, false, null).
func (s *scanner) literal(w string) *Error {
	if len(s.data)-s.pos < len(w) || string(s.data[s.pos:s.pos+len(w)]) != w {
		return s.syntaxError("invalid literal, want " + w)
	}
	s.pos += len(w)
	return nil
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, *Error) {
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, s.syntaxError("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.syntaxError("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.syntaxError("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return d[start:i], nil
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 reads the four hex digits of a \u escape starting at i.
func hex4(d []byte, i int) rune {
	if len(d)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range d[i : i+4] {
		v := hexVal(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// str consumes a JSON string and returns its decoded content. When the
// string has no escapes and is valid UTF-8 the result aliases the input;
// otherwise it is a fresh slice in which invalid UTF-8 and lone surrogates
// became U+FFFD, as in encoding/json.
func (s *scanner) str() ([]byte, *Error) {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return nil, s.syntaxError("want string")
	}
	start := s.pos + 1
	i := start
	ascii := true
	for i < len(d) {
		c := d[i]
		if c == '"' {
			if ascii || utf8.Valid(d[start:i]) {
				s.pos = i + 1
				return d[start:i], nil
			}
			break
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			s.pos = i
			return nil, s.syntaxError("control character in string")
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		i++
	}
	return s.strSlow(start)
}

func (s *scanner) strSlow(start int) ([]byte, *Error) {
	d := s.data
	out := make([]byte, 0, len(d)-start)
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.syntaxError("control character in string")
		case c == '\\':
			if i+1 >= len(d) {
				s.pos = i
				return nil, s.syntaxError("unterminated string")
			}
			e := d[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(d, i)
				if r < 0 {
					s.pos = i
					return nil, s.syntaxError("invalid \\u escape")
				}
				i += 4
				if r >= 0xD800 && r < 0xDC00 {
					// A high surrogate must be followed by a low one.
					if len(d)-i >= 6 && d[i] == '\\' && d[i+1] == 'u' {
						if lo := hex4(d, i+2); lo >= 0xDC00 && lo < 0xE000 {
							r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
							i += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				} else if r >= 0xDC00 && r < 0xE000 {
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				s.pos = i - 1
				return nil, s.syntaxError("invalid escape")
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	s.pos = i
	return nil, s.syntaxError("unterminated string")
}

// skipString consumes a string without decoding it.
func (s *scanner) skipString() *Error {
	d := s.data
	i := s.pos + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return nil
		case c < 0x20:
			s.pos = i
			return s.syntaxError("control character in string")
		case c == '\\':
			if i+1 >= len(d) {
				s.pos = i
				return s.syntaxError("unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(d, i+2) < 0 {
					s.pos = i
					return s.syntaxError("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return s.syntaxError("invalid escape")
			}
		default:
			i++
		}
	}
	s.pos = i
	return s.syntaxError("unterminated string")
}

// skipValue consumes any JSON value, validating it.
func (s *scanner) skipValue() *Error {
	switch c := s.peek(); c {
	case '"':
		return s.skipString()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case '{':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		if s.peek() == '}' {
			s.pos++
			s.depth--
			return nil
		}
		for {
			if s.peek() != '"' {
				return s.syntaxError("want object key")
			}
			if err := s.skipString(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return s.syntaxError("want ':' after object key")
			}
			s.pos++
			if err := s.skipValue(); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				s.depth--
				return nil
			default:
				return s.syntaxError("want ',' or '}' in object")
			}
		}
	case '[':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		if s.peek() == ']' {
			s.pos++
			s.depth--
			return nil
		}
		for {
			if err := s.skipValue(); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				s.depth--
				return nil
			default:
				return s.syntaxError("want ',' or ']' in array")
			}
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, err := s.number()
			return err
		}
		return s.syntaxError("unexpected " + kindName(c))
	}
}

// appendCompact validates raw as exactly one JSON value and appends it
// without insignificant whitespace, so embedded payloads never put raw
// newlines on the wire.
func appendCompact(dst, raw []byte) ([]byte, error) {
	sc := scanner{data: raw}
	if err := sc.skipValue(); err != nil {
		return dst, err
	}
	if sc.peek() != 0 {
		return dst, sc.syntaxError("unexpected data after JSON value")
	}
	inStr := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			dst = append(dst, c)
			switch c {
			case '\\':
				i++
				dst = append(dst, raw[i])
			case '"':
				inStr = false
			}
			continue
		}
		if isSpace(c) {
			continue
		}
		if c == '"' {
			inStr = true
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// hasLayoutSpace reports whether raw JSON contains tabs or line breaks;
// these can only be insignificant whitespace in valid JSON.
func hasLayoutSpace(raw []byte) bool {
	for _, c := range raw {
		if c == '\n' || c == '\r' || c == '\t' {
			return true
		}
	}
	return false
}
