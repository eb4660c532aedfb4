package config

import "strings"

// originFix reports whether an allowed_origins pattern can ever match the
// Origin header a browser sends — scheme://host[:port], no path, no
// trailing slash — and, when it cannot, the pattern that was most likely
// meant. Such an entry refuses every browser silently, so it is worth a
// warning with the fix.
func originFix(pattern string) (fix string, ok bool) {
	p := strings.TrimSpace(pattern)
	if p == "*" {
		return p, true
	}
	scheme, rest, hasScheme := strings.Cut(p, "://")
	if !hasScheme {
		// "example.com" or "*.example.com:8080": the scheme is missing.
		host, _, _ := strings.Cut(p, "/")
		return "https://" + host, false
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return scheme + "://" + rest[:i], false
	}
	return p, true
}
