package pbjson

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/apipb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		into proto.Message
		want proto.Message
	}{
		{
			name: "minimal allow-connect answer",
			in:   `{"result":{"user":"56"}}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "56"}},
		},
		{
			name: "spec connect request body",
			in:   `{"client":"9336a229","transport":"websocket","protocol":"json","encoding":"json","name":"js","data":{"x":1}}`,
			into: &proxypb.ConnectRequest{},
			want: &proxypb.ConnectRequest{
				Client: "9336a229", Transport: "websocket", Protocol: "json",
				Encoding: "json", Name: "js", Data: []byte(`{"x":1}`),
			},
		},
		{
			name: "empty object allows",
			in:   ` { } `,
			into: &proxypb.SubscribeResponse{},
			want: &proxypb.SubscribeResponse{},
		},
		{
			name: "empty result is present",
			in:   `{"result":{}}`,
			into: &proxypb.SubscribeResponse{},
			want: &proxypb.SubscribeResponse{Result: &proxypb.SubscribeResult{}},
		},
		{
			name: "top-level null",
			in:   `null`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{},
		},
		{
			name: "error and disconnect",
			in:   `{"error":{"code":403,"message":"forbidden","temporary":true},"disconnect":{"code":4501,"reason":"unauthorized","reconnect":false}}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{
				Error:      &proxypb.Error{Code: 403, Message: "forbidden", Temporary: true},
				Disconnect: &proxypb.Disconnect{Code: 4501, Reason: "unauthorized"},
			},
		},
		{
			name: "unknown keys ignored at every level",
			in:   `{"foo":{"a":[1,2.5e3,{"b":null}],"c":"\u00e9"},"result":{"user":"1","bar":true,"baz":[]},"zzz":null}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "1"}},
		},
		{
			name: "null means absent",
			in:   `{"result":null,"error":{"code":1,"message":null},"disconnect":null}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{Error: &proxypb.Error{Code: 1}},
		},
		{
			name: "null bytes is absent",
			in:   `{"data":null,"b64data":"eA=="}`,
			into: &proxypb.RPCResult{},
			want: &proxypb.RPCResult{B64Data: "eA=="},
		},
		{
			name: "numbers as strings",
			in:   `{"result":{"expire_at":"1700000000"}}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{ExpireAt: 1700000000}},
		},
		{
			name: "uint64 extremes",
			in:   `{"offset":18446744073709551615,"epoch":"e"}`,
			into: &apipb.PublishResult{},
			want: &apipb.PublishResult{Offset: math.MaxUint64, Epoch: "e"},
		},
		{
			name: "int64 extremes",
			in:   `{"expire_at":-9223372036854775808}`,
			into: &proxypb.SubscribeResult{},
			want: &proxypb.SubscribeResult{ExpireAt: math.MinInt64},
		},
		{
			name: "legacy command with method name",
			in:   `{"id":1,"method":"history","params":{"channel":"x", "limit":2}}`,
			into: &apipb.Command{},
			want: &apipb.Command{Id: 1, Method: apipb.Command_HISTORY, Params: []byte(`{"channel":"x", "limit":2}`)},
		},
		{
			name: "enum by exact name, number and numeric string",
			in:   `{"commands":[{"method":"PRESENCE_STATS"},{"method":9},{"method":"12"}]}`,
			into: &apipb.BatchRequest{},
			want: &apipb.BatchRequest{Commands: []*apipb.Command{
				{Method: apipb.Command_PRESENCE_STATS}, {Method: apipb.Command_INFO}, {Method: apipb.Command_REFRESH},
			}},
		},
		{
			name: "unassigned enum number is kept",
			in:   `{"method":13}`,
			into: &apipb.Command{},
			want: &apipb.Command{Method: 13},
		},
		{
			name: "raw JSON bytes of every shape",
			in:   `{"commands":[{"rpc":{"params":"text"}},{"rpc":{"params":[1, 2]}},{"rpc":{"params":true}},{"rpc":{"params":-1.5e3}},{"rpc":{"params":{"a":{}}}}]}`,
			into: &apipb.BatchRequest{},
			want: &apipb.BatchRequest{Commands: []*apipb.Command{
				{Rpc: &apipb.RPCRequest{Params: []byte(`"text"`)}},
				{Rpc: &apipb.RPCRequest{Params: []byte(`[1, 2]`)}},
				{Rpc: &apipb.RPCRequest{Params: []byte(`true`)}},
				{Rpc: &apipb.RPCRequest{Params: []byte(`-1.5e3`)}},
				{Rpc: &apipb.RPCRequest{Params: []byte(`{"a":{}}`)}},
			}},
		},
		{
			name: "raw JSON line breaks squeezed out",
			in:   "{\"data\":{\n\t\"a\": \"b c\"\r\n}}",
			into: &proxypb.RPCResult{},
			want: &proxypb.RPCResult{Data: []byte(`{"a":"b c"}`)},
		},
		{
			name: "spec batch body",
			in:   `{"commands":[{"publish":{"channel":"a","data":{}}},{"broadcast":{"channels":["b","c"],"data":{"t":1}}}],"parallel":false}`,
			into: &apipb.BatchRequest{},
			want: &apipb.BatchRequest{Commands: []*apipb.Command{
				{Publish: &apipb.PublishRequest{Channel: "a", Data: []byte(`{}`)}},
				{Broadcast: &apipb.BroadcastRequest{Channels: []string{"b", "c"}, Data: []byte(`{"t":1}`)}},
			}},
		},
		{
			name: "map of messages and strings",
			in:   `{"presence":{"c1":{"user":"u","client":"c1","conn_info":{"n":1}},"c2":null}}`,
			into: &apipb.PresenceResult{},
			want: &apipb.PresenceResult{Presence: map[string]*apipb.ClientInfo{
				"c1": {User: "u", Client: "c1", ConnInfo: []byte(`{"n":1}`)},
				"c2": {},
			}},
		},
		{
			name: "map of doubles",
			in:   `{"interval":60,"items":{"a":1.5,"b":"2","c":null}}`,
			into: &apipb.Metrics{},
			want: &apipb.Metrics{Interval: 60, Items: map[string]float64{"a": 1.5, "b": 2, "c": 0}},
		},
		{
			name: "wrapper messages",
			in:   `{"override":{"presence":{"value":false},"join_leave":{}}}`,
			into: &proxypb.SubscribeResult{},
			want: &proxypb.SubscribeResult{Override: &proxypb.SubscribeOptionOverride{
				Presence: &proxypb.BoolValue{}, JoinLeave: &proxypb.BoolValue{},
			}},
		},
		{
			name: "case-insensitive and camelCase keys",
			in:   `{"Result":{"USER":"x","expireAt":5}}`,
			into: &proxypb.ConnectResponse{},
			want: &proxypb.ConnectResponse{Result: &proxypb.ConnectResult{User: "x", ExpireAt: 5}},
		},
		{
			name: "string escapes",
			in:   `{"message":"a\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t\ud800x\udc00"}`,
			into: &apipb.Error{},
			want: &apipb.Error{Message: "aé😀\n\"\\/\b\f\r\t\uFFFDx\uFFFD"},
		},
		{
			name: "duplicate keys: last wins for lists, merge for messages",
			in:   `{"channels":["a"],"channels":["b"],"override":{"presence":{"value":true}},"override":{"join_leave":{"value":true}}}`,
			into: &proxypb.SubscribeOptions{},
			want: &proxypb.SubscribeOptions{Override: &proxypb.SubscribeOptionOverride{
				Presence: &proxypb.BoolValue{Value: true}, JoinLeave: &proxypb.BoolValue{Value: true},
			}},
		},
		{
			name: "replaces existing content",
			in:   `{"code":2}`,
			into: &apipb.Error{Code: 1, Message: "old"},
			want: &apipb.Error{Code: 2},
		},
		{
			name: "nested lists of messages with null element",
			in:   `{"nodes":[{"op":"and","nodes":[{"key":"k","vals":["1","2"]},null]}]}`,
			into: &proxypb.FilterNode{},
			want: &proxypb.FilterNode{Nodes: []*proxypb.FilterNode{{Op: "and", Nodes: []*proxypb.FilterNode{{Key: "k", Vals: []string{"1", "2"}}, {}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Unmarshal([]byte(tt.in), tt.into); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(tt.into, tt.want) {
				t.Errorf("got  %v\nwant %v", tt.into, tt.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	deep := `{"data":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	deepMsg := strings.Repeat(`{"nodes":[`, 2000)
	tests := []struct {
		name string
		in   string
		into proto.Message
		want string
	}{
		{"string for int64", `{"result":{"expire_at":"soon"}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.expire_at": want number, got string "soon"`},
		{"bool for int64", `{"result":{"expire_at":true}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.expire_at": want number, got bool`},
		{"number for string", `{"result":{"user":5}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.user": want string, got number`},
		{"string for bool", `{"error":{"temporary":"yes"}}`, &proxypb.ConnectResponse{}, `pbjson: field "error.temporary": want bool, got string`},
		{"string for list", `{"result":{"channels":"a"}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.channels": want array, got string`},
		{"bad list element", `{"result":{"channels":["a",1]}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.channels[1]": want string, got number`},
		// Forwarded verbatim to JSON clients, so it must be UTF-8.
		{"invalid UTF-8 in a string", "{\"message\":\"a\xffb\"}", &apipb.Error{}, `pbjson: field "message": invalid UTF-8 in a string`},
		{"invalid UTF-8 in a channel list", "{\"channels\":[\"ok\",\"\xc3(\"]}", &apipb.BroadcastRequest{}, `pbjson: field "channels[1]": invalid UTF-8 in a string`},
		{"invalid UTF-8 in a payload", "{\"data\":{\"x\":\"\xff\"}}", &proxypb.RPCResult{}, `pbjson: field "data": invalid UTF-8 in a JSON payload`},
		{"invalid UTF-8 in a proxy's rewritten data", "{\"result\":{\"data\":\"\xfe\"}}", &proxypb.PublishResponse{}, `pbjson: field "result.data": invalid UTF-8`},
		// Both used to panic (a nil protoreflect.Value appended to a list).
		{"null in a list of strings", `{"result":{"user":"u1","channels":[null]}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.channels[0]": null is not allowed in an array`},
		{"null in the API's channel list", `{"channels":["a",null],"data":{}}`, &apipb.BroadcastRequest{}, `pbjson: field "channels[1]": null is not allowed in an array`},
		{"null in a filter's values", `{"key":"k","vals":["1",null]}`, &proxypb.FilterNode{}, `pbjson: field "vals[1]": null is not allowed in an array`},
		{"array for message", `{"result":[]}`, &proxypb.ConnectResponse{}, `pbjson: field "result": want object, got array`},
		{"array for map", `{"result":{"subs":[]}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.subs": want object, got array`},
		{"bad map value", `{"result":{"subs":{"ch":{"expire_at":"x"}}}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.subs[ch].expire_at": want number, got string "x"`},
		{"fraction for int", `{"result":{"expire_at":1.5}}`, &proxypb.ConnectResponse{}, `pbjson: field "result.expire_at": want integer, got "1.5"`},
		{"exponent for int", `{"result":{"expire_at":"1e3"}}`, &proxypb.ConnectResponse{}, `want integer`},
		{"int32 overflow", `{"limit":2147483648}`, &apipb.HistoryRequest{}, `pbjson: field "limit": integer 2147483648 does not fit int32`},
		{"int32 underflow", `{"limit":-2147483649}`, &apipb.HistoryRequest{}, `does not fit int32`},
		{"uint32 overflow", `{"code":4294967296}`, &apipb.Error{}, `does not fit uint32`},
		{"negative unsigned", `{"offset":-1}`, &apipb.PublishResult{}, `pbjson: field "offset": negative value -1 for unsigned field`},
		{"uint64 overflow", `{"offset":18446744073709551616}`, &apipb.PublishResult{}, `does not fit`},
		{"int64 overflow", `{"expire_at":9223372036854775808}`, &proxypb.SubscribeResult{}, `does not fit int64`},
		{"double overflow", `{"interval":1e400}`, &apipb.Metrics{}, `pbjson: field "interval": number 1e400 does not fit float64`},
		{"unknown enum name", `{"method":"nope"}`, &apipb.Command{}, `pbjson: field "method": unknown MethodType value "nope"`},
		{"enum as object", `{"method":{}}`, &apipb.Command{}, `pbjson: field "method": want number, got object`},
		{"top-level array", `[]`, &proxypb.ConnectResponse{}, `pbjson: want object, got array`},
		{"empty input", ``, &proxypb.ConnectResponse{}, `pbjson: want object, got end of input`},
		{"truncated", `{"result":{`, &proxypb.ConnectResponse{}, `pbjson: field "result": syntax error at offset 11`},
		{"trailing data", `{} x`, &proxypb.ConnectResponse{}, `unexpected data after top-level value`},
		{"leading zero", `{"code":01}`, &apipb.Error{}, `syntax error`},
		{"missing colon", `{"code" 1}`, &apipb.Error{}, `want ':'`},
		{"trailing comma", `{"code":1,}`, &apipb.Error{}, `want object key`},
		{"control char in string", "{\"message\":\"a\nb\"}", &apipb.Error{}, `pbjson: field "message": syntax error at offset 13: control character in string`},
		{"bad escape", `{"message":"\x"}`, &apipb.Error{}, `invalid escape`},
		{"bad unicode escape", `{"message":"\u12"}`, &apipb.Error{}, `invalid \u escape`},
		{"bad literal", `{"result":nul}`, &proxypb.ConnectResponse{}, `invalid literal`},
		{"bad raw JSON", `{"data":{"a":}}`, &proxypb.RPCResult{}, `pbjson: field "data": syntax error`},
		{"unknown key with bad value", `{"zz":[1,}`, &proxypb.RPCResult{}, `syntax error`},
		{"deep raw JSON", deep, &proxypb.RPCResult{}, `nesting deeper than 1000`},
		{"deep messages", deepMsg, &proxypb.FilterNode{}, `nesting deeper than 1000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Unmarshal([]byte(tt.in), tt.into)
			if err == nil {
				t.Fatalf("Unmarshal succeeded: %v", tt.into)
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

func TestUnmarshalNilTarget(t *testing.T) {
	if err := Unmarshal([]byte(`{}`), nil); err == nil {
		t.Error("nil interface accepted")
	}
	if err := Unmarshal([]byte(`{}`), (*apipb.Error)(nil)); err == nil {
		t.Error("typed nil accepted")
	}
}

func TestErrorPathIsExposed(t *testing.T) {
	err := Unmarshal([]byte(`{"commands":[{},{"publish":{"channel":7}}]}`), &apipb.BatchRequest{})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if pe.Path != "commands[1].publish.channel" {
		t.Errorf("Path = %q", pe.Path)
	}
}

// TestRoundTrip checks that decoding then encoding preserves meaning: the
// spec's bodies come back as the same JSON values (key order aside).
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		into proto.Message
		opts []Option
	}{
		{`{"client":"9336a229","transport":"websocket","protocol":"json","encoding":"json","name":"js","data":{"x":1}}`, &proxypb.ConnectRequest{}, nil},
		{`{"result":{"user":"56"}}`, &proxypb.ConnectResponse{}, nil},
		{`{"client":"c","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"news","data":{"a":[1,"2",null]}}`, &proxypb.SubscribeRequest{}, []Option{ProxyUser()}},
		{`{"result":{"user":"1","expire_at":1700000000,"info":{"n":"x"},"channels":["a"],"subs":{"b":{"override":{"presence":{"value":true}}}},"meta":[1]}}`, &proxypb.ConnectResponse{}, nil},
		{`{"disconnect":{"code":4501,"reason":"unauthorized"}}`, &proxypb.PublishResponse{}, nil},
		{`{"commands":[{"publish":{"channel":"a","data":{}}},{"broadcast":{"channels":["b"],"data":{}}}],"parallel":true}`, &apipb.BatchRequest{}, nil},
		{`{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}`, &apipb.BatchResponse{}, nil},
		{`{"result":{"nodes":[{"uid":"u","num_clients":2,"metrics":{"interval":60,"items":{"a":0.25}},"process":{"cpu":1.5,"rss":1024}}]}}`, &apipb.InfoResponse{}, nil},
		{`{"result":{"publications":[{"data":{"t":"x"},"info":{"user":"u","client":"c"},"offset":18446744073709551615,"tags":{"k":"v"}}],"epoch":"e","offset":3}}`, &apipb.HistoryResponse{}, nil},
	}
	for _, tt := range tests {
		if err := Unmarshal([]byte(tt.in), tt.into); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tt.in, err)
		}
		out, err := Marshal(tt.into, tt.opts...)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if !jsonEqual(t, tt.in, string(out)) {
			t.Errorf("round trip changed the value:\n in  %s\n out %s", tt.in, out)
		}
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	da := json.NewDecoder(strings.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(strings.NewReader(b))
	db.UseNumber()
	if err := da.Decode(&va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := db.Decode(&vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}
