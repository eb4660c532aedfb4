package memory

import "math/rand/v2"

const epochAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// epochLen makes a collision between two epochs of one channel
// (62^8 ≈ 2·10^14 values) practically impossible.
const epochLen = 8

// newEpoch returns a random opaque epoch; a new one marks a stream that
// was lost, so offsets from before it cannot be trusted.
func newEpoch() string {
	var b [epochLen]byte
	for i := range b {
		b[i] = epochAlphabet[rand.N(len(epochAlphabet))]
	}
	return string(b[:])
}
