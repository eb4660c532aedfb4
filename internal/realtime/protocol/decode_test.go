package protocol

import (
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

func TestDecodeJSONCommands(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  []*clientpb.Command
	}{
		{
			name:  "spec exchange: connect batched with subscribe",
			frame: `{"id":1,"connect":{"name":"js"}}` + "\n" + `{"id":2,"subscribe":{"channel":"chat","flag":1}}`,
			want: []*clientpb.Command{
				{Id: 1, Connect: &clientpb.ConnectRequest{Name: "js"}},
				{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat", Flag: 1}},
			},
		},
		{name: "spec exchange: pong", frame: `{}`, want: []*clientpb.Command{{}}},
		{
			name:  "spec exchange: publish keeps data raw",
			frame: `{"id":3,"publish":{"channel":"chat","data":{"t":"x"}}}`,
			want:  []*clientpb.Command{{Id: 3, Publish: &clientpb.PublishRequest{Channel: "chat", Data: []byte(`{"t":"x"}`)}}},
		},
		{
			name:  "spec exchange: rpc",
			frame: `{"id":4,"rpc":{"method":"getUser","data":{"id":1}}}`,
			want:  []*clientpb.Command{{Id: 4, Rpc: &clientpb.RPCRequest{Method: "getUser", Data: []byte(`{"id":1}`)}}},
		},
		{
			name:  "spec exchange: presence",
			frame: `{"id":5,"presence":{"channel":"chat"}}`,
			want:  []*clientpb.Command{{Id: 5, Presence: &clientpb.PresenceRequest{Channel: "chat"}}},
		},
		{name: "trailing newline", frame: "{\"id\":1,\"ping\":{}}\n", want: []*clientpb.Command{{Id: 1, Ping: &clientpb.PingRequest{}}}},
		{
			name:  "CRLF separators",
			frame: "{\"id\":1,\"unsubscribe\":{\"channel\":\"a\"}}\r\n{\"id\":2,\"presence_stats\":{\"channel\":\"b\"}}\r\n",
			want: []*clientpb.Command{
				{Id: 1, Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "a"}},
				{Id: 2, PresenceStats: &clientpb.PresenceStatsRequest{Channel: "b"}},
			},
		},
		{
			name:  "unknown keys of any shape are ignored",
			frame: `{"id":7,"method":3,"params":{"x":[1,{"y":null}]},"subscribe":{"channel":"c","tf":{"op":"and","nodes":[{"key":"k","cmp":"eq","val":"v"}]},"future":[true,false,-1.5e3]}}`,
			want: []*clientpb.Command{{Id: 7, Subscribe: &clientpb.SubscribeRequest{
				Channel: "c",
				Tf:      &clientpb.FilterNode{Op: "and", Nodes: []*clientpb.FilterNode{{Key: "k", Cmp: "eq", Val: "v"}}},
			}}},
		},
		{
			name:  "null means absent",
			frame: `{"id":null,"connect":null,"subscribe":{"channel":"c","data":null,"offset":null,"epoch":null,"recover":null}}`,
			want:  []*clientpb.Command{{Subscribe: &clientpb.SubscribeRequest{Channel: "c"}}},
		},
		{
			name: "connect with every field",
			frame: `{"id":1,"connect":{"token":"t","data":"str","subs":{"ch":{"recover":true,"offset":18446744073709551615,"epoch":"e"}},` +
				`"name":"js","version":"1","headers":{"X-A":"b"},"flag":-9223372036854775808,"dict":"d","profile":"p"}}`,
			want: []*clientpb.Command{{Id: 1, Connect: &clientpb.ConnectRequest{
				Token: "t", Data: []byte(`"str"`),
				Subs: map[string]*clientpb.SubscribeRequest{"ch": {Recover: true, Offset: 18446744073709551615, Epoch: "e"}},
				Name: "js", Version: "1", Headers: map[string]string{"X-A": "b"},
				Flag: -9223372036854775808, Dict: "d", Profile: "p",
			}}},
		},
		{
			name: "subscribe with every field",
			frame: `{"id":2,"subscribe":{"channel":"c","token":"t","recover":true,"epoch":"e","offset":5,"data":[1, 2],"positioned":true,` +
				`"recoverable":true,"join_leave":true,"delta":"fossil","flag":3,"type":-1,"phase":2,"cursor":"x","limit":100,"asc":true}}`,
			want: []*clientpb.Command{{Id: 2, Subscribe: &clientpb.SubscribeRequest{
				Channel: "c", Token: "t", Recover: true, Epoch: "e", Offset: 5, Data: []byte(`[1, 2]`), Positioned: true,
				Recoverable: true, JoinLeave: true, Delta: "fossil", Flag: 3, Type: -1, Phase: 2, Cursor: "x", Limit: 100, Asc: true,
			}}},
		},
		{
			name: "history, send, refresh, sub_refresh",
			frame: `{"id":1,"history":{"channel":"h","limit":-1,"since":{"offset":3,"epoch":"e"},"reverse":true}}` + "\n" +
				`{"send":{"data":123}}` + "\n" +
				`{"id":2,"refresh":{"token":"tok"}}` + "\n" +
				`{"id":3,"sub_refresh":{"channel":"c","token":"t","type":1,"track":[{"signature":"s","items":[{"key":"k","version":2}]}],"untrack":["a",null]}}`,
			want: []*clientpb.Command{
				{Id: 1, History: &clientpb.HistoryRequest{Channel: "h", Limit: -1, Since: &clientpb.StreamPosition{Offset: 3, Epoch: "e"}, Reverse: true}},
				{Send: &clientpb.SendRequest{Data: []byte(`123`)}},
				{Id: 2, Refresh: &clientpb.RefreshRequest{Token: "tok"}},
				{Id: 3, SubRefresh: &clientpb.SubRefreshRequest{Channel: "c", Token: "t", Type: 1,
					Track:   []*clientpb.TrackBatch{{Signature: "s", Items: []*clientpb.KeyedItem{{Key: "k", Version: 2}}}},
					Untrack: []string{"a", ""}}},
			},
		},
		{
			name:  "string escapes, surrogates and invalid UTF-8",
			frame: "{\"id\":1,\"publish\":{\"channel\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\ud800x\xff\",\"data\":\"\\u2028\"}}",
			want: []*clientpb.Command{{Id: 1, Publish: &clientpb.PublishRequest{
				Channel: "a\"\\/\b\f\n\r\té😀\uFFFDx\uFFFD", Data: []byte(`"\u2028"`),
			}}},
		},
		{
			name:  "escaped keys and whitespace everywhere",
			frame: " { \"\\u0069d\" : 9 , \"publish\" :\t{ \"channel\" : \"c\" , \"data\" : { \"a\" : 1 } } }\r\n",
			want:  []*clientpb.Command{{Id: 9, Publish: &clientpb.PublishRequest{Channel: "c", Data: []byte(`{ "a" : 1 }`)}}},
		},
		{
			name:  "repeated key replaces",
			frame: `{"id":1,"connect":{"headers":{"a":"1"},"headers":{"b":"2"}},"id":2}`,
			want:  []*clientpb.Command{{Id: 2, Connect: &clientpb.ConnectRequest{Headers: map[string]string{"b": "2"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCommands(TypeJSON, []byte(tt.frame))
			if err != nil {
				t.Fatalf("DecodeCommands: %v", err)
			}
			assertCommands(t, got, tt.want)
		})
	}
}

func assertCommands(t *testing.T, got, want []*clientpb.Command) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d commands, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("command %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		command int
		offset  int
		path    string
		reason  string
	}{
		{name: "empty frame", frame: "", reason: "no commands"},
		{name: "whitespace frame", frame: " \r\n", offset: 3, reason: "no commands"},
		{name: "newline only", frame: "\n", offset: 1, reason: "no commands"},
		{name: "blank line between commands", frame: "{}\n\n{}", command: 1, offset: 3, reason: "empty line"},
		{name: "not an object", frame: `[1]`, reason: "must be a JSON object"},
		{name: "null command", frame: `null`, reason: "must be a JSON object"},
		{name: "two objects on a line", frame: `{} {}`, offset: 3, reason: "unexpected data"},
		{name: "truncated", frame: `{"id":1`, offset: 7, reason: "expected ',' or '}'"},
		{name: "id as string", frame: `{"id":"1"}`, offset: 6, path: "id", reason: "expected number"},
		{name: "negative id", frame: `{"id":-1}`, offset: 6, path: "id", reason: "out of range"},
		{name: "id overflow", frame: `{"id":4294967296}`, offset: 6, path: "id", reason: "out of range"},
		{name: "fractional offset", frame: `{}` + "\n" + `{"id":2,"subscribe":{"channel":"c","offset":1.5}}`, command: 1, offset: 47, path: "subscribe.offset", reason: "expected integer"},
		{name: "uint64 overflow", frame: `{"subscribe":{"offset":18446744073709551616}}`, offset: 23, path: "subscribe.offset", reason: "out of range"},
		{name: "bad raw data", frame: `{"publish":{"data":{"a":}}}`, offset: 24, path: "publish.data.a", reason: "expected value"},
		{name: "bad map value", frame: `{"connect":{"subs":{"x":{"recover":1}}}}`, offset: 35, path: "connect.subs.x.recover", reason: "expected boolean"},
		{name: "bad list element", frame: `{"sub_refresh":{"untrack":["a",2]}}`, offset: 31, path: "sub_refresh.untrack.1", reason: "expected string"},
		{name: "message as string", frame: `{"connect":"x"}`, offset: 11, path: "connect", reason: "expected object"},
		{name: "raw control char", frame: "{\"id\":1,\"publish\":{\"channel\":\"a\tb\"}}", offset: 31, path: "publish.channel", reason: "control character"},
		{name: "invalid UTF-8 in raw payload", frame: "{\"publish\":{\"data\":\"\xff\"}}", offset: 20, path: "publish.data", reason: "invalid UTF-8"},
		{name: "bad escape", frame: `{"publish":{"channel":"\q"}}`, offset: 24, path: "publish.channel", reason: "invalid escape"},
		{name: "leading zero", frame: `{"id":01}`, offset: 7, reason: "expected ',' or '}'"},
		{name: "too deep", frame: `{"x":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`, offset: 4 + maxJSONDepth, path: "x.0.0", reason: "nesting too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCommands(TypeJSON, []byte(tt.frame))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error does not wrap ErrMalformed")
			}
			if len(de.Path) > 200 {
				t.Fatalf("path not bounded: %d bytes", len(de.Path))
			}
			if de.Type != TypeJSON || de.Command != tt.command || de.Offset != tt.offset || !strings.HasPrefix(de.Path, tt.path) || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("got %+v\nwant command %d offset %d path %q reason ~%q", *de, tt.command, tt.offset, tt.path, tt.reason)
			}
		})
	}
}

