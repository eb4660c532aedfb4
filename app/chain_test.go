package app

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

// recorder returns an interceptor that notes its name before and after
// calling next.
func recorder(log *[]string, name string) Interceptor {
	return func(ctx context.Context, req Request, next Handler) (Reply, error) {
		*log = append(*log, name)
		r, err := next(ctx, req)
		*log = append(*log, "/"+name)
		return r, err
	}
}

func TestInterceptorOrder(t *testing.T) {
	type reg struct {
		all   bool
		name  string
		types []Type
		deny  bool // answers by itself instead of calling next
	}
	tests := []struct {
		name string
		regs []reg
		call Type
		want []string
	}{
		{"no interceptors", nil, TypeSubscribe, []string{"service"}},
		{"star only, in registration order", []reg{{all: true, name: "a"}, {all: true, name: "b"}}, TypeSubscribe,
			[]string{"a", "b", "service", "/b", "/a"}},
		{"type only", []reg{{name: "s", types: []Type{TypeSubscribe}}, {name: "p", types: []Type{TypePublish}}}, TypeSubscribe,
			[]string{"s", "service", "/s"}},
		{"star before type even when registered later", []reg{
			{name: "t1", types: []Type{TypeSubscribe}},
			{all: true, name: "a1"},
			{name: "t2", types: []Type{TypeSubscribe}},
			{all: true, name: "a2"},
		}, TypeSubscribe, []string{"a1", "a2", "t1", "t2", "service", "/t2", "/t1", "/a2", "/a1"}},
		{"one interceptor for several types", []reg{{name: "m", types: []Type{TypeConnect, TypeSubscribe}}}, TypeSubscribe,
			[]string{"m", "service", "/m"}},
		{"other types' interceptors skipped", []reg{{all: true, name: "a"}, {name: "c", types: []Type{TypeConnect}}}, TypeSubscribe,
			[]string{"a", "service", "/a"}},
		{"short-circuit stops the chain", []reg{
			{all: true, name: "a"},
			{name: "deny", types: []Type{TypeSubscribe}, deny: true},
			{name: "never", types: []Type{TypeSubscribe}},
		}, TypeSubscribe, []string{"a", "deny", "/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			a, _ := testApp(Options{})
			a.HandleSubscribe(func(_ context.Context, r *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
				got = append(got, "service")
				return r.Allow(), nil
			})
			denied := false
			for _, r := range tt.regs {
				ic := recorder(&got, r.name)
				if r.deny {
					name := r.name
					ic = func(_ context.Context, req Request, _ Handler) (Reply, error) {
						got = append(got, name)
						denied = true
						return Deny(req, 403, "denied by "+name), nil
					}
				}
				if r.all {
					a.InterceptAll(ic)
				} else {
					a.Intercept(ic, r.types...)
				}
			}
			resp, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{Channel: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("order %v, want %v", got, tt.want)
			}
			if denied != (resp.GetError().GetCode() == 403) {
				t.Fatalf("reply %v, denied=%v", resp, denied)
			}
		})
	}
}

func TestRegistrationAfterFirstCallRebuildsChains(t *testing.T) {
	var got []string
	a, _ := testApp(Options{})
	a.HandleSubscribe(func(_ context.Context, r *SubscribeRequest) (*proxypb.SubscribeResponse, error) {
		return r.Allow(), nil
	})
	if _, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{}); err != nil {
		t.Fatal(err)
	}
	a.InterceptAll(recorder(&got, "late"))
	if _, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"late", "/late"}) {
		t.Fatalf("late interceptor not applied: %v", got)
	}
	a.HandleSubscribe(nil)
	resp, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{})
	if err != nil || resp.GetError().GetCode() != CodeNotAvailable {
		t.Fatalf("removed service: %v %v", resp, err)
	}
}

var userKey = NewKey[string]("user")

func TestInterceptorEnrichesContext(t *testing.T) {
	a, _ := testApp(Options{})
	auth := func(ctx context.Context, req Request, next Handler) (Reply, error) {
		tok := req.Header().Get("Authorization")
		if tok == "" {
			return Disconnect(req, 4501, "unauthorized"), nil
		}
		return next(userKey.WithValue(ctx, strings.TrimPrefix(tok, "Bearer ")), req)
	}
	a.InterceptAll(auth)
	a.HandleConnect(func(ctx context.Context, r *ConnectRequest) (*proxypb.ConnectResponse, error) {
		u, ok := userKey.Value(ctx)
		if !ok {
			return nil, fmt.Errorf("no user in context")
		}
		return r.Allow(u), nil
	})
	resp, err := a.Connect(context.Background(), &proxypb.ConnectRequest{})
	if err != nil || resp.GetDisconnect().GetCode() != 4501 {
		t.Fatalf("without header: %v %v", resp, err)
	}
	// In-process calls take headers from the context (clientheaders.With).
	ctx := withHeaders(context.Background(), "Authorization", "Bearer 42")
	resp, err = a.Connect(ctx, &proxypb.ConnectRequest{})
	if err != nil || resp.GetResult().GetUser() != "42" {
		t.Fatalf("with header: %v %v", resp, err)
	}
	if userKey.String() != "app.Key(user)" {
		t.Errorf("key name %q", userKey)
	}
}

func TestInterceptorWrongReplyType(t *testing.T) {
	a, lb := testApp(Options{})
	a.Intercept(func(context.Context, Request, Handler) (Reply, error) {
		return &proxypb.SubscribeResponse{}, nil
	}, TypeConnect)
	resp, err := a.Connect(context.Background(), &proxypb.ConnectRequest{Client: "cx"})
	if err != nil || resp.GetError().GetCode() != CodeInternal || !resp.GetError().GetTemporary() {
		t.Fatalf("%v %v", resp, err)
	}
	lb.waitFor(t, "wrong type", "type=connect", "client=cx")
}
