package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/spindle-rt/spindle/internal/clientheaders"
	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/internal/tlsconf"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// specConnectBody is the example request body of spec §2.5.
const specConnectBody = `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","name":"js","data":{"x":1}}`

func TestHTTPRequestBody(t *testing.T) {
	url, rec := startHTTP(t, &fakeApp{}, nil)
	common := func() (string, string, string, string) { return "9336", "websocket", "json", "json" }
	tests := []struct {
		name string
		call func(b *Client) error
		want string
	}{
		{"connect", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, Name: "js", Data: []byte(`{"x":1}`)})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","data":{"x":1},"name":"js"}`},
		{"refresh", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.Refresh(context.Background(), &proxypb.RefreshRequest{Client: c, Transport: tr, Protocol: p, Encoding: e})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":""}`},
		{"subscribe", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.Subscribe(context.Background(), &proxypb.SubscribeRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, Channel: "news"})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"news"}`},
		{"publish", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.Publish(context.Background(), &proxypb.PublishRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, Channel: "news", Data: []byte(`{"a":[1,2]}`)})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"news","data":{"a":[1,2]}}`},
		{"rpc", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.RPC(context.Background(), &proxypb.RPCRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, Method: "m"})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":"","method":"m"}`},
		{"sub_refresh", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.SubRefresh(context.Background(), &proxypb.SubRefreshRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, User: "42", Channel: "news"})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":"42","channel":"news"}`},
		{"map_publish", func(b *Client) error {
			c, tr, p, e := common()
			_, err := b.MapPublish(context.Background(), &proxypb.MapPublishRequest{Client: c, Transport: tr, Protocol: p, Encoding: e, Channel: "seats", Key: "a1", Data: []byte(`{"x":1}`), Meta: []byte(`{"m":1}`)})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"seats","key":"a1","data":{"x":1},"meta":{"m":1}}`},
		{"map_remove", func(b *Client) error {
			c, tr, p, _ := common()
			_, err := b.MapRemove(context.Background(), &proxypb.MapRemoveRequest{Client: c, Transport: tr, Protocol: p, Encoding: "binary", User: "42", Channel: "seats", Key: "a1"})
			return err
		}, `{"client":"9336","transport":"websocket","protocol":"json","encoding":"binary","user":"42","channel":"seats","key":"a1"}`},
		// The spec's example: per channel, no connection fields and no
		// "user"; a version of 0 (unknown, or asked again) is left out.
		{"shared_poll_refresh", func(b *Client) error {
			_, err := b.SharedPollRefresh(context.Background(), &proxypb.SharedPollRefreshRequest{Channel: "poll:x", Items: []*proxypb.SharedPollRefreshItem{{Key: "k1", Version: 3}, {Key: "k2"}}})
			return err
		}, `{"channel":"poll:x","items":[{"key":"k1","version":3},{"key":"k2"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(&Config{Endpoint: url + "/" + tc.name}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.call(b); err != nil {
				t.Fatal(err)
			}
			_, _, body, _ := rec.last()
			if string(body) != tc.want {
				t.Fatalf("body\n got %s\nwant %s", body, tc.want)
			}
		})
	}
	// Key order follows the proto field order (as Go's encoding/json over
	// the generated struct does in Centrifugo); the spec example lists
	// name before data, which is the same JSON object.
	var got, want map[string]any
	if err := json.Unmarshal([]byte(tests[0].want), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(specConnectBody), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("connect body %v differs from the spec example %v", got, want)
	}
}

func TestHTTPHeaders(t *testing.T) {
	url, rec := startHTTP(t, &fakeApp{}, nil)
	b, err := New(&Config{
		Endpoint: url + "/connect",
		StaticHTTPHeaders: map[string]string{
			"x-static":      "s",
			"Authorization": "static-auth",
			"Content-Type":  "text/plain",
			"Bad Name":      "dropped",
		},
		HTTPHeaders:  []string{"authorization", "X-REQUEST-ID", "Cookie", "Connection", "Upgrade", "Content-Type"},
		GRPCMetadata: []string{"X-Trace"},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := http.Header{
		"Authorization": {"Bearer t"},
		"X-Request-Id":  {"r1"},
		"Cookie":        {"a=1", "b=2"},
		"X-Not-Allowed": {"no"},
		"Connection":    {"Upgrade"},
		"Upgrade":       {"websocket"},
		"Content-Type":  {"text/html"},
	}
	ctx := clientheaders.With(context.Background(), client)
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-trace", "t1", "x-other", "o"))
	if _, err := b.Connect(ctx, &proxypb.ConnectRequest{Client: "c"}); err != nil {
		t.Fatal(err)
	}
	h, _, _, _ := rec.last()
	want := map[string][]string{
		"X-Static":      {"s"},
		"Authorization": {"Bearer t"}, // client overrides static
		"X-Request-Id":  {"r1"},       // allow-list is case-insensitive
		"Cookie":        {"a=1", "b=2"},
		"X-Trace":       {"t1"},               // incoming gRPC metadata
		"Content-Type":  {"application/json"}, // forced over static and client
		"X-Not-Allowed": nil,
		"X-Other":       nil,
		"Upgrade":       nil, // hop-by-hop never forwarded
		"Bad Name":      nil,
	}
	for k, v := range want {
		if got := h.Values(k); !reflect.DeepEqual(got, v) && !(len(got) == 0 && len(v) == 0) {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if strings.EqualFold(h.Get("Connection"), "upgrade") {
		t.Errorf("Connection: Upgrade was forwarded")
	}
	// The client's header map must not be modified.
	if client.Get("Content-Type") != "text/html" {
		t.Errorf("client headers were modified")
	}
}

func TestHTTPStatus(t *testing.T) {
	transforms := []StatusCodeTransform{
		{StatusCode: 403, ToDisconnect: &TransformDisconnect{Code: 4501, Reason: "forbidden"}},
		{StatusCode: 500, ToError: &TransformError{Code: 1500, Message: "backend down", Temporary: true}},
		{StatusCode: 404}, // neither target: ignored
	}
	tests := []struct {
		name       string
		status     int
		body       string
		transforms []StatusCodeTransform
		want       *proxypb.ConnectResponse
		wantErr    string
	}{
		{name: "500", status: 500, wantErr: "unexpected HTTP status 500"},
		{name: "201 is not 200", status: 201, body: `{"result":{"user":"x"}}`, wantErr: "unexpected HTTP status 201"},
		{name: "500 transformed", status: 500, transforms: transforms,
			want: &proxypb.ConnectResponse{Error: &proxypb.Error{Code: 1500, Message: "backend down", Temporary: true}}},
		{name: "403 transformed", status: 403, transforms: transforms,
			want: &proxypb.ConnectResponse{Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "forbidden"}}},
		{name: "404 empty transform", status: 404, transforms: transforms, wantErr: "unexpected HTTP status 404"},
		{name: "502 untransformed", status: 502, transforms: transforms, wantErr: "unexpected HTTP status 502"},
		{name: "garbage", status: 200, body: `<html>oops`, wantErr: "decode response"},
		{name: "truncated", status: 200, body: `{"result":{"user":"x"`, wantErr: "decode response"},
		{name: "empty", status: 200, body: ``, wantErr: "decode response"},
		{name: "ok, unknown keys ignored", status: 200, body: `{"result":{"user":"56","zzz":1},"other":true}`,
			want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "56"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := startHTTP(t, nil, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			ep := url + "/connect"
			b, err := New(&Config{Endpoint: ep, StatusCodeTransforms: tc.transforms}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"})
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error, got %v", got)
				}
				for _, s := range []string{"proxy connect " + ep, tc.wantErr} {
					if !strings.Contains(err.Error(), s) {
						t.Fatalf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want.String() {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHTTPTransformEveryResponseType(t *testing.T) {
	url, _ := startHTTP(t, nil, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	b, err := New(&Config{Endpoint: url, Timeout: time.Second, StatusCodeTransforms: []StatusCodeTransform{
		{StatusCode: 503, ToError: &TransformError{Code: 1503, Message: "m"}},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var errs []*proxypb.Error
	if r, err := b.Refresh(ctx, &proxypb.RefreshRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.Subscribe(ctx, &proxypb.SubscribeRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.Publish(ctx, &proxypb.PublishRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.RPC(ctx, &proxypb.RPCRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.SubRefresh(ctx, &proxypb.SubRefreshRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.MapPublish(ctx, &proxypb.MapPublishRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.MapRemove(ctx, &proxypb.MapRemoveRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if r, err := b.SharedPollRefresh(ctx, &proxypb.SharedPollRefreshRequest{}); err == nil {
		errs = append(errs, r.GetError())
	}
	if len(errs) != 8 {
		t.Fatalf("%d of 8 calls succeeded", len(errs))
	}
	for i, e := range errs {
		if e.GetCode() != 1503 {
			t.Errorf("call %d: error %v, want code 1503", i, e)
		}
	}
}

// TestHTTPNeverFollowsRedirects: a connect backend that redirects to
// another host must not get that host's answer accepted as the user's
// identity (hardening defect 7). The call fails and says why; the other
// host is never asked.
func TestHTTPNeverFollowsRedirects(t *testing.T) {
	var stolenAsked atomic.Bool
	stolen := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		stolenAsked.Store(true)
		_, _ = w.Write([]byte(`{"result":{"user":"stolen"}}`))
	}))
	defer stolen.Close()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, stolen.URL+"/connect", code)
		}))
		b, err := New(&Config{Name: "connect", Endpoint: backend.URL + "/connect", Timeout: 2 * time.Second}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c1"})
		if err == nil {
			t.Fatalf("%d: redirect followed, answer %v accepted", code, resp)
		}
		if !strings.Contains(err.Error(), "never follow redirects") || !strings.Contains(err.Error(), stolen.URL) {
			t.Errorf("%d: error %q does not say the redirect was refused and where it pointed", code, err)
		}
		_ = b.Close()
		backend.Close()
	}
	if stolenAsked.Load() {
		t.Fatal("the redirect target was called")
	}
}

// TestHTTPTLS: an https:// backend with a private CA that requires a
// client certificate answers a proxy holding both, and refuses one
// without the certificate or trusting another CA.
func TestHTTPTLS(t *testing.T) {
	serverCert, caPEM := selfSigned(t)
	clientCert, clientPEM := selfSigned(t, x509.ExtKeyUsageClientAuth)
	clientKey, err := x509.MarshalECPrivateKey(clientCert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	clientKeyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: clientKey})
	_, otherPEM := selfSigned(t)

	app := &fakeApp{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := new(proxypb.ConnectRequest)
		body, _ := io.ReadAll(r.Body)
		if err := pbjson.Unmarshal(body, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, _ := pbjson.Marshal(app.answer(r.Context(), req))
		_, _ = w.Write(out)
	}))
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(clientPEM)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		tls     *tlsconf.Settings
		wantErr string // "" = answered
	}{
		{"private CA and client certificate", &tlsconf.Settings{CA: caPEM, Cert: clientPEM, Key: clientKeyPEM}, ""},
		{"no client certificate", &tlsconf.Settings{CA: caPEM}, "certificate required"},
		{"another CA", &tlsconf.Settings{CA: otherPEM, Cert: clientPEM, Key: clientKeyPEM}, "certificate signed by unknown authority"},
		{"system roots", nil, "certificate signed by unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(&Config{Name: "c", Endpoint: srv.URL + "/connect", Timeout: 5 * time.Second, HTTPTLS: tc.tls}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			resp, err := b.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c"})
			if tc.wantErr == "" {
				if err != nil || resp.GetResult().GetUser() != "u-c" {
					t.Fatalf("got %v, %v", resp, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, %v; want an error containing %q", resp, err, tc.wantErr)
			}
		})
	}
}
