package app

import (
	"testing"
	"time"
)

func TestSignSharedPollTrack(t *testing.T) {
	// The vector was computed with Python's hmac and hashlib from the
	// recipe in the Centrifugo docs, independently of this code.
	got := SignSharedPollTrack("secret", "alice", "seatsleft:schedule", []string{"1", "2"}, time.Unix(1700000000, 0), time.Unix(1700003600, 0))
	const want = "1700000000:1700003600:5d8839b4957c149da522028ffb3fb986f51a1a8c5ba6acecba2b522b6d5983e8"
	if got != want {
		t.Fatalf("signature\n got %s\nwant %s", got, want)
	}
	if a, b := SignSharedPollTrack("secret", "alice", "c", []string{"1", "2"}, time.Unix(1, 0), time.Time{}), SignSharedPollTrack("secret", "alice", "c", []string{"2", "1"}, time.Unix(1, 0), time.Time{}); a == b {
		t.Fatal("key order does not change the signature")
	}
}

func ExampleSignSharedPollTrack() {
	sig := SignSharedPollTrack("the-server's-shared_poll.hmac_secret_key", "alice", "scores:today", []string{"match-1", "match-2"}, time.Unix(1700000000, 0), time.Unix(1700003600, 0))
	_ = sig // hand it to the client's getSignature callback as {keys, signature}
}
