package tracksign

import "testing"

func TestSign(t *testing.T) {
	// Computed with Python's hmac and hashlib from the recipe in the
	// Centrifugo docs, independently of this code.
	got := Sign("secret", "1700000000", "1700003600", "alice", "seatsleft:schedule", []string{"1", "2"})
	const want = "1700000000:1700003600:5d8839b4957c149da522028ffb3fb986f51a1a8c5ba6acecba2b522b6d5983e8"
	if got != want {
		t.Fatalf("signature\n got %s\nwant %s", got, want)
	}
	if Sign("s", "1", "0", "u", "c", []string{"1", "2"}) == Sign("s", "1", "0", "u", "c", []string{"2", "1"}) {
		t.Fatal("key order does not change the signature")
	}
}
