package jsonwire

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\s`, `"q\"b\\s"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<>&é", `"<>&é"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"a\xffb\xe2\x82", `"a\ufffdb\ufffd\ufffd"`},
		{"😀", `"😀"`},
	}
	for _, tt := range tests {
		got := AppendString([]byte("x"), tt.in)
		if string(got) != "x"+tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got[1:], tt.want)
		}
	}
}

// The short forms of \b and \f are what encoding/json writes, too.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"\b\f", "ctl\x01\x1f", "\u2028", "é😀", "q\"\\"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want = bytes.ReplaceAll(want, []byte(`\u003c`), []byte("<"))
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, encoding/json %s", s, got, want)
		}
	}
}

func TestAppendCompact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{\n\t\"a\" : [ 1 , 2 ]\r\n}", `{"a":[1,2]}`},
		{`" keep \" spaces "`, `" keep \" spaces "`},
		{`"a\\" , "b"`, `"a\\","b"`},
		{`"trailing \`, `"trailing \`}, // invalid input: copied, no panic
	}
	for _, tt := range tests {
		if got := AppendCompact(nil, []byte(tt.in)); string(got) != tt.want {
			t.Errorf("AppendCompact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "5b1c6f8e-6a3b-4b8a-9c1d-2f4e5a6b7c8d chat:index hello, world"
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
