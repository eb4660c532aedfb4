package api

import (
	"context"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/proto/apipb"
)

// newGRPCClient serves the API on 127.0.0.1:0 and returns a client of it.
func newGRPCClient(t *testing.T, n Node, cfg GRPCConfig) apipb.CentrifugoApiClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	s := grpc.NewServer()
	RegisterGRPC(s, NewExecutor(n, ExecutorOptions{Logger: discard}), cfg)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return apipb.NewCentrifugoApiClient(conn)
}

func callCtx(t *testing.T, kv ...string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	return ctx
}

func TestGRPCAuth(t *testing.T) {
	c := newGRPCClient(t, newTestNode(t), GRPCConfig{Key: testKey})
	pub := &apipb.PublishRequest{Channel: "hist:g", Data: []byte(`{"a":1}`)}
	cases := []struct {
		name string
		md   []string
		want codes.Code
	}{
		{"correct key", []string{"authorization", "apikey " + testKey}, codes.OK},
		{"no metadata", nil, codes.Unauthenticated},
		{"wrong key", []string{"authorization", "apikey nope"}, codes.Unauthenticated},
		{"scheme is case-sensitive", []string{"authorization", "APIKEY " + testKey}, codes.Unauthenticated},
		{"bare key", []string{"authorization", testKey}, codes.Unauthenticated},
		{"x-api-key is not accepted", []string{"x-api-key", testKey}, codes.Unauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Publish(callCtx(t, tc.md...), pub)
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
	t.Run("PRO method checks auth first", func(t *testing.T) {
		_, err := c.Connections(callCtx(t), &apipb.ConnectionsRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("unauthenticated PRO call: %v", err)
		}
		_, err = c.Connections(callCtx(t, "authorization", "apikey "+testKey), &apipb.ConnectionsRequest{})
		if status.Code(err) != codes.Unimplemented {
			t.Fatalf("authenticated PRO call: %v", err)
		}
	})
}

func TestGRPCNoKeyNoAuth(t *testing.T) {
	c := newGRPCClient(t, newTestNode(t), GRPCConfig{})
	resp, err := c.Info(callCtx(t), &apipb.InfoRequest{})
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if len(resp.GetResult().GetNodes()) != 1 || resp.GetResult().GetNodes()[0].GetName() != "api-test-node" {
		t.Fatalf("info = %v", resp)
	}
}

func TestGRPCPublishAndHistory(t *testing.T) {
	c := newGRPCClient(t, newTestNode(t), GRPCConfig{})
	ctx := callCtx(t)
	// Raw data must be JSON (a JSON subscriber could not read it otherwise);
	// binary goes in b64data, which any bytes may fill.
	bad, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "hist:g", Data: []byte{0xff, 0x01}})
	if err != nil || bad.GetError().GetCode() != CodeBadRequest || !strings.Contains(bad.GetError().GetMessage(), "not valid JSON") {
		t.Fatalf("non-JSON raw data: %v %v", err, bad.GetError())
	}
	for i := 1; i <= 2; i++ {
		resp, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "hist:g", B64Data: base64.StdEncoding.EncodeToString([]byte{0xff, byte(i)})})
		if err != nil || resp.GetError() != nil {
			t.Fatalf("publish %d: %v %v", i, err, resp.GetError())
		}
		if resp.GetResult().GetOffset() != uint64(i) || resp.GetResult().GetEpoch() == "" {
			t.Fatalf("publish %d result = %v", i, resp.GetResult())
		}
	}
	h, err := c.History(ctx, &apipb.HistoryRequest{Channel: "hist:g", Limit: -1})
	if err != nil || h.GetError() != nil {
		t.Fatalf("history: %v %v", err, h.GetError())
	}
	pubs := h.GetResult().GetPublications()
	if len(pubs) != 2 || string(pubs[1].GetData()) != string([]byte{0xff, 2}) {
		t.Fatalf("history = %v", h.GetResult())
	}
	b, err := c.Batch(ctx, &apipb.BatchRequest{Commands: []*apipb.Command{
		{Publish: &apipb.PublishRequest{Channel: "plain:g", Data: []byte(`"x"`)}},
		{Connections: &apipb.ConnectionsRequest{}},
	}})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if r := b.GetReplies(); len(r) != 2 || r[0].GetPublish() == nil || r[1].GetError().GetCode() != CodeNotFound {
		t.Fatalf("batch replies = %v", b.GetReplies())
	}
}

func TestGRPCErrorModes(t *testing.T) {
	n := newTestNode(t)
	def := newGRPCClient(t, n, GRPCConfig{})
	cfgTransport := newGRPCClient(t, n, GRPCConfig{ErrorMode: "transport"})
	tm := []string{"x-centrifugo-error-mode", "transport"}

	t.Run("default mode puts errors in the response", func(t *testing.T) {
		resp, err := def.Publish(callCtx(t), &apipb.PublishRequest{Channel: "nope:x", Data: []byte("{}")})
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if resp.GetError().GetCode() != CodeUnknownChannel || resp.GetError().GetMessage() != "unknown channel" {
			t.Fatalf("error = %v", resp.GetError())
		}
	})

	cases := []struct {
		name string
		c    apipb.CentrifugoApiClient
		md   []string
		call func(ctx context.Context, c apipb.CentrifugoApiClient) error
		want codes.Code
	}{
		{"102 NotFound", def, tm, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "nope:x", Data: []byte("{}")})
			return err
		}, codes.NotFound},
		{"107 InvalidArgument", def, tm, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "plain:x"})
			return err
		}, codes.InvalidArgument},
		{"108 InvalidArgument", cfgTransport, nil, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.Presence(ctx, &apipb.PresenceRequest{Channel: "plain:x"})
			return err
		}, codes.InvalidArgument},
		{"112 OutOfRange", cfgTransport, nil, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.History(ctx, &apipb.HistoryRequest{Channel: "hist:x", Limit: -1, Since: &apipb.StreamPosition{Offset: 1, Epoch: "bad"}})
			return err
		}, codes.OutOfRange},
		{"104 NotFound", cfgTransport, nil, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.RPC(ctx, &apipb.RPCRequest{Method: "missing"})
			return err
		}, codes.NotFound},
		{"success is OK", cfgTransport, nil, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.Publish(ctx, &apipb.PublishRequest{Channel: "plain:x", Data: []byte("1")})
			return err
		}, codes.OK},
		{"batch stays OK", cfgTransport, nil, func(ctx context.Context, c apipb.CentrifugoApiClient) error {
			_, err := c.Batch(ctx, &apipb.BatchRequest{Commands: []*apipb.Command{{}}})
			return err
		}, codes.OK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(callCtx(t, tc.md...), tc.c)
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
	t.Run("status carries the API message", func(t *testing.T) {
		_, err := def.Presence(callCtx(t, tm...), &apipb.PresenceRequest{Channel: "nope:x"})
		if st := status.Convert(err); st.Code() != codes.NotFound || st.Message() != "unknown channel" {
			t.Fatalf("status = %v", st)
		}
	})
}
