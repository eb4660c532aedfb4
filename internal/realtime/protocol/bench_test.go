package protocol

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

const benchToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"

var benchCommands = []*clientpb.Command{
	{Id: 1, Connect: &clientpb.ConnectRequest{Token: benchToken, Name: "js", Data: []byte(`{"app":"demo"}`)}},
	{Id: 2, Subscribe: &clientpb.SubscribeRequest{Channel: "chat:index", Flag: 1, Recoverable: true, Positioned: true}},
	{Id: 3, Subscribe: &clientpb.SubscribeRequest{Channel: "news", Flag: 1, Recover: true, Offset: 1234, Epoch: "xyzw"}},
}

func benchJSONFrame() []byte {
	return []byte(`{"id":1,"connect":{"token":"` + benchToken + `","data":{"app":"demo"},"name":"js"}}` + "\n" +
		`{"id":2,"subscribe":{"channel":"chat:index","recoverable":true,"positioned":true,"flag":1}}` + "\n" +
		`{"id":3,"subscribe":{"channel":"news","recover":true,"epoch":"xyzw","offset":1234,"flag":1}}`)
}

func benchDecode(b *testing.B, typ Type, frame []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var d CommandDecoder
	for b.Loop() {
		d.Reset(typ, frame)
		for {
			if _, err := d.Decode(); err != nil {
				break
			}
		}
	}
}

func BenchmarkDecodeConnectSubscribe(b *testing.B) {
	b.Run("json", func(b *testing.B) { benchDecode(b, TypeJSON, benchJSONFrame()) })
	b.Run("protobuf", func(b *testing.B) { benchDecode(b, TypeProtobuf, protoFrame(b, benchCommands...)) })
	// The alternative considered: encoding/json into mirror structs (fewer
	// fields than the real decoder needs, so a lower bound on its cost).
	b.Run("json-stdlib-mirror", func(b *testing.B) {
		type sub struct {
			Channel     string `json:"channel"`
			Recover     bool   `json:"recover"`
			Epoch       string `json:"epoch"`
			Offset      uint64 `json:"offset"`
			Recoverable bool   `json:"recoverable"`
			Positioned  bool   `json:"positioned"`
			Flag        int64  `json:"flag"`
		}
		type cmd struct {
			ID      uint32 `json:"id"`
			Connect *struct {
				Token string          `json:"token"`
				Data  json.RawMessage `json:"data"`
				Name  string          `json:"name"`
			} `json:"connect"`
			Subscribe *sub `json:"subscribe"`
		}
		frame := benchJSONFrame()
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			for line := range bytes.SplitSeq(frame, []byte("\n")) {
				var c cmd
				if err := json.Unmarshal(line, &c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func benchPush() *clientpb.Reply {
	return &clientpb.Reply{Push: &clientpb.Push{Channel: "chat:index", Pub: &clientpb.Publication{
		Data:   []byte(`{"text":"hello, world","from":"alice","n":42}`),
		Offset: 1234,
		Info:   &clientpb.ClientInfo{User: "42", Client: "5b1c6f8e-6a3b-4b8a-9c1d-2f4e5a6b7c8d"},
	}}}
}

func BenchmarkEncodePublicationPush(b *testing.B) {
	for _, typ := range []Type{TypeJSON, TypeProtobuf} {
		b.Run(string(typ)+"/EncodeReply", func(b *testing.B) {
			r := benchPush()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeReply(typ, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(typ)+"/AppendReply", func(b *testing.B) {
			r := benchPush()
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = AppendReply(typ, buf[:0], r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBatchSharedPush is the fan-out path: one encoded push appended
// to a subscriber's frame together with a reply.
func BenchmarkBatchSharedPush(b *testing.B) {
	shared, err := EncodeReply(TypeJSON, benchPush())
	if err != nil {
		b.Fatal(err)
	}
	batch := NewBatch(TypeJSON)
	reply := &clientpb.Reply{Id: 3, Publish: &clientpb.PublishResult{}}
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset()
		if err := batch.AppendReply(reply); err != nil {
			b.Fatal(err)
		}
		batch.Append(shared)
	}
}
