package redis

import "math/rand/v2"

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// epochLen makes two epochs of one channel colliding (62^8 ≈ 2·10^14
// values) practically impossible.
const epochLen = 8

// randomID returns n random alphanumeric characters. Alphanumeric matters:
// epochs travel inside ':'-separated frame headers.
func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[rand.N(len(idAlphabet))]
	}
	return string(b)
}

// newEpoch proposes the epoch a stream gets if a call finds it missing.
func newEpoch() string {
	return randomID(epochLen)
}
