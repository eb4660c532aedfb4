package pbjson

import (
	"strconv"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

// maxDepth bounds nesting (messages and embedded raw JSON alike) so hostile
// input cannot exhaust the stack.
const maxDepth = 1000

// scanOpts is the JSON dialect pbjson reads: strict syntax, but strings in
// embedded raw JSON may hold invalid UTF-8, as Go's encoding/json (which
// Centrifugo uses) lets them.
var scanOpts = jsonwire.Options{MaxDepth: maxDepth, AllowInvalidUTF8: true}

func newDecoder(data []byte) decoder {
	return decoder{Scanner: jsonwire.NewScanner(data, scanOpts)}
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

// syntax wraps a scanner error so the key path can be attached to it as
// the error unwinds; the message stays the scanner's ("syntax error at
// offset N: ...").
func syntax(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// syntaxError describes malformed input at the current offset.
func (d *decoder) syntaxError(msg string) error { return syntax(d.Error(msg)) }

func (d *decoder) enter() error { return syntax(d.Enter()) }

func (d *decoder) literal(w string) error { return syntax(d.Literal(w)) }

// str reads a string; the result aliases the input when it needs no
// decoding.
func (d *decoder) str() ([]byte, error) {
	s, err := d.String()
	return s, syntax(err)
}

func (d *decoder) number() ([]byte, error) {
	lit, _, err := d.Number()
	return lit, syntax(err)
}

func (d *decoder) skipValue() error { return syntax(d.SkipValue()) }

// appendCompact validates raw as exactly one JSON value and appends it
// without insignificant whitespace, so embedded payloads never put raw
// newlines on the wire.
func appendCompact(dst, raw []byte) ([]byte, error) {
	if err := jsonwire.Validate(raw, scanOpts); err != nil {
		return dst, err
	}
	return jsonwire.AppendCompact(dst, raw), nil
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
