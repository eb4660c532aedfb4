package proxy

import (
	"net/textproto"
	"strings"
)

// hopByHop are headers that describe the client's own connection (the
// WebSocket upgrade), not the request; forwarding them would make the
// backend see, say, `Upgrade: websocket` on a plain POST, so they are
// never forwarded even when allow-listed.
var hopByHop = map[string]bool{
	"connection":        true,
	"keep-alive":        true,
	"proxy-connection":  true,
	"transfer-encoding": true,
	"upgrade":           true,
	"te":                true,
	"trailer":           true,
	"host":              true,
	"content-length":    true,
}

// allowedName is one forwardable header: its canonical HTTP form (how
// http.Header stores it) and its lower-case form (gRPC metadata key).
type allowedName struct {
	canonical string
	lower     string
}

// allowList normalises configured header names: trimmed, de-duplicated
// case-insensitively, hop-by-hop and empty names dropped. keep, when not
// nil, is an extra filter (gRPC metadata key rules).
func allowList(names []string, keep func(lower string) bool) (out []allowedName, dropped []string) {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		lower := strings.ToLower(n)
		if lower == "" || seen[lower] {
			continue
		}
		seen[lower] = true
		if hopByHop[lower] || (keep != nil && !keep(lower)) {
			dropped = append(dropped, n)
			continue
		}
		out = append(out, allowedName{canonical: textproto.CanonicalMIMEHeaderKey(n), lower: lower})
	}
	return out, dropped
}