func TestDecodeErrorIsSticky(t *testing.T) {
	d := NewCommandDecoder(TypeJSON, []byte("{\"id\":1}\nnope\n{}"))
	if c, err := d.Decode(); err != nil || c.GetId() != 1 {
		t.Fatalf("first command: %v %v", c, err)
	}
	_, err1 := d.Decode()
	_, err2 := d.Decode()
	if err1 == nil || err1 != err2 {
		t.Fatalf("want the same error twice, got %v and %v", err1, err2)
	}
}

func TestDecodeStreamingEOF(t *testing.T) {
	for _, typ := range []Type{TypeJSON, TypeProtobuf} {
		frame := []byte("{}\n{}")
		if typ == TypeProtobuf {
			frame = []byte{0, 0}
		}
		d := NewCommandDecoder(typ, frame)
		for i := 0; i < 2; i++ {
			if _, err := d.Decode(); err != nil {
				t.Fatalf("%s command %d: %v", typ, i, err)
			}
		}
		for i := 0; i < 2; i++ {
			if _, err := d.Decode(); err != io.EOF {
				t.Fatalf("%s: after last command got %v, want io.EOF", typ, err)
			}
		}
	}
}

func TestDecodeUnknownType(t *testing.T) {
	_, err := DecodeCommands(Type("xml"), []byte("{}"))
	if !errors.Is(err, ErrUnknownType) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func protoFrame(t testing.TB, cmds ...*clientpb.Command) []byte {
	t.Helper()
	var b []byte
	for _, c := range cmds {
		raw, err := proto.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		b = protowire.AppendBytes(b, raw)
	}
	return b
}

func TestDecodeProtobufCommands(t *testing.T) {
	batch := []*clientpb.Command{
		{Id: 1, Connect: &clientpb.ConnectRequest{Name: "js", Data: []byte{0xff, 0}, Headers: map[string]string{"a": "b"}}},
		{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat", Flag: 1, Offset: 1 << 40}},
		{}, // pong
		{Send: &clientpb.SendRequest{Data: []byte("x")}},
	}
	got, err := DecodeCommands(TypeProtobuf, protoFrame(t, batch...))
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, got, batch)

	pong, err := DecodeCommands(TypeProtobuf, []byte{0x00})
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, pong, []*clientpb.Command{{}})

	// Unknown fields (a newer client) are tolerated.
	unknown := protowire.AppendTag(nil, 99, protowire.VarintType)
	unknown = protowire.AppendVarint(unknown, 5)
	unknown = append(protowire.AppendTag(nil, 1, protowire.VarintType), append([]byte{7}, unknown...)...)
	got, err = DecodeCommands(TypeProtobuf, protowire.AppendBytes(nil, unknown))
	if err != nil {
		t.Fatal(err)
	}
	assertCommands(t, got, []*clientpb.Command{{Id: 7}})
}

