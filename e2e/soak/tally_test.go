package main

import "testing"

// TestMissing checks the soak's loss accounting on its own: an
// acknowledged publication that was never seen is lost, an unacknowledged
// one is not, and a repeat is a duplicate rather than a second delivery.
func TestMissing(t *testing.T) {
	tests := []struct {
		name      string
		acked     []bool
		seen      []int
		wantMiss  int
		wantDupes int
	}{
		{"all seen", []bool{true, true, true}, []int{0, 1, 2}, 0, 0},
		{"gap", []bool{true, true, true}, []int{0, 2}, 1, 0},
		{"tail never arrived", []bool{true, true, true}, []int{0}, 2, 0},
		{"unacked not counted", []bool{true, false, true}, []int{0, 2}, 0, 0},
		{"duplicate", []bool{true, true}, []int{0, 1, 1}, 0, 1},
		{"nothing seen", []bool{true}, nil, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r received
			for i, s := range tt.seen {
				r.add(s, uint64(i+1))
			}
			if got := r.missing(tt.acked); got != tt.wantMiss {
				t.Errorf("missing = %d, want %d", got, tt.wantMiss)
			}
			if r.duplicates != tt.wantDupes {
				t.Errorf("duplicates = %d, want %d", r.duplicates, tt.wantDupes)
			}
		})
	}
}

func TestChannelLog(t *testing.T) {
	var l channelLog
	a, b := l.take(), l.take()
	l.ack(b)
	got := l.snapshot()
	if a != 0 || b != 1 || len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("take/ack/snapshot = %d %d %v, want 0 1 [false true]", a, b, got)
	}
}
