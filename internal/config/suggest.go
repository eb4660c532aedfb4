package config

import "strings"

// suggest returns the known name closest to an unknown one, or "" when
// nothing is close enough to be a plausible typo.
func suggest(unknown string, candidates []string) string {
	u := normalizeKey(unknown)
	best, bestDist := "", -1
	for _, c := range candidates {
		nc := normalizeKey(c)
		d := editDistance(u, nc)
		if len(u) >= 5 && strings.HasPrefix(nc, u) && d > 1 {
			d = 2 // a truncated key ("rpc_proxy" for "rpc_proxy_name")
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := len(u) / 4
	if limit < 2 {
		limit = 2
	}
	if bestDist < 0 || bestDist > limit || best == unknown {
		return ""
	}
	return best
}

// normalizeKey folds the differences that are never meaningful in a key:
// case and dash versus underscore.
func normalizeKey(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		// Keys are short; don't spend quadratic time on garbage.
		if a == b {
			return 0
		}
		return len(a) + len(b)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
