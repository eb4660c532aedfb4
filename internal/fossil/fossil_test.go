package fossil

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// The vectors are the output of the Go port of Fossil that Centrifugo's
// library uses (see the transports spec, §3.4).
func TestDeltaVectors(t *testing.T) {
	pad := `"pad":"xxxxxxxxxxxxxxxxxxxx"}`
	tests := []struct {
		name, source, target, want string
	}{
		{"short source: one insert", "x", "hello", "5\n5:hello3NPMmh;"},
		{"one changed byte", `{"a":1,` + pad, `{"a":2,` + pad, "_\nE:{\"a\":2,\"pad\":\"I@G,4:xx\"}2vCbtw;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Delta([]byte(tt.source), []byte(tt.target))
			if string(got) != tt.want {
				t.Fatalf("Delta = %q, want %q", got, tt.want)
			}
			back, err := Apply([]byte(tt.source), got, 0)
			if err != nil || string(back) != tt.target {
				t.Fatalf("Apply = %q, %v", back, err)
			}
		})
	}
	if Checksum([]byte("hello")) != 0xD7656C6C {
		t.Errorf("Checksum(hello) = %#x, want 0xD7656C6C", Checksum([]byte("hello")))
	}
}

// Many small changes to a JSON document, as a live feed makes them: every
// delta applies back, and it is much smaller than the document.
func TestDeltaRoundTripsAndCompresses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	doc := []byte(`{"prices":[` + strings.Repeat(`{"sym":"ABCD","bid":101.25,"ask":101.27,"vol":123456},`, 40) + `{}]}`)
	var total, full int
	for range 200 {
		next := bytes.Clone(doc)
		for range 3 {
			i := rng.IntN(len(next))
			if next[i] >= '0' && next[i] <= '9' {
				next[i] = byte('0' + rng.IntN(10))
			}
		}
		d := Delta(doc, next)
		back, err := Apply(doc, d, 0)
		if err != nil || !bytes.Equal(back, next) {
			t.Fatalf("round trip failed: %v", err)
		}
		total += len(d)
		full += len(next)
		doc = next
	}
	if total*5 > full {
		t.Errorf("deltas are %d bytes for %d of documents; want under a fifth", total, full)
	}
}

func TestApplyRefusesBadDeltas(t *testing.T) {
	src := []byte(`{"a":1,"pad":"xxxxxxxxxxxxxxxxxxxx"}`)
	good := string(Delta(src, []byte(`{"a":2,"pad":"xxxxxxxxxxxxxxxxxxxx"}`)))
	tests := []struct{ name, delta string }{
		{"empty", ""},
		{"no newline", "5"},
		{"unterminated", "5\n5:hello"},
		{"bad checksum", "5\n5:hello3NPMmi;"},
		{"short target", "6\n5:hello3NPMmh;"},
		{"copy past source", "5\n5@99,3NPMmh;"},
		{"insert past end", "5\n9:hello"},
		{"unknown operator", "5\n5!hello3NPMmh;"},
		{"trailing data", "5\n5:hello3NPMmh;x"},
		{"overflowing number", "~~~~~~~\n"},
		{"copy without comma", strings.Replace(good, ",", ";", 1)},
		{"over the size cap", "_____\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := Apply(src, []byte(tt.delta), 1<<20); !errors.Is(err, ErrBadDelta) {
				t.Fatalf("Apply(%q) = %q, %v; want ErrBadDelta", tt.delta, out, err)
			}
		})
	}
}

func FuzzDelta(f *testing.F) {
	f.Add([]byte(`{"a":1,"pad":"xxxxxxxxxxxxxxxxxxxx"}`), []byte(`{"a":2,"pad":"xxxxxxxxxxxxxxxxxxxx"}`))
	f.Add([]byte("x"), []byte("hello"))
	f.Add([]byte(strings.Repeat("abcdefghijklmnop", 4)), []byte(strings.Repeat("abcdefghijklmnoq", 4)))
	f.Fuzz(func(t *testing.T, source, target []byte) {
		d := Delta(source, target)
		back, err := Apply(source, d, 0)
		if err != nil || !bytes.Equal(back, target) {
			t.Fatalf("Apply(Delta) = %q, %v; want %q", back, err, target)
		}
		// Apply must refuse garbage without panicking.
		_, _ = Apply(source, target, 1<<16)
	})
}

func BenchmarkDelta(b *testing.B) {
	doc := []byte(`{"prices":[` + strings.Repeat(`{"sym":"ABCD","bid":101.25,"ask":101.27,"vol":123456},`, 40) + `{}]}`)
	next := bytes.Replace(doc, []byte("101.27"), []byte("101.28"), 1)
	b.SetBytes(int64(len(next)))
	b.ReportAllocs()
	for b.Loop() {
		Delta(doc, next)
	}
}
