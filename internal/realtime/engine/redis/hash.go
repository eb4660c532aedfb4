package redis

// fnv64a hashes a channel name. It must never change: every node of a
// cluster has to map a channel to the same shard and partition.
func fnv64a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// jumpHash maps key to a bucket in [0, buckets) so that growing the number
// of buckets from n to n+1 moves only 1/(n+1) of the keys (Lamping and
// Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm"). That keeps
// most channels (and their history) on the same shard when a Redis shard
// is added.
func jumpHash(key uint64, buckets int) int {
	if buckets <= 1 {
		return 0
	}
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
