package protocol

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

func TestBatchJSON(t *testing.T) {
	pub := &clientpb.Reply{Push: &clientpb.Push{Channel: "chat", Pub: &clientpb.Publication{Data: []byte(`{"t":"x"}`)}}}
	shared, err := EncodeReply(TypeJSON, pub)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatch(TypeJSON)
	if err := b.AppendReply(&clientpb.Reply{Id: 3, Publish: &clientpb.PublishResult{}}); err != nil {
		t.Fatal(err)
	}
	b.Append(nil) // ignored: would be a blank line
	b.Append(shared)
	if err := b.AppendReply(&clientpb.Reply{Push: &clientpb.Push{Pub: &clientpb.Publication{Data: []byte("bad")}}}); !errors.Is(err, ErrInvalidJSONPayload) {
		t.Fatalf("err = %v", err)
	}
	if err := b.AppendReply(&clientpb.Reply{}); err != nil {
		t.Fatal(err)
	}
	want := `{"id":3,"publish":{}}` + "\n" + `{"push":{"channel":"chat","pub":{"data":{"t":"x"}}}}` + "\n" + `{}`
	if got := string(b.Bytes()); got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if b.Len() != 3 || b.Size() != len(want) || b.Type() != TypeJSON {
		t.Errorf("Len %d Size %d Type %s", b.Len(), b.Size(), b.Type())
	}
	b.Reset()
	b.Append(shared)
	if string(b.Bytes()) != string(shared) || b.Len() != 1 {
		t.Errorf("after Reset: %q", b.Bytes())
	}
}

func TestBatchProtobufRoundTrip(t *testing.T) {
	replies := []*clientpb.Reply{
		{Id: 1, Connect: &clientpb.ConnectResult{Client: "c"}},
		{},
		{Push: &clientpb.Push{Channel: "x", Pub: &clientpb.Publication{Data: []byte("raw")}}},
	}
	b := NewBatch(TypeProtobuf)
	for i, r := range replies {
		if i == 2 {
			enc, err := EncodeReply(TypeProtobuf, r)
			if err != nil {
				t.Fatal(err)
			}
			b.Append(enc)
			continue
		}
		if err := b.AppendReply(r); err != nil {
			t.Fatal(err)
		}
	}
	stream := b.Bytes()
	for i, want := range replies {
		body, n := protowire.ConsumeBytes(stream)
		if n < 0 {
			t.Fatalf("item %d: bad length prefix", i)
		}
		stream = stream[n:]
		got := &clientpb.Reply{}
		if err := proto.Unmarshal(body, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("item %d: got %v want %v", i, got, want)
		}
	}
	if len(stream) != 0 {
		t.Errorf("%d bytes after the last item", len(stream))
	}
}
