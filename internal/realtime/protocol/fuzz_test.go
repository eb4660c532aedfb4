package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

var jsonSeeds = []string{
	`{"id":1,"connect":{"name":"js"}}` + "\n" + `{"id":2,"subscribe":{"channel":"chat","flag":1}}`,
	`{}`,
	"{}\r\n",
	`{"id":3,"publish":{"channel":"chat","data":{"t":"x"}}}`,
	`{"id":4,"rpc":{"method":"getUser","data":{"id":1}}}`,
	`{"id":1,"connect":{"token":"t","subs":{"ch":{"recover":true,"offset":5,"epoch":"e"}},"headers":{"a":"b"}}}`,
	`{"id":5,"history":{"channel":"h","limit":10,"since":{"offset":1,"epoch":"e"},"reverse":true}}`,
	`{"id":6,"sub_refresh":{"channel":"c","track":[{"signature":"s","items":[{"key":"k","version":1}]}],"untrack":["x"]}}`,
	`{"id":7,"subscribe":{"channel":"c","tf":{"op":"and","nodes":[{"key":"a","cmp":"in","vals":["1","2"]}]}}}`,
	`{"send":{"data":"\ud83d\ude00\u2028"},"unknown":[1,2.5e-3,null,true]}`,
	`{"id":-1}`, `{"id":1.5}`, "{\"a\":\"\xff\"}", `[]`, "\n\n", `{"id":1`,
}

func FuzzDecodeJSONCommands(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := DecodeCommands(TypeJSON, data)
		checkDecodeResult(t, TypeJSON, data, cmds, err)
		if err == nil {
			for _, c := range cmds {
				// Decoded strings must be marshalable: protobuf rejects invalid UTF-8.
				if _, err := proto.Marshal(c); err != nil {
					t.Fatalf("decoded command does not marshal: %v", err)
				}
			}
		}
		if bytes.IndexByte(data, '\n') >= 0 {
			return
		}
		// Single line: compare with the encoding/json-based reference.
		ours, ourErr := decodeCommandJSON(data)
		ref := &clientpb.Command{}
		refErr := refUnmarshal(data, ref)
		switch {
		case ourErr == nil && refErr != nil:
			t.Fatalf("accepted input the reference rejects (%v): %q", refErr, data)
		case ourErr != nil && refErr == nil && utf8.Valid(data):
			t.Fatalf("rejected valid input (%v): %q", ourErr, data)
		case ourErr == nil && !proto.Equal(ours, ref):
			t.Fatalf("decoders disagree on %q:\n ours %v\n  ref %v", data, ours, ref)
		}
	})
}

func FuzzDecodeProtobufCommands(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0x80})
	f.Add(protoFrame(f,
		&clientpb.Command{Id: 1, Connect: &clientpb.ConnectRequest{Name: "js", Subs: map[string]*clientpb.SubscribeRequest{"a": {Recover: true}}}},
		&clientpb.Command{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat", Flag: 1, Tf: &clientpb.FilterNode{Op: "and"}}},
		&clientpb.Command{Id: 3, Publish: &clientpb.PublishRequest{Channel: "chat", Data: []byte(`{"t":"x"}`)}},
		&clientpb.Command{},
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := DecodeCommands(TypeProtobuf, data)
		checkDecodeResult(t, TypeProtobuf, data, cmds, err)
		if err != nil {
			return
		}
		// Re-framing the decoded commands must decode to the same commands.
		again, err := DecodeCommands(TypeProtobuf, protoFrame(t, cmds...))
		if err != nil || len(again) != len(cmds) {
			t.Fatalf("re-encoded frame: %d commands, %v", len(again), err)
		}
		for i := range cmds {
			if !proto.Equal(cmds[i], again[i]) {
				t.Fatalf("command %d changed in a round trip", i)
			}
		}
	})
}

