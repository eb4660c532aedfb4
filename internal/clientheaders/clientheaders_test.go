package clientheaders

import (
	"context"
	"net/http"
	"testing"
)

func TestWithFrom(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer t")
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"attached", With(context.Background(), h), "Bearer t"},
		{"nil headers leave ctx alone", With(context.Background(), nil), ""},
		{"nothing attached", context.Background(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := From(tc.ctx).Get("Authorization"); got != tc.want {
				t.Fatalf("From(ctx).Get(Authorization) = %q, want %q", got, tc.want)
			}
		})
	}
}
