package app

import "context"

// Key is a typed context key: interceptors use it to hand values (the
// authenticated user, a trace span) to services without string keys or
// type assertions at every use.
//
//	var UserID = app.NewKey[string]("user_id")
//	ctx = UserID.WithValue(ctx, "42")       // in an interceptor
//	id, ok := UserID.Value(ctx)             // in a service
type Key[T any] struct{ name string }

// NewKey returns a new key; name is for debugging only, two keys never
// collide even with the same name.
func NewKey[T any](name string) *Key[T] { return &Key[T]{name: name} }

// WithValue returns a context carrying v under k.
func (k *Key[T]) WithValue(ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, k, v)
}

// Value returns the value stored under k, and whether there was one.
func (k *Key[T]) Value(ctx context.Context) (T, bool) {
	v, ok := ctx.Value(k).(T)
	return v, ok
}

// String names the key.
func (k *Key[T]) String() string { return "app.Key(" + k.name + ")" }
