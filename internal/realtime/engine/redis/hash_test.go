package redis

import (
	"strconv"
	"testing"
)

func TestJumpHash(t *testing.T) {
	cases := []struct {
		key     uint64
		buckets int
		want    int
	}{
		{0, 1, 0},
		{12345, 0, 0},
		{12345, -3, 0},
	}
	for _, tc := range cases {
		if got := jumpHash(tc.key, tc.buckets); got != tc.want {
			t.Errorf("jumpHash(%d, %d) = %d, want %d", tc.key, tc.buckets, got, tc.want)
		}
	}
	// Keys stay in range, spread evenly, and growing from 4 to 5 buckets
	// moves only about a fifth of them, all to the new bucket.
	const n = 20000
	counts := make([]int, 5)
	moved := 0
	for i := range n {
		h := fnv64a("channel:" + strconv.Itoa(i))
		a, b := jumpHash(h, 4), jumpHash(h, 5)
		if a < 0 || a >= 4 || b < 0 || b >= 5 {
			t.Fatalf("bucket out of range: %d of 4, %d of 5", a, b)
		}
		counts[b]++
		if a != b {
			moved++
			if b != 4 {
				t.Fatalf("key moved from %d to old bucket %d", a, b)
			}
		}
	}
	if moved < n/5-n/50 || moved > n/5+n/50 {
		t.Errorf("%d of %d keys moved, want about %d", moved, n, n/5)
	}
	for i, c := range counts {
		if c < n/5-n/25 || c > n/5+n/25 {
			t.Errorf("bucket %d holds %d keys, want about %d", i, c, n/5)
		}
	}
}

func TestFNVKnownValues(t *testing.T) {
	// Published FNV-1a 64 test vectors: the routing hash must never
	// change, or nodes of different versions would disagree.
	if got := fnv64a(""); got != 0xcbf29ce484222325 {
		t.Errorf("fnv64a(\"\") = %#x", got)
	}
	if got := fnv64a("a"); got != 0xaf63dc4c8601ec8c {
		t.Errorf("fnv64a(\"a\") = %#x", got)
	}
}
