package auth

import (
	"errors"
	"fmt"
)

// ErrTokenExpired reports a token whose `exp` has passed or whose `nbf` has
// not yet come. It is separate from ErrInvalidToken because the protocol
// answers it with "token expired" (109 / 3005), which makes clients fetch a
// fresh token instead of giving up.
var ErrTokenExpired = errors.New("token expired")

// ErrInvalidToken reports any other verification failure (bad signature,
// disallowed algorithm, unknown key, claim mismatch, malformed claims,
// unreachable JWKS endpoint). Returned errors wrap it together with the
// concrete cause so that logs say why while callers only need errors.Is.
var ErrInvalidToken = errors.New("invalid token")

// invalid wraps cause as an ErrInvalidToken.
func invalid(cause error) error {
	return fmt.Errorf("%w: %w", ErrInvalidToken, cause)
}

// invalidf builds an ErrInvalidToken with a formatted cause.
func invalidf(format string, args ...any) error {
	return invalid(fmt.Errorf(format, args...))
}
