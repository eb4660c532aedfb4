package memory

import (
	"slices"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// streamOf builds a stream holding offsets first..top.
func streamOf(first, top uint64) *stream {
	s := &stream{epoch: "e", top: first - 1}
	now := time.Unix(0, 0)
	for off := first; off <= top; off++ {
		s.add(&engine.Publication{}, int(top-first+1), time.Hour, time.Hour, now)
	}
	return s
}

func TestStreamSlice(t *testing.T) {
	since := func(off uint64) *engine.StreamPosition { return &engine.StreamPosition{Offset: off, Epoch: "e"} }
	cases := []struct {
		name       string
		first, top uint64
		since      *engine.StreamPosition
		limit      int
		reverse    bool
		want       []uint64
	}{
		{"all", 1, 5, nil, -1, false, []uint64{1, 2, 3, 4, 5}},
		{"none with limit 0", 1, 5, nil, 0, false, nil},
		{"limit", 1, 5, nil, 2, false, []uint64{1, 2}},
		{"reverse", 1, 5, nil, -1, true, []uint64{5, 4, 3, 2, 1}},
		{"reverse limit", 1, 5, nil, 3, true, []uint64{5, 4, 3}},
		{"since middle", 1, 5, since(3), -1, false, []uint64{4, 5}},
		{"since trimmed offset starts at oldest", 4, 8, since(1), -1, false, []uint64{4, 5, 6, 7, 8}},
		{"since right before oldest", 4, 8, since(3), 2, false, []uint64{4, 5}},
		{"since inside trimmed stream", 4, 8, since(6), -1, false, []uint64{7, 8}},
		{"since top", 4, 8, since(8), -1, false, nil},
		{"since beyond top", 4, 8, since(20), -1, false, nil},
		{"reverse since middle", 4, 8, since(7), -1, true, []uint64{6, 5, 4}},
		{"reverse since middle limit", 4, 8, since(7), 2, true, []uint64{6, 5}},
		{"reverse since oldest", 4, 8, since(4), -1, true, nil},
		{"reverse since trimmed", 4, 8, since(2), -1, true, nil},
		{"reverse since beyond top", 4, 8, since(20), 2, true, []uint64{8, 7}},
		{"reverse since top+1", 4, 8, since(9), -1, true, []uint64{8, 7, 6, 5, 4}},
		{"reverse since 0", 1, 3, since(0), -1, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := streamOf(tc.first, tc.top)
			got := offsetsOf(s.slice(tc.since, tc.limit, tc.reverse))
			if !slices.Equal(got, tc.want) {
				t.Errorf("slice = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStreamSliceEmpty(t *testing.T) {
	s := streamOf(1, 3)
	s.clear()
	if got := s.slice(nil, -1, false); len(got) != 0 {
		t.Errorf("cleared stream returned %v", offsetsOf(got))
	}
	if s.top != 3 {
		t.Errorf("clear changed top to %d", s.top)
	}
}

func TestStreamSliceIsACopy(t *testing.T) {
	s := streamOf(1, 3)
	got := s.slice(nil, -1, false)
	got[0] = nil
	if s.pubs[0] == nil {
		t.Fatal("slice shares its backing array with the stream")
	}
}

func TestStreamTrim(t *testing.T) {
	s := &stream{epoch: "e"}
	now := time.Unix(0, 0)
	for range 10 {
		s.add(&engine.Publication{}, 3, time.Hour, time.Hour, now)
	}
	if got := offsetsOf(s.pubs); !slices.Equal(got, []uint64{8, 9, 10}) || s.top != 10 {
		t.Errorf("after 10 adds with size 3: %v top %d", got, s.top)
	}
}

func TestNewEpoch(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		e := newEpoch()
		if len(e) != epochLen {
			t.Fatalf("epoch %q has length %d", e, len(e))
		}
		if seen[e] {
			t.Fatalf("epoch %q repeated", e)
		}
		seen[e] = true
	}
}

func offsetsOf(pubs []*engine.Publication) []uint64 {
	var out []uint64
	for _, p := range pubs {
		out = append(out, p.Offset)
	}
	return out
}
