package pbjson

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/proto/apipb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		opts []Option
		want string
	}{
		{
			name: "connect request in declaration order",
			msg: &proxypb.ConnectRequest{
				Client: "9336a229", Transport: "websocket", Protocol: "json",
				Encoding: "json", Name: "js", Data: []byte(`{"x":1}`),
			},
			want: `{"client":"9336a229","transport":"websocket","protocol":"json","encoding":"json","data":{"x":1},"name":"js"}`,
		},
		{
			name: "empty message",
			msg:  &proxypb.ConnectResponse{},
			want: `{}`,
		},
		{
			name: "typed nil message",
			msg:  (*proxypb.ConnectResponse)(nil),
			want: `{}`,
		},
		{
			name: "anonymous user omitted by default",
			msg:  &proxypb.SubscribeRequest{Client: "c", Channel: "news"},
			want: `{"client":"c","channel":"news"}`,
		},
		{
			name: "anonymous user kept with ProxyUser",
			msg:  &proxypb.SubscribeRequest{Client: "c", Channel: "news"},
			opts: []Option{ProxyUser()},
			want: `{"client":"c","user":"","channel":"news"}`,
		},
		{
			name: "ProxyUser does not touch connect",
			msg:  &proxypb.ConnectRequest{Client: "c"},
			opts: []Option{ProxyUser()},
			want: `{"client":"c"}`,
		},
		{
			name: "always emit composite and scalar kinds",
			msg:  &proxypb.ConnectResult{},
			opts: []Option{AlwaysEmit(
				"centrifugal.centrifugo.proxy.ConnectResult.channels",
				"centrifugal.centrifugo.proxy.ConnectResult.expire_at",
				"centrifugal.centrifugo.proxy.ConnectResult.info",
				"centrifugal.centrifugo.proxy.ConnectResult.subs",
			)},
			want: `{"expire_at":0,"info":null,"channels":[],"subs":{}}`,
		},
		{
			name: "always emit by predicate",
			msg:  &apipb.Error{},
			opts: []Option{AlwaysEmitFunc(func(fd protoreflect.FieldDescriptor) bool { return fd.Name() == "code" }), AlwaysEmitFunc(nil)},
			want: `{"code":0}`,
		},
		{
			name: "raw JSON is compacted, no newlines",
			msg:  &proxypb.RPCResult{Data: []byte("{\n\t\"a\": [1, 2],\r\n \"b\": \"x y\\n\"\n}\n")},
			want: `{"data":{"a":[1,2],"b":"x y\n"}}`,
		},
		{
			name: "raw JSON scalar payloads",
			msg:  &apipb.ClientInfo{ConnInfo: []byte(`"name"`), ChanInfo: []byte(`42`)},
			want: `{"conn_info":"name","chan_info":42}`,
		},
		{
			name: "64-bit integers are plain numbers",
			msg:  &proxypb.PublishResult{Version: math.MaxUint64},
			want: `{"version":18446744073709551615}`,
		},
		{
			name: "negative int64",
			msg:  &proxypb.ConnectResult{ExpireAt: math.MinInt64},
			want: `{"expire_at":-9223372036854775808}`,
		},
		{
			name: "enum as number",
			msg:  &apipb.Command{Id: 3, Method: apipb.Command_HISTORY},
			want: `{"id":3,"method":6}`,
		},
		{
			name: "map keys sorted",
			msg:  &apipb.PublishRequest{Channel: "c", Data: []byte(`{}`), Tags: map[string]string{"b": "2", "a": "1", "": "0"}},
			want: `{"channel":"c","data":{},"tags":{"":"0","a":"1","b":"2"}}`,
		},
		{
			name: "map of messages",
			msg:  &apipb.ChannelsResult{Channels: map[string]*apipb.ChannelInfo{"news": {NumClients: 3}, "chat:1": {}}},
			want: `{"channels":{"chat:1":{},"news":{"num_clients":3}}}`,
		},
		{
			name: "present empty result is kept",
			msg:  &apipb.PublishResponse{Result: &apipb.PublishResult{}},
			want: `{"result":{}}`,
		},
		{
			name: "batch replies",
			msg: &apipb.BatchResponse{Replies: []*apipb.Reply{
				{Publish: &apipb.PublishResult{}},
				{Error: &apipb.Error{Code: 102, Message: "unknown channel"}},
			}},
			want: `{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}`,
		},
		{
			name: "wrapper false stays distinguishable from unset",
			msg: &proxypb.SubscribeResult{Override: &proxypb.SubscribeOptionOverride{
				Presence: &proxypb.BoolValue{}, JoinLeave: &proxypb.BoolValue{Value: true},
			}},
			want: `{"override":{"presence":{},"join_leave":{"value":true}}}`,
		},
		{
			name: "string escaping",
			msg:  &apipb.Error{Message: "q\"b\\s\n\r\t\x01<>&é\u2028\u2029x\xffy"},
			want: `{"message":"q\"b\\s\n\r\t\u0001<>&é\u2028\u2029x\ufffdy"}`,
		},
		{
			name: "doubles",
			msg:  &apipb.Metrics{Interval: 0.5, Items: map[string]float64{"a": 1e21, "b": 1e-7, "c": -3, "d": 123456789}},
			want: `{"interval":0.5,"items":{"a":1e+21,"b":1e-7,"c":-3,"d":123456789}}`,
		},
		{
			name: "repeated strings",
			msg:  &apipb.BroadcastRequest{Channels: []string{"a", "b"}, Data: []byte(`null`)},
			want: `{"channels":["a","b"],"data":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.msg, tt.opts...)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		want string
	}{
		{
			name: "invalid raw JSON names the path",
			msg:  &proxypb.PublishResponse{Result: &proxypb.PublishResult{Data: []byte("not json")}},
			want: `pbjson: field "result.data": bytes field is not valid JSON`,
		},
		{
			name: "trailing garbage in raw JSON",
			msg:  &proxypb.RPCResult{Data: []byte(`{} {}`)},
			want: `pbjson: field "data": bytes field is not valid JSON`,
		},
		{
			name: "raw newline inside a string is invalid",
			msg:  &proxypb.RPCResult{Data: []byte("\"a\nb\"")},
			want: `field "data": bytes field is not valid JSON`,
		},
		{
			name: "path through lists and maps",
			msg: &apipb.BatchResponse{Replies: []*apipb.Reply{{}, {Presence: &apipb.PresenceResult{
				Presence: map[string]*apipb.ClientInfo{"c1": {ConnInfo: []byte("{")}},
			}}}},
			want: `field "replies[1].presence.presence[c1].conn_info"`,
		},
		{
			name: "NaN",
			msg:  &apipb.Metrics{Interval: math.NaN()},
			want: `field "interval": cannot encode double`,
		},
		{
			name: "infinity in a map",
			msg:  &apipb.Metrics{Items: map[string]float64{"x": math.Inf(-1)}},
			want: `field "items[x]": cannot encode double`,
		},
		{
			name: "nil message",
			msg:  nil,
			want: `pbjson: cannot marshal nil message`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.msg)
			if err == nil {
				t.Fatalf("Marshal = %s, want error", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not *Error", err)
			}
		})
	}
}

func TestMarshalCyclicMessageFails(t *testing.T) {
	n := &proxypb.FilterNode{Op: "and"}
	n.Nodes = []*proxypb.FilterNode{n}
	if _, err := Marshal(n); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v, want nesting error", err)
	}
}

func TestAppendMarshal(t *testing.T) {
	prefix := []byte("x=")
	got, err := AppendMarshal(prefix, &apipb.Error{Code: 1})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `x={"code":1}` {
		t.Errorf("got %s", got)
	}
	bad, err := AppendMarshal(prefix, &proxypb.RPCResult{Data: []byte("{")})
	if err == nil || string(bad) != "x=" {
		t.Errorf("on error got %q, %v; want prefix unchanged and an error", bad, err)
	}
}

// TestFloatFormatMatchesEncodingJSON pins our number formatting to Go's
// encoding/json, which Centrifugo's HTTP API uses.
func TestFloatFormatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, -0.0, 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, f, 64); string(got) != string(want) {
			t.Errorf("appendFloat(%v, 64) = %s, want %s", f, got, want)
		}
	}
	for _, f := range []float32{0, 1.1, 3.4e38, 1e-7, 1e21, 16777216} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, float64(f), 32); string(got) != string(want) {
			t.Errorf("appendFloat(%v, 32) = %s, want %s", f, got, want)
		}
	}
}
