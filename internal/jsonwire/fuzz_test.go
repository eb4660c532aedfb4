package jsonwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzScanner holds the scanner to encoding/json on any input: Validate
// agrees with json.Valid (strict mode also demands valid UTF-8), every
// string token decodes as encoding/json decodes it, AppendString output
// reads back, and AppendCompact matches json.Compact. Errors must be
// located *SyntaxErrors, and nothing may panic.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"a": [1, -2.5e3, true, false, null, "x"]}`,
		`"\ud83d\ude00\u2028\b\f\/"`, `"\ud800\u0041"`, "\"\xff\"", `[1,]`, `{"a" 1}`,
		"// c\n{/* d */\"a\":1}", `[[[[]]]]`, `01`, `"\u12"`, "{}\x00", " \t\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lenient := Validate(data, Options{AllowInvalidUTF8: true})
		strict := Validate(data, Options{})
		for _, err := range []error{lenient, strict} {
			var se *SyntaxError
			if err != nil && (!errors.As(err, &se) || se.Offset < 0 || se.Offset > len(data)) {
				t.Fatalf("error %v is not a located *SyntaxError", err)
			}
		}
		if ok := json.Valid(data); ok != (lenient == nil) {
			t.Fatalf("json.Valid = %v, lenient Validate = %v: %q", ok, lenient, data)
		}
		if (strict == nil) != (lenient == nil && utf8.Valid(data)) {
			t.Fatalf("strict Validate = %v, lenient %v, utf8.Valid %v: %q", strict, lenient, utf8.Valid(data), data)
		}
		if !bytes.Contains(data, []byte("/")) {
			if c := Validate(data, Options{Comments: true, AllowInvalidUTF8: true}); (c == nil) != (lenient == nil) {
				t.Fatalf("comments mode changed the verdict without comments: %v vs %v", c, lenient)
			}
		}
		if lenient == nil {
			var want bytes.Buffer
			if err := json.Compact(&want, data); err != nil {
				t.Fatalf("json.Compact: %v", err)
			}
			if got := AppendCompact(nil, data); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("AppendCompact = %q, json.Compact %q", got, want.Bytes())
			}
		}

		s := NewScanner(data, Options{})
		if s.Peek() == '"' {
			start := s.Offset()
			got, err := s.String()
			var want string
			refErr := json.Unmarshal(data[start:s.Offset()], &want)
			switch {
			case err == nil && refErr != nil:
				t.Fatalf("String accepted %q, encoding/json: %v", data[start:s.Offset()], refErr)
			case err == nil && string(got) != want:
				t.Fatalf("String = %q, encoding/json %q", got, want)
			case err == nil && !utf8.Valid(got):
				t.Fatalf("String returned invalid UTF-8 %q", got)
			}
		}

		enc := AppendString(nil, string(data))
		var back string
		if err := json.Unmarshal(enc, &back); err != nil || !utf8.Valid(enc) || bytes.ContainsAny(enc, "\r\n") {
			t.Fatalf("AppendString(%q) = %q is not a usable JSON string: %v", data, enc, err)
		}
		if utf8.Valid(data) && back != string(data) {
			t.Fatalf("AppendString round trip: %q became %q", data, back)
		}
	})
}
