package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

func TestAppendReplyJSON(t *testing.T) {
	tests := []struct {
		name  string
		reply *clientpb.Reply
		want  string
	}{
		// §1.10 push examples.
		{
			name: "spec: join push",
			reply: &clientpb.Reply{Push: &clientpb.Push{Channel: "room", Join: &clientpb.Join{
				Info: &clientpb.ClientInfo{User: "42", Client: "c1", ConnInfo: []byte(`{"name":"A"}`)}}}},
			want: `{"push":{"channel":"room","join":{"info":{"user":"42","client":"c1","conn_info":{"name":"A"}}}}}`,
		},
		{
			name:  "spec: leave push",
			reply: &clientpb.Reply{Push: &clientpb.Push{Channel: "room", Leave: &clientpb.Leave{Info: &clientpb.ClientInfo{User: "42", Client: "c1"}}}},
			want:  `{"push":{"channel":"room","leave":{"info":{"user":"42","client":"c1"}}}}`,
		},
		{
			name:  "spec: unsubscribe push",
			reply: &clientpb.Reply{Push: &clientpb.Push{Channel: "room", Unsubscribe: &clientpb.Unsubscribe{Code: 2000, Reason: "server unsubscribe"}}},
			want:  `{"push":{"channel":"room","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}`,
		},
		{
			name: "spec: subscribe push",
			reply: &clientpb.Reply{Push: &clientpb.Push{Channel: "#42", Subscribe: &clientpb.Subscribe{
				Recoverable: true, Epoch: "xyz", Offset: 3, Positioned: true}}},
			want: `{"push":{"channel":"#42","subscribe":{"recoverable":true,"epoch":"xyz","offset":3,"positioned":true}}}`,
		},
		{
			name:  "spec: message push",
			reply: &clientpb.Reply{Push: &clientpb.Push{Message: &clientpb.Message{Data: []byte(`{"any":"thing"}`)}}},
			want:  `{"push":{"message":{"data":{"any":"thing"}}}}`,
		},
		// §1.10 exchange, server lines.
		{
			name: "spec exchange: connect reply",
			reply: &clientpb.Reply{Id: 1, Connect: &clientpb.ConnectResult{
				Client: "5b1c…", Version: "5.4.9", Ping: 25, Pong: true}},
			want: `{"id":1,"connect":{"client":"5b1c…","version":"5.4.9","ping":25,"pong":true}}`,
		},
		{name: "spec exchange: empty subscribe result", reply: &clientpb.Reply{Id: 2, Subscribe: &clientpb.SubscribeResult{}}, want: `{"id":2,"subscribe":{}}`},
		{name: "spec exchange: server ping", reply: &clientpb.Reply{}, want: `{}`},
		{name: "spec exchange: publish result", reply: &clientpb.Reply{Id: 3, Publish: &clientpb.PublishResult{}}, want: `{"id":3,"publish":{}}`},
		{
			name: "spec exchange: publication from anonymous user",
			reply: &clientpb.Reply{Push: &clientpb.Push{Channel: "chat", Pub: &clientpb.Publication{
				Data: []byte(`{"t":"x"}`), Info: &clientpb.ClientInfo{Client: "5b1c…"}}}},
			want: `{"push":{"channel":"chat","pub":{"data":{"t":"x"},"info":{"user":"","client":"5b1c…"}}}}`,
		},
		{name: "spec exchange: rpc result", reply: &clientpb.Reply{Id: 4, Rpc: &clientpb.RPCResult{Data: []byte(`{"name":"Bob"}`)}}, want: `{"id":4,"rpc":{"data":{"name":"Bob"}}}`},
		{
			name:  "spec exchange: error reply",
			reply: &clientpb.Reply{Id: 5, Error: &clientpb.Error{Code: 103, Message: "permission denied"}},
			want:  `{"id":5,"error":{"code":103,"message":"permission denied"}}`,
		},
		// Omission rules and always-written fields (§1.5).
		{name: "unsubscribe result", reply: &clientpb.Reply{Id: 4, Unsubscribe: &clientpb.UnsubscribeResult{}}, want: `{"id":4,"unsubscribe":{}}`},
		{name: "empty rpc result", reply: &clientpb.Reply{Id: 6, Rpc: &clientpb.RPCResult{}}, want: `{"id":6,"rpc":{}}`},
		{name: "empty presence", reply: &clientpb.Reply{Id: 7, Presence: &clientpb.PresenceResult{}}, want: `{"id":7,"presence":{"presence":{}}}`},
		{
			name: "presence sorted by client id",
			reply: &clientpb.Reply{Id: 7, Presence: &clientpb.PresenceResult{Presence: map[string]*clientpb.ClientInfo{
				"c2": {User: "u2", Client: "c2", ChanInfo: []byte(`[1]`)}, "c1": {Client: "c1"}}}},
			want: `{"id":7,"presence":{"presence":{"c1":{"user":"","client":"c1"},"c2":{"user":"u2","client":"c2","chan_info":[1]}}}}`,
		},
		{name: "zero presence stats", reply: &clientpb.Reply{Id: 8, PresenceStats: &clientpb.PresenceStatsResult{}}, want: `{"id":8,"presence_stats":{"num_clients":0,"num_users":0}}`},
		{name: "empty history", reply: &clientpb.Reply{Id: 9, History: &clientpb.HistoryResult{}}, want: `{"id":9,"history":{"publications":[],"epoch":"","offset":0}}`},
		{
			name: "history with publications",
			reply: &clientpb.Reply{Id: 9, History: &clientpb.HistoryResult{Epoch: "e", Offset: 2, Publications: []*clientpb.Publication{
				{Data: []byte(`1`), Offset: 1}, {Data: []byte(`"two"`), Offset: 2, Tags: map[string]string{"b": "2", "a": "1"}}}}},
			want: `{"id":9,"history":{"publications":[{"data":1,"offset":1},{"data":"two","offset":2,"tags":{"a":"1","b":"2"}}],"epoch":"e","offset":2}}`,
		},
		{
			name: "subscribe result with recovery",
			reply: &clientpb.Reply{Id: 2, Subscribe: &clientpb.SubscribeResult{
				Expires: true, Ttl: 60, Recoverable: true, Epoch: "ep", Recovered: true, Offset: 10, Positioned: true,
				Data: []byte(`{}`), WasRecovering: true, Delta: true, Publications: []*clientpb.Publication{{Data: []byte(`{}`), Offset: 10}}}},
			want: `{"id":2,"subscribe":{"expires":true,"ttl":60,"recoverable":true,"epoch":"ep","publications":[{"data":{},"offset":10}],` +
				`"recovered":true,"offset":10,"positioned":true,"data":{},"was_recovering":true,"delta":true}}`,
		},
		{
			name: "connect result with subs, refresh, sub_refresh",
			reply: &clientpb.Reply{Id: 1, Connect: &clientpb.ConnectResult{Client: "c", Expires: true, Ttl: 5, Data: []byte(`true`), Time: -1,
				Subs: map[string]*clientpb.SubscribeResult{"b": {}, "a\"": {Recoverable: true}}}},
			want: `{"id":1,"connect":{"client":"c","expires":true,"ttl":5,"data":true,"subs":{"a\"":{"recoverable":true},"b":{}},"time":-1}}`,
		},
		{name: "refresh result", reply: &clientpb.Reply{Id: 3, Refresh: &clientpb.RefreshResult{Expires: true, Ttl: 30}}, want: `{"id":3,"refresh":{"expires":true,"ttl":30}}`},
		{name: "sub_refresh result", reply: &clientpb.Reply{Id: 3, SubRefresh: &clientpb.SubRefreshResult{}}, want: `{"id":3,"sub_refresh":{}}`},
		{
			name: "publication with every field",
			reply: &clientpb.Reply{Push: &clientpb.Push{Id: 7, Pub: &clientpb.Publication{Data: []byte(`0`), Offset: 18446744073709551615,
				Delta: true, Time: 1700000000000, Channel: "c", Key: "k", Removed: true, Score: -3, Epoch: "e", PrevData: []byte(`null`), Version: 9}}},
			want: `{"push":{"id":7,"pub":{"data":0,"offset":18446744073709551615,"delta":true,"time":1700000000000,"channel":"c","key":"k",` +
				`"removed":true,"score":-3,"epoch":"e","prev_data":null,"version":9}}}`,
		},
		{
			name: "uni-directional pushes",
			reply: &clientpb.Reply{Push: &clientpb.Push{
				Connect:    &clientpb.Connect{Client: "c", Ping: 25, Pong: true, Subs: map[string]*clientpb.SubscribeResult{"x": nil}},
				Disconnect: &clientpb.Disconnect{Code: 3001, Reason: "shutdown", Reconnect: true},
				Refresh:    &clientpb.Refresh{Expires: true, Ttl: 1},
			}},
			want: `{"push":{"connect":{"client":"c","subs":{"x":{}},"ping":25,"pong":true},` +
				`"disconnect":{"code":3001,"reason":"shutdown","reconnect":true},"refresh":{"expires":true,"ttl":1}}}`,
		},
		// Payload and string hygiene.
		{
			name:  "raw newlines stripped from payload, escaped ones kept",
			reply: &clientpb.Reply{Push: &clientpb.Push{Message: &clientpb.Message{Data: []byte("{\r\n  \"a\": \"x\\ny\",\n  \"b\": [1,\n2]\n}\n")}}},
			want:  `{"push":{"message":{"data":{  "a": "x\ny",  "b": [1,2]}}}}`,
		},
		{
			name:  "string escaping",
			reply: &clientpb.Reply{Id: 1, Error: &clientpb.Error{Code: 1, Message: "q\"b\\n\n\r\t\x01\x7f<é\u2028\u2029\xff", Temporary: true}},
			want:  `{"id":1,"error":{"code":1,"message":"q\"b\\n\n\r\t\u0001` + "\x7f<é" + `\u2028\u2029\ufffd","temporary":true}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			got, err := AppendReplyJSON(prefix, tt.reply)
			if err != nil {
				t.Fatalf("AppendReplyJSON: %v", err)
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("dst prefix lost: %q", got)
			}
			if string(got[len(prefix):]) != tt.want {
				t.Errorf("\n got %s\nwant %s", got[len(prefix):], tt.want)
			}
			if !json.Valid(got[len(prefix):]) {
				t.Errorf("output is not valid JSON")
			}
		})
	}
}

// The first §1.10 push line lists "offset" before "info"; this encoder
// writes fields in proto field-number order (data=4, info=5, offset=6), so
// that line is compared as a JSON value rather than byte for byte.
func TestSpecPublicationPushSameValue(t *testing.T) {
	const spec = `{"push":{"channel":"news","pub":{"data":{"text":"hi"},"offset":7,"info":{"user":"42","client":"c1"}}}}`
	r := &clientpb.Reply{Push: &clientpb.Push{Channel: "news", Pub: &clientpb.Publication{
		Data: []byte(`{"text":"hi"}`), Offset: 7, Info: &clientpb.ClientInfo{User: "42", Client: "c1"}}}}
	got, err := AppendReplyJSON(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"push":{"channel":"news","pub":{"data":{"text":"hi"},"info":{"user":"42","client":"c1"},"offset":7}}}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(spec), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("value differs from the spec line:\n got %s\nspec %s", got, spec)
	}
}

func TestAppendReplyJSONInvalidPayload(t *testing.T) {
	bad := [][]byte{
		[]byte("not json"),
		{0x0a, 0x08, 0x01}, // a protobuf payload
		[]byte(`{"a":1}{"b":2}`),
		[]byte(`{"a":1`),
		[]byte(" \n "),
		[]byte("\"\xff\""),
	}
	replies := []func([]byte) *clientpb.Reply{
		func(b []byte) *clientpb.Reply {
			return &clientpb.Reply{Push: &clientpb.Push{Pub: &clientpb.Publication{Data: b}}}
		},
		func(b []byte) *clientpb.Reply {
			return &clientpb.Reply{Push: &clientpb.Push{Join: &clientpb.Join{Info: &clientpb.ClientInfo{ConnInfo: b}}}}
		},
		func(b []byte) *clientpb.Reply { return &clientpb.Reply{Id: 1, Rpc: &clientpb.RPCResult{Data: b}} },
		func(b []byte) *clientpb.Reply {
			return &clientpb.Reply{Id: 1, History: &clientpb.HistoryResult{Publications: []*clientpb.Publication{{Data: []byte("1")}, {Data: b}}}}
		},
		func(b []byte) *clientpb.Reply {
			return &clientpb.Reply{Id: 1, Connect: &clientpb.ConnectResult{Subs: map[string]*clientpb.SubscribeResult{"a": {Data: b}}}}
		},
	}
	for _, payload := range bad {
		for i, mk := range replies {
			dst := []byte("prefix")
			got, err := AppendReplyJSON(dst, mk(payload))
			if !errors.Is(err, ErrInvalidJSONPayload) {
				t.Errorf("payload %q reply %d: err = %v, want ErrInvalidJSONPayload", payload, i, err)
			}
			if string(got) != "prefix" {
				t.Errorf("payload %q reply %d: dst changed to %q", payload, i, got)
			}
			if _, err := EncodeReply(TypeJSON, mk(payload)); !errors.Is(err, ErrInvalidJSONPayload) {
				t.Errorf("EncodeReply: err = %v", err)
			}
			if _, err := EncodeReply(TypeProtobuf, mk(payload)); err != nil {
				t.Errorf("protobuf must carry any bytes, got %v", err)
			}
		}
	}
}

func TestAppendReplyProtobuf(t *testing.T) {
	replies := []*clientpb.Reply{
		{},
		{Id: 1, Connect: &clientpb.ConnectResult{Client: "c", Ping: 25, Pong: true}},
		{Push: &clientpb.Push{Channel: "news", Pub: &clientpb.Publication{Data: []byte{0, 1, 2}, Score: -5, Tags: map[string]string{"a": "b"}}}},
	}
	var stream []byte
	for _, r := range replies {
		var err error
		stream, err = AppendReplyProtobuf(stream, r)
		if err != nil {
			t.Fatal(err)
		}
	}
	if stream[0] != 0x00 {
		t.Errorf("server ping must be the single byte 0x00, stream starts %x", stream[:1])
	}
	for i, r := range replies {
		body, n := protowire.ConsumeBytes(stream)
		if n < 0 {
			t.Fatalf("reply %d: bad length prefix", i)
		}
		stream = stream[n:]
		got := &clientpb.Reply{}
		if err := proto.Unmarshal(body, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, r) {
			t.Errorf("reply %d: got %v want %v", i, got, r)
		}
	}
	if len(stream) != 0 {
		t.Errorf("%d trailing bytes", len(stream))
	}
}

func TestEncodeReplyInvalidUTF8Protobuf(t *testing.T) {
	r := &clientpb.Reply{Push: &clientpb.Push{Channel: "\xff"}}
	dst := []byte("x")
	got, err := AppendReplyProtobuf(dst, r)
	if err == nil || string(got) != "x" {
		t.Fatalf("got %q, %v; want error and unchanged dst", got, err)
	}
	// JSON degrades such strings to U+FFFD instead.
	j, err := EncodeReply(TypeJSON, r)
	if err != nil || string(j) != `{"push":{"channel":"\ufffd"}}` {
		t.Fatalf("got %s, %v", j, err)
	}
}

func TestEncodeReplyUnknownType(t *testing.T) {
	if _, err := EncodeReply(Type("xml"), &clientpb.Reply{}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("err = %v", err)
	}
}

func TestEncodeReplyOwnsResult(t *testing.T) {
	r := &clientpb.Reply{Push: &clientpb.Push{Channel: "a"}}
	first, err := EncodeReply(TypeJSON, r)
	if err != nil {
		t.Fatal(err)
	}
	keep := string(first)
	for i := 0; i < 10; i++ {
		if _, err := EncodeReply(TypeJSON, &clientpb.Reply{Push: &clientpb.Push{Channel: "bbbbbbbb"}}); err != nil {
			t.Fatal(err)
		}
	}
	if string(first) != keep {
		t.Fatalf("result was overwritten through the scratch pool: %q", first)
	}
}
