package node

import (
	"context"
	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// BenchmarkMapSync10k is the server's side of a late joiner's whole sync
// of a 10,000-key map in pages of 1000 on the memory map broker: reading
// each page, building and encoding its reply (what a socket write would
// carry), per wire format. wire-B/sync is the bytes a client receives.
// The hub tests' fake transport is bypassed: decoding replies for the test
// would cost more than the server's work being measured.
func BenchmarkMapSync10k(b *testing.B) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		name := "json"
		if pt == protocol.TypeProtobuf {
			name = "protobuf"
		}
		b.Run(name, func(b *testing.B) {
			e := newHubEnv(b)
			keys := keyNames("seat-", 10000)
			e.seed(b, "m:bench", keys...)
			tc := e.newClient(b, pt)
			tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(b, "alice", 0, nil)}})
			ctx := context.Background()
			var wire, entries int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := mapSub("m:bench", phaseState)
				req.Limit = 1000
				for {
					r, err := tc.c.handleSubscribe(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					frame, err := protocol.EncodeReply(pt, r)
					if err != nil {
						b.Fatal(err)
					}
					wire += len(frame)
					res := r.Subscribe
					entries += len(res.State)
					if res.Phase == phaseLive {
						break
					}
					next := mapSub("m:bench", phaseState)
					next.Limit, next.Cursor, next.Epoch, next.Offset = 1000, res.Cursor, res.Epoch, res.Offset
					req = next
				}
				if _, err := tc.c.handleUnsubscribe(ctx, &clientpb.UnsubscribeRequest{Channel: "m:bench"}); err != nil {
					b.Fatal(err)
				}
			}
			if entries != b.N*len(keys) {
				b.Fatalf("synced %d entries in %d syncs", entries, b.N)
			}
			b.ReportMetric(float64(wire)/float64(b.N), "wire-B/sync")
		})
	}
}
