package wstest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// TestFrames checks the batch codec on its own, so that a failing server
// test points at the server and not at this client. Commands and replies
// share their first fields, so one batch encoded as commands decodes as
// replies with the same ids and results.
func TestFrames(t *testing.T) {
	for _, f := range []Format{JSON, Protobuf} {
		t.Run(string(f), func(t *testing.T) {
			frame, err := encode(f, []*clientpb.Command{{Id: 1}, {Id: 2}, {}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(f, frame)
			if err != nil {
				t.Fatal(err)
			}
			want := []*clientpb.Reply{{Id: 1}, {Id: 2}, {}}
			if len(got) != len(want) {
				t.Fatalf("decoded %d replies from %q, want %d", len(got), frame, len(want))
			}
			for i := range want {
				if !proto.Equal(got[i], want[i]) {
					t.Errorf("reply %d = %v, want %v", i, got[i], want[i])
				}
			}
			if !isPing(got[2]) || isPing(got[0]) {
				t.Error("only the empty reply is a ping")
			}
		})
	}
}
