package protocol

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

func TestDecodeConnectRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *clientpb.ConnectRequest
		wantErr bool
	}{
		{"empty", "", &clientpb.ConnectRequest{}, false},
		{"null", " null ", &clientpb.ConnectRequest{}, false},
		{"token and subs", `{"token":"t","subs":{"news":{"recover":true,"offset":5,"epoch":"e"}}}`,
			&clientpb.ConnectRequest{Token: "t", Subs: map[string]*clientpb.SubscribeRequest{"news": {Recover: true, Offset: 5, Epoch: "e"}}}, false},
		{"array", `[1]`, nil, true},
		{"trailing", `{} {}`, nil, true},
		{"null token", `{"token":null}`, &clientpb.ConnectRequest{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeConnectRequest(TypeJSON, []byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %v, want an error", got)
				}
				return
			}
			if err != nil || !proto.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	b, _ := proto.Marshal(&clientpb.ConnectRequest{Token: "t"})
	if got, err := DecodeConnectRequest(TypeProtobuf, b); err != nil || got.Token != "t" {
		t.Fatalf("protobuf: %v, %v", got, err)
	}
}

func TestEncodePush(t *testing.T) {
	p := &clientpb.Push{Channel: "news", Pub: &clientpb.Publication{Data: []byte(`{"a":1}`), Offset: 3}}
	got, err := EncodePush(TypeJSON, p)
	if err != nil || string(got) != `{"channel":"news","pub":{"data":{"a":1},"offset":3}}` {
		t.Fatalf("JSON push = %s, %v", got, err)
	}
	if got, _ := EncodePush(TypeJSON, &clientpb.Push{}); string(got) != "{}" {
		t.Fatalf("empty push (a ping) = %s, want {}", got)
	}
	pb, err := EncodePush(TypeProtobuf, p)
	var back clientpb.Push
	if err != nil || proto.Unmarshal(pb, &back) != nil || !proto.Equal(&back, p) {
		t.Fatalf("protobuf push does not round-trip: %v", err)
	}
}

func FuzzDecodeConnectRequest(f *testing.F) {
	f.Add([]byte(`{"token":"t","subs":{"a":{"recover":true}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeConnectRequest(TypeJSON, b)
		_, _ = DecodeConnectRequest(TypeProtobuf, b)
	})
}
