package node

import "fmt"

// Error is a client-protocol or server-API error: the code clients and SDKs
// react to, with a short message. Codes below 100 belong to SDKs; 400–1999
// are left to applications (proxy backends pass them through verbatim).
type Error struct {
	Code      uint32
	Message   string
	Temporary bool
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// The protocol's error codes. Temporary ones make SDKs retry.
var (
	ErrorInternal              = &Error{Code: 100, Message: "internal server error", Temporary: true}
	ErrorUnauthorized          = &Error{Code: 101, Message: "unauthorized"}
	ErrorUnknownChannel        = &Error{Code: 102, Message: "unknown channel"}
	ErrorPermissionDenied      = &Error{Code: 103, Message: "permission denied"}
	ErrorMethodNotFound        = &Error{Code: 104, Message: "method not found"}
	ErrorAlreadySubscribed     = &Error{Code: 105, Message: "already subscribed"}
	ErrorLimitExceeded         = &Error{Code: 106, Message: "limit exceeded"}
	ErrorBadRequest            = &Error{Code: 107, Message: "bad request"}
	ErrorNotAvailable          = &Error{Code: 108, Message: "not available"}
	ErrorTokenExpired          = &Error{Code: 109, Message: "token expired"}
	ErrorExpired               = &Error{Code: 110, Message: "expired"}
	ErrorTooManyRequests       = &Error{Code: 111, Message: "too many requests", Temporary: true}
	ErrorUnrecoverablePosition = &Error{Code: 112, Message: "unrecoverable position"}
)

// Disconnect closes a connection with a code and a plain-text reason. Codes
// 3000–3499 and 4000–4499 tell SDKs to reconnect; 3500–3999 and 4500–4999
// are terminal.
type Disconnect struct {
	Code   uint32
	Reason string
}

func (d *Disconnect) Error() string { return fmt.Sprintf("disconnect %d: %s", d.Code, d.Reason) }

// Reconnect reports whether an SDK receiving this disconnect tries again.
func (d *Disconnect) Reconnect() bool {
	switch {
	case d.Code >= 3500 && d.Code < 4000, d.Code >= 4500 && d.Code < 5000:
		return false
	}
	return true
}

// The protocol's disconnect codes.
var (
	DisconnectConnectionClosed      = &Disconnect{Code: 3000, Reason: "connection closed"}
	DisconnectShutdown              = &Disconnect{Code: 3001, Reason: "shutdown"}
	DisconnectServerError           = &Disconnect{Code: 3004, Reason: "internal server error"}
	DisconnectExpired               = &Disconnect{Code: 3005, Reason: "connection expired"}
	DisconnectSubExpired            = &Disconnect{Code: 3006, Reason: "subscription expired"}
	DisconnectSlow                  = &Disconnect{Code: 3008, Reason: "slow"}
	DisconnectWriteError            = &Disconnect{Code: 3009, Reason: "write error"}
	DisconnectInsufficientState     = &Disconnect{Code: 3010, Reason: "insufficient state"}
	DisconnectForceReconnect        = &Disconnect{Code: 3011, Reason: "force reconnect"}
	DisconnectNoPong                = &Disconnect{Code: 3012, Reason: "no pong"}
	DisconnectTooManyRequests       = &Disconnect{Code: 3013, Reason: "too many requests"}
	DisconnectInvalidToken          = &Disconnect{Code: 3500, Reason: "invalid token"}
	DisconnectBadRequest            = &Disconnect{Code: 3501, Reason: "bad request"}
	DisconnectStale                 = &Disconnect{Code: 3502, Reason: "stale"}
	DisconnectForceNoReconnect      = &Disconnect{Code: 3503, Reason: "force disconnect"}
	DisconnectConnectionLimit       = &Disconnect{Code: 3504, Reason: "connection limit"}
	DisconnectChannelLimit          = &Disconnect{Code: 3505, Reason: "channel limit"}
	DisconnectInappropriateProtocol = &Disconnect{Code: 3506, Reason: "inappropriate protocol"}
	DisconnectPermissionDenied      = &Disconnect{Code: 3507, Reason: "permission denied"}
	DisconnectNotAvailable          = &Disconnect{Code: 3508, Reason: "not available"}
	DisconnectTooManyErrors         = &Disconnect{Code: 3509, Reason: "too many errors"}
)

// Unsubscribe codes pushed to a client for one subscription; below 2500
// the SDK stops, from 2500 it resubscribes.
const (
	UnsubscribeCodeServer            uint32 = 2000
	UnsubscribeCodeInsufficientState uint32 = 2500
	UnsubscribeCodeExpired           uint32 = 2501
)
