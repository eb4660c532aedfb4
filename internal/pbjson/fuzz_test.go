package pbjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/apipb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// fuzzTargets cover every field kind the codec handles: strings, raw
// bytes, 64-bit ints, enums, doubles, repeated, maps and recursion.
var fuzzTargets = []func() proto.Message{
	func() proto.Message { return &proxypb.ConnectResponse{} },
	func() proto.Message { return &proxypb.ConnectRequest{} },
	func() proto.Message { return &proxypb.FilterNode{} },
	func() proto.Message { return &apipb.BatchRequest{} },
	func() proto.Message { return &apipb.Command{} },
	func() proto.Message { return &apipb.InfoResponse{} },
	func() proto.Message { return &apipb.HistoryResponse{} },
}

// FuzzUnmarshal checks that no input panics and that whatever decodes
// encodes to valid single-line JSON which decodes and encodes to itself.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"result":{"user":"56"}}`))
	f.Add([]byte(`{"id":1,"method":"publish","params":{"channel":"a","data":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, newMsg := range fuzzTargets {
			m := newMsg()
			if err := Unmarshal(data, m); err != nil {
				continue
			}
			out, err := Marshal(m)
			if err != nil {
				t.Fatalf("%T: Marshal after successful Unmarshal: %v", m, err)
			}
			if !json.Valid(out) || bytes.ContainsAny(out, "\n\r") {
				t.Fatalf("%T: bad output %q", m, out)
			}
			m2 := newMsg()
			if err := Unmarshal(out, m2); err != nil {
				t.Fatalf("%T: own output rejected: %v\n%s", m, err, out)
			}
			out2, err := Marshal(m2)
			if err != nil {
				t.Fatalf("%T: second Marshal: %v", m, err)
			}
			if !bytes.Equal(out, out2) {
				t.Fatalf("%T: not stable:\n%s\n%s", m, out, out2)
			}
		}
	})
}
