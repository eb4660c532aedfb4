// Package auth verifies the JWTs that Centrifugo-compatible clients present
// when they connect, refresh, subscribe or refresh a subscription.
//
// It exists so that the node can treat a token as a small typed value
// (ConnectToken, SubscribeToken) and a two-way outcome (ErrTokenExpired,
// which clients answer by fetching a new token, versus ErrInvalidToken,
// which they must not retry) without knowing anything about signature
// algorithms, key distribution or claim encodings.
package auth