// checkDecodeResult holds for every input: success means at least one
// command and agreement with the streaming API; failure is a located
// *DecodeError.
func checkDecodeResult(t *testing.T, typ Type, data []byte, cmds []*clientpb.Command, err error) {
	t.Helper()
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not a *DecodeError", err)
		}
		if de.Offset < 0 || de.Offset > len(data) || de.Type != typ {
			t.Fatalf("bad error location %+v for %d-byte input", *de, len(data))
		}
		return
	}
	if len(cmds) == 0 {
		t.Fatalf("success with zero commands")
	}
	d := NewCommandDecoder(typ, data)
	for i := range cmds {
		c, err := d.Decode()
		if err != nil || !proto.Equal(c, cmds[i]) {
			t.Fatalf("streaming command %d: %v, %v", i, c, err)
		}
	}
	if _, err := d.Decode(); err != io.EOF {
		t.Fatalf("streaming decoder did not end with io.EOF: %v", err)
	}
}

func FuzzEncodeReply(f *testing.F) {
	for _, r := range []*clientpb.Reply{
		{},
		{Id: 1, Connect: &clientpb.ConnectResult{Client: "c", Ping: 25, Pong: true, Subs: map[string]*clientpb.SubscribeResult{"s": {Data: []byte(`[1, 2]`)}}}},
		{Push: &clientpb.Push{Channel: "news", Pub: &clientpb.Publication{Data: []byte(`{"text":"hi"}`), Offset: 7, Info: &clientpb.ClientInfo{User: "42", Client: "c1", ConnInfo: []byte("{\n\"a\": 1\r\n}")}}}},
		{Id: 5, Presence: &clientpb.PresenceResult{Presence: map[string]*clientpb.ClientInfo{"c1": {User: "u"}}}},
		{Id: 6, History: &clientpb.HistoryResult{Publications: []*clientpb.Publication{{Data: []byte(` "s\n" `), Tags: map[string]string{"k": "\u2028"}}}}},
		{Id: 7, Error: &clientpb.Error{Code: 103, Message: "permission \"denied\""}},
		{Push: &clientpb.Push{Channel: "x", Message: &clientpb.Message{Data: []byte("not json")}}},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &clientpb.Reply{}
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, r); err != nil {
			return
		}
		pb, err := EncodeReply(TypeProtobuf, r)
		if err != nil {
			t.Fatalf("protobuf encode of a decodable reply: %v", err)
		}
		body, n := protowire.ConsumeBytes(pb)
		back := &clientpb.Reply{}
		if n != len(pb) || proto.Unmarshal(body, back) != nil || !proto.Equal(back, r) {
			t.Fatalf("protobuf round trip failed")
		}

		js, err := EncodeReply(TypeJSON, r)
		if errors.Is(err, ErrInvalidJSONPayload) {
			return
		}
		if err != nil {
			t.Fatalf("JSON encode: %v", err)
		}
		if bytes.ContainsAny(js, "\r\n") || !utf8.Valid(js) || !json.Valid(js) {
			t.Fatalf("unusable JSON line: %q", js)
		}
		batch := NewBatch(TypeJSON)
		batch.Append(js)
		batch.Append(js)
		for _, line := range bytes.Split(batch.Bytes(), []byte("\n")) {
			if !json.Valid(line) {
				t.Fatalf("invalid batch line %q", line)
			}
		}
		got := &clientpb.Reply{}
		if err := refUnmarshal(js, got); err != nil {
			t.Fatalf("reference cannot read %s: %v", js, err)
		}
		want := proto.Clone(r).(*clientpb.Reply)
		normalizePayloads(want.ProtoReflect())
		if !proto.Equal(got, want) {
			t.Fatalf("JSON round trip differs:\n json %s\n  got %v\n want %v", js, got, want)
		}
	})
}

// normalizePayloads applies to m what JSON encoding does to embedded
// payloads: raw CR/LF removed, and surrounding blanks lost when read back.
func normalizePayloads(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				normalizePayloads(mv.Message())
				return true
			})
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				normalizePayloads(v.List().Get(i).Message())
			}
		case !fd.IsMap() && !fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			normalizePayloads(v.Message())
		case fd.Kind() == protoreflect.BytesKind && !fd.IsList():
			b := bytes.Trim(appendStrippingNewlines(nil, v.Bytes()), " \t")
			m.Set(fd, protoreflect.ValueOfBytes(b))
		}
		return true
	})
}
