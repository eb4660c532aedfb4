package node

import "math"

// ttlSeconds is the ttl a reply states for an expiry secs seconds away.
// The wire field is 32 bits; an exp claim far in the future (a token "for
// ever" minted as year 9999) would wrap to a small or zero ttl and make the
// client refresh at once or in a loop, so it is clamped, and a past or
// present expiry still says at least one second.
func ttlSeconds(secs int64) uint32 {
	switch {
	case secs < 1:
		return 1
	case secs > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(secs)
}