func TestDecodeProtobufErrors(t *testing.T) {
	good := protoFrame(t, &clientpb.Command{Id: 1})
	tests := []struct {
		name    string
		frame   []byte
		command int
		offset  int
		reason  string
	}{
		{name: "empty frame", frame: nil, reason: "no commands"},
		{name: "truncated prefix", frame: []byte{0x80}, reason: "truncated length prefix"},
		{name: "prefix overflow", frame: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, reason: "overflows"},
		{name: "length past end", frame: append(append([]byte{}, good...), 5, 8), command: 1, offset: len(good), reason: "exceeds the 1 bytes left"},
		{name: "garbage body", frame: []byte{2, 0xff, 0xff}, offset: 1, reason: "unmarshal"},
		{name: "invalid UTF-8 string", frame: []byte{5, 0x22, 3, 0x0a, 1, 0xff}, offset: 1, reason: "unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCommands(TypeProtobuf, tt.frame)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want *DecodeError wrapping ErrMalformed", err)
			}
			if de.Command != tt.command || de.Offset != tt.offset || !strings.Contains(de.Reason, tt.reason) {
				t.Errorf("got %+v, want command %d offset %d reason ~%q", *de, tt.command, tt.offset, tt.reason)
			}
		})
	}
}

func TestDecodedDataDoesNotAliasInput(t *testing.T) {
	frame := []byte(`{"publish":{"channel":"c","data":{"a":1}}}`)
	cmds, err := DecodeCommands(TypeJSON, frame)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frame {
		frame[i] = 'x'
	}
	if got := string(cmds[0].GetPublish().GetData()); got != `{"a":1}` {
		t.Fatalf("data changed with the input buffer: %q", got)
	}
}
