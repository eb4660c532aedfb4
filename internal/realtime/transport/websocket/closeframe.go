package websocket

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

// maxCloseReason is the longest reason a close frame can carry: 125 bytes of
// control payload minus the 2-byte code.
const maxCloseReason = 123

// closePayload builds the close frame body, or returns nil when code may not
// appear on the wire (then the connection is dropped without a close frame).
func closePayload(code int, reason string) []byte {
	if !sendableCloseCode(code) {
		return nil
	}
	reason = truncateReason(strings.ToValidUTF8(reason, ""))
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	return p
}

// sendableCloseCode follows RFC 6455 §7.4: 1004–1006 and 1015 are reserved
// for local use, and only 1000–1014 and 3000–4999 are defined.
func sendableCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// truncateReason shortens s to maxCloseReason bytes without splitting a
// UTF-8 sequence, because peers fail the connection on invalid UTF-8.
func truncateReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
