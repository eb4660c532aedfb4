package jsonwire

import (
	"errors"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		alias   bool   // result must be a view of the input
		errAt   int    // offset of the error, when errMsg is set
		errMsg  string // substring of the error message
		escape  bool   // error wraps ErrInvalidEscape
		restPos int    // cursor after success; 0 means len(in)
	}{
		{name: "plain", in: `"abc"`, want: "abc", alias: true},
		{name: "empty", in: `""`, want: "", alias: true},
		{name: "valid UTF-8 aliases", in: `"héllo😀"`, want: "héllo😀", alias: true},
		{name: "stops at quote", in: `"a" ,`, want: "a", alias: true, restPos: 3},
		{name: "short escapes", in: `"\"\\\/\b\f\n\r\t"`, want: "\"\\/\b\f\n\r\t"},
		{name: "unicode escape", in: `"\u00e9\u0041"`, want: "éA"},
		{name: "surrogate pair", in: `"\ud83d\ude00"`, want: "😀"},
		{name: "lone high surrogate", in: `"\ud800x"`, want: "\uFFFDx"},
		{name: "lone low surrogate", in: `"\udc00"`, want: "\uFFFD"},
		{name: "high then non-low escape", in: `"\ud800\u0041"`, want: "\uFFFDA"},
		{name: "invalid UTF-8 replaced", in: "\"a\xffb\"", want: "a\uFFFDb"},
		{name: "truncated UTF-8 replaced", in: "\"\xe2\x82\"", want: "\uFFFD\uFFFD"},
		{name: "not a string", in: `1`, errAt: 0, errMsg: "expected string"},
		{name: "unterminated", in: `"abc`, errAt: 4, errMsg: "unterminated string"},
		{name: "unterminated after escape", in: `"a\n`, errAt: 4, errMsg: "unterminated string"},
		{name: "backslash at end", in: `"a\`, errAt: 3, errMsg: "unterminated string"},
		{name: "control character", in: "\"a\tb\"", errAt: 2, errMsg: "control character"},
		{name: "bad escape", in: `"\q"`, errAt: 2, errMsg: "invalid escape", escape: true},
		{name: "short unicode escape", in: `"\u12"`, errAt: 3, errMsg: `invalid \u escape`, escape: true},
		{name: "bad hex", in: `"\u12g4"`, errAt: 3, errMsg: `invalid \u escape`, escape: true},
		{name: "bad hex in low half", in: `"\ud83d\uzzzz"`, errAt: 9, errMsg: `invalid \u escape`, escape: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			s := NewScanner(data, Options{})
			got, err := s.String()
			if tt.errMsg != "" {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Offset != tt.errAt || !strings.Contains(se.Msg, tt.errMsg) {
					t.Fatalf("err = %v, want %q at offset %d", err, tt.errMsg, tt.errAt)
				}
				if errors.Is(err, ErrInvalidEscape) != tt.escape {
					t.Fatalf("errors.Is(ErrInvalidEscape) = %v, want %v", !tt.escape, tt.escape)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if aliased := len(got) > 0 && &got[0] == &data[1]; tt.alias && len(got) > 0 && !aliased {
				t.Fatalf("result was copied, want a view of the input")
			}
			want := tt.restPos
			if want == 0 {
				want = len(data)
			}
			if s.Offset() != want {
				t.Fatalf("cursor at %d, want %d", s.Offset(), want)
			}
			// SkipString agrees on where the string ends.
			s2 := NewScanner(data, Options{AllowInvalidUTF8: true})
			if err := s2.SkipString(); err != nil || s2.Offset() != want {
				t.Fatalf("SkipString: %v, cursor %d, want %d", err, s2.Offset(), want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		in      string
		lit     string
		integer bool
		errAt   int
		errMsg  string
	}{
		{in: "0", lit: "0", integer: true},
		{in: "-12,", lit: "-12", integer: true},
		{in: "1.5", lit: "1.5"},
		{in: "2e10", lit: "2e10"},
		{in: "-0.5E-3]", lit: "-0.5E-3"},
		{in: "01", lit: "0", integer: true}, // the caller sees the stray 1
		{in: "-", errAt: 1, errMsg: "invalid number"},
		{in: "+1", errAt: 0, errMsg: "invalid number"},
		{in: "1.", errAt: 2, errMsg: "no digits after '.'"},
		{in: "1.e5", errAt: 2, errMsg: "no digits after '.'"},
		{in: "1e", errAt: 2, errMsg: "no digits in exponent"},
		{in: "1e+", errAt: 3, errMsg: "no digits in exponent"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := NewScanner([]byte(tt.in), Options{})
			lit, integer, err := s.Number()
			if tt.errMsg != "" {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Offset != tt.errAt || !strings.Contains(se.Msg, tt.errMsg) {
					t.Fatalf("err = %v, want %q at %d", err, tt.errMsg, tt.errAt)
				}
				return
			}
			if err != nil || string(lit) != tt.lit || integer != tt.integer || s.Offset() != len(tt.lit) {
				t.Fatalf("got %q %v %v at %d, want %q %v", lit, integer, err, s.Offset(), tt.lit, tt.integer)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	strict := Options{}
	lenient := Options{AllowInvalidUTF8: true}
	comments := Options{Comments: true}
	shallow := Options{MaxDepth: 2}
	tests := []struct {
		name   string
		in     string
		opts   Options
		errMsg string // empty: valid
	}{
		{"object", ` {"a": [1, true, null, "x", {"b": -2.5e3}]} `, strict, ""},
		{"empty containers", `[{}, [], ""]`, strict, ""},
		{"scalar", `"x"`, strict, ""},
		{"empty input", ``, strict, "unexpected end of input"},
		{"only space", " \n", strict, "unexpected end of input"},
		{"trailing data", `{} {}`, strict, "unexpected data after JSON value"},
		{"trailing NUL", "{}\x00", strict, "unexpected data after JSON value"},
		{"trailing comma", `[1,]`, strict, "expected value"},
		{"missing colon", `{"a" 1}`, strict, "expected ':'"},
		{"unquoted key", `{a:1}`, strict, "expected string key"},
		{"missing comma", `[1 2]`, strict, "expected ',' or ']'"},
		{"bad literal", `[tru]`, strict, "invalid literal, expected true"},
		{"bad character", `[#]`, strict, "invalid character '#'"},
		{"invalid UTF-8 strict", "[\"\xff\"]", strict, "invalid UTF-8"},
		{"invalid UTF-8 lenient", "[\"\xff\"]", lenient, ""},
		{"invalid UTF-8 outside strings", "[\xff]", lenient, "invalid character"},
		{"depth at limit", `[[1]]`, shallow, ""},
		{"depth over limit", `[[[1]]]`, shallow, "nesting deeper than 2 levels"},
		{"comments refused", `[1 /* c */]`, strict, "expected ',' or ']'"},
		{"comments", "// lead\n[1, /* in */ 2] // tail", comments, ""},
		{"comment markers in strings", `["//", "/*"]`, comments, ""},
		{"unterminated comment", `[1] /* open`, comments, "unterminated /* comment"},
		{"unterminated comment at value", `[/* open`, comments, "invalid character '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate([]byte(tt.in), tt.opts)
			if tt.errMsg == "" {
				if err != nil {
					t.Fatalf("err = %v, want valid", err)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, tt.errMsg) || se.Offset < 0 || se.Offset > len(tt.in) {
				t.Fatalf("err = %v, want %q", err, tt.errMsg)
			}
		})
	}
}

func TestCommentsKeepPositions(t *testing.T) {
	in := "{\n  // one\n  \"a\": /* two\n lines */ 1,\n  \"b\": \"//not a comment\"\n}"
	s := NewScanner([]byte(in), Options{Comments: true})
	if len(s.Data()) != len(in) {
		t.Fatalf("blanking changed the length")
	}
	if err := s.SkipValue(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		needle    string
		line, col int
	}{
		{`"a"`, 3, 3},
		{"1,", 4, 11},
		{`"b"`, 5, 3},
		{"}", 6, 1},
	} {
		off := strings.Index(in, tt.needle)
		if line, col := s.Position(off); line != tt.line || col != tt.col {
			t.Errorf("%q at %d: line %d col %d, want %d:%d", tt.needle, off, line, col, tt.line, tt.col)
		}
	}
	// Asking backwards restarts the count.
	if line, col := s.Position(0); line != 1 || col != 1 {
		t.Errorf("offset 0: %d:%d", line, col)
	}
	if line, _ := s.Position(len(in) + 10); line != 6 {
		t.Errorf("past the end: line %d", line)
	}
}

func TestScannerEdges(t *testing.T) {
	s := NewScanner([]byte(" \t\r\n"), Options{})
	if s.Peek() != 0 || !s.AtEnd() || s.Consume(0) {
		t.Fatalf("end of input not recognised")
	}
	s.Advance() // no-op at the end
	s.SetOffset(-5)
	if s.Offset() != 0 {
		t.Fatalf("SetOffset did not clamp: %d", s.Offset())
	}
	s = NewScanner([]byte("\x00"), Options{})
	if s.Peek() != 0 || s.AtEnd() {
		t.Fatalf("a NUL byte is not the end")
	}
	s = NewScanner([]byte("[1]"), Options{MaxDepth: 1})
	if err := s.Enter(); err != nil || s.Depth() != 1 {
		t.Fatalf("Enter: %v depth %d", err, s.Depth())
	}
	if err := s.Enter(); err == nil {
		t.Fatalf("second Enter passed MaxDepth 1")
	}
	if err := s.Literal("nul"); err == nil {
		t.Fatalf("Literal matched the wrong text")
	}
	var se *SyntaxError
	if !errors.As(s.Error("x"), &se) || se.Error() != "syntax error at offset 0: x" {
		t.Fatalf("Error() = %v", se)
	}
}

func TestDeepInputDoesNotOverflow(t *testing.T) {
	deep := strings.Repeat("[", 1<<20)
	if err := Validate([]byte(deep), Options{}); err == nil || !strings.Contains(err.Error(), "nesting deeper") {
		t.Fatalf("err = %v", err)
	}
}

// The decoders rely on these paths not allocating.
func TestHotPathAllocations(t *testing.T) {
	data := []byte(`{"channel":"chat:index","offset":1234,"data":{"a":[1,2,"x"]},"ok":true}`)
	allocs := testing.AllocsPerRun(100, func() {
		s := NewScanner(data, Options{})
		s.Consume('{')
		for {
			if _, err := s.String(); err != nil {
				t.Fatal(err)
			}
			s.Consume(':')
			if err := s.SkipValue(); err != nil {
				t.Fatal(err)
			}
			if !s.Consume(',') {
				break
			}
		}
		if err := Validate(data, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations, want 0", allocs)
	}
}

func BenchmarkValidate(b *testing.B) {
	data := []byte(`{"id":1,"connect":{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln","data":{"app":"demo","n":[1,2.5,true,null]},"name":"js"}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
