package node

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/spindle-rt/spindle/internal/fossil"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

func deltaEnv(t testing.TB) *hubEnv {
	return newHubEnv(t, func(cfg *Config, _ *Proxy) {
		hist := func(o ChannelOptions) ChannelOptions {
			o.HistorySize, o.HistoryTTL, o.AllowSubscribeForClient, o.AllowRecovery = 100, 60e9, true, true
			return o
		}
		cfg.Channel.Namespaces = append(cfg.Channel.Namespaces,
			Namespace{Name: "delta", ChannelOptions: hist(ChannelOptions{DeltaFossil: true, DeltaPublish: true})},
			Namespace{Name: "explicit", ChannelOptions: hist(ChannelOptions{DeltaFossil: true})},
			Namespace{Name: "nodelta", ChannelOptions: hist(ChannelOptions{})},
		)
	})
}

// payloadN is a JSON document that differs from its neighbours in one
// number, long enough for a patch to pay.
func payloadN(i int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"pad":"%s"}`, i, "the rest of a document that does not change between publications")
}

// deltaReceiver rebuilds payloads from what a delta subscriber gets, as an
// SDK does: whole payloads become the base, patches apply to it.
type deltaReceiver struct {
	t     *testing.T
	proto protocol.Type
	base  []byte
	whole int
	patch int
}

func (r *deltaReceiver) take(p *clientpb.Publication) []byte {
	r.t.Helper()
	data := p.Data
	if r.proto == protocol.TypeJSON {
		var s string
		if err := json.Unmarshal(p.Data, &s); err != nil {
			r.t.Fatalf("a delta subscription's JSON payload must be a JSON string, got %s", p.Data)
		}
		data = []byte(s)
	}
	if p.Delta {
		out, err := fossil.Apply(r.base, data, 1<<20)
		if err != nil {
			r.t.Fatalf("patch at offset %d does not apply to the base: %v", p.Offset, err)
		}
		data = out
		r.patch++
	} else {
		r.whole++
	}
	r.base = data
	return data
}

func TestDeltaFossil(t *testing.T) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		t.Run(string(pt), func(t *testing.T) {
			env := deltaEnv(t)
			ch := "delta:" + string(pt)
			tc := env.newClient(t, pt)
			tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}})
			res := tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Delta: "fossil", Recoverable: true}}).Subscribe
			if !res.Delta {
				t.Fatal("subscribe result must say delta: the namespace allows fossil")
			}
			plain := env.newClient(t, pt)
			plain.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "bob", 0, nil)}})
			plain.ok(subCmd(ch))

			r := &deltaReceiver{t: t, proto: pt}
			var lastOffset uint64
			for i := 1; i <= 5; i++ {
				sp, err := env.node.Publish(t.Context(), ch, payloadN(i), PublishOptions{})
				if err != nil {
					t.Fatal(err)
				}
				pub := tc.waitPush(fmt.Sprintf("publication %d", i), func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
				if got := r.take(pub); string(got) != string(payloadN(i)) {
					t.Fatalf("publication %d rebuilt as %s", i, got)
				}
				if pub.Offset != sp.Offset {
					t.Fatalf("offset %d, want %d", pub.Offset, sp.Offset)
				}
				lastOffset = sp.Offset
				other := plain.waitPush("plain publication", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
				if other.Delta || string(other.Data) != string(payloadN(i)) {
					t.Fatalf("a subscriber without delta got %+v", other)
				}
			}
			if r.whole != 1 || r.patch != 4 {
				t.Fatalf("got %d whole and %d patches, want 1 whole then 4 patches", r.whole, r.patch)
			}

			// Recovery: the first recovered publication whole, the rest
			// patches against their predecessor, and the next live one a
			// patch against the last recovered.
			late := env.newClient(t, pt)
			late.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "carol", 0, nil)}})
			rec := late.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{
				Channel: ch, Delta: "fossil", Recoverable: true, Recover: true, Epoch: res.Epoch, Offset: lastOffset - 3,
			}}).Subscribe
			if !rec.Recovered || len(rec.Publications) != 3 {
				t.Fatalf("recovered %v with %d publications, want 3", rec.Recovered, len(rec.Publications))
			}
			lr := &deltaReceiver{t: t, proto: pt}
			for i, p := range rec.Publications {
				if got := lr.take(p); string(got) != string(payloadN(3+i)) {
					t.Fatalf("recovered publication %d rebuilt as %s", i, got)
				}
			}
			if lr.whole != 1 || lr.patch != 2 {
				t.Fatalf("recovery: %d whole and %d patches, want 1 and 2", lr.whole, lr.patch)
			}
			if _, err := env.node.Publish(t.Context(), ch, payloadN(6), PublishOptions{}); err != nil {
				t.Fatal(err)
			}
			live := late.waitPush("live after recovery", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
			if !live.Delta {
				t.Fatal("the first live publication after a recovery must be a patch against the last recovered")
			}
			if got := lr.take(live); string(got) != string(payloadN(6)) {
				t.Fatalf("live after recovery rebuilt as %s", got)
			}
		})
	}
}

// Where deltas cannot or may not be used, a delta subscriber gets whole
// payloads: publishes without the delta flag, namespaces without fossil,
// and a client that did not ask.
func TestDeltaOnlyWhereAllowed(t *testing.T) {
	env := deltaEnv(t)
	tc := env.newClient(t, protocol.TypeProtobuf)
	tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}})
	if tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "nodelta:a", Delta: "fossil"}}).Subscribe.Delta {
		t.Fatal("a namespace without fossil must answer delta false")
	}
	if !tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "explicit:a", Delta: "fossil"}}).Subscribe.Delta {
		t.Fatal("explicit: fossil is allowed")
	}
	count := func(ch string, o PublishOptions) (patches int) {
		t.Helper()
		for i := 1; i <= 3; i++ {
			if _, err := env.node.Publish(t.Context(), ch, payloadN(i), o); err != nil {
				t.Fatal(err)
			}
			if tc.waitPush(ch, func(p *clientpb.Push) bool { return p.Pub != nil && p.Channel == ch }).Pub.Delta {
				patches++
			}
		}
		return patches
	}
	if n := count("explicit:a", PublishOptions{}); n != 0 {
		t.Errorf("publishes without the delta flag in a namespace without delta_publish: %d patches, want 0", n)
	}
	if n := count("explicit:a", PublishOptions{Delta: true}); n != 3 {
		t.Errorf("publishes with the API's delta flag: %d patches, want 3 (the base is the last whole one)", n)
	}
	if n := count("nodelta:a", PublishOptions{Delta: true}); n != 0 {
		t.Errorf("namespace without fossil: %d patches, want 0", n)
	}
	if code := tc.disconnectCode(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "delta:x", Delta: "xdelta"}}); code != 3501 {
		t.Errorf("unknown delta type: close %d, want 3501", code)
	}
}

// A node that had no subscriber on the channel while it was away saw none
// of the publications it recovers; the next live one must still be a
// patch, against the last recovered.
func TestDeltaAfterRecoveryOnAnEmptyNode(t *testing.T) {
	env := deltaEnv(t)
	ch := "delta:empty"
	tc := env.newClient(t, protocol.TypeProtobuf)
	tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}})
	res := tc.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Delta: "fossil", Recoverable: true}}).Subscribe
	tc.c.Disconnect(DisconnectForceNoReconnect)
	tc.tr.waitClosed(t)
	for i := 1; i <= 3; i++ {
		if _, err := env.node.Publish(t.Context(), ch, payloadN(i), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	back := env.newClient(t, protocol.TypeProtobuf)
	back.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}})
	rec := back.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Delta: "fossil", Recoverable: true, Recover: true, Epoch: res.Epoch, Offset: res.Offset}}).Subscribe
	r := &deltaReceiver{t: t, proto: protocol.TypeProtobuf}
	for _, p := range rec.Publications {
		r.take(p)
	}
	if _, err := env.node.Publish(t.Context(), ch, payloadN(4), PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	live := back.waitPush("live", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if !live.Delta {
		t.Fatal("first live publication after recovery on an empty node went whole")
	}
	if got := r.take(live); string(got) != string(payloadN(4)) {
		t.Fatalf("rebuilt %s", got)
	}
}

// BenchmarkDeltaWire publishes a live feed's document (40 quotes, one
// changing per publication) to a delta subscriber and a plain one, and
// reports the bytes each received per publication.
func BenchmarkDeltaWire(b *testing.B) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		b.Run(string(pt), func(b *testing.B) {
			env := deltaEnv(b)
			tb := testing.TB(b)
			withDelta := env.newClient(tb, pt)
			withDelta.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(tb, "a", 0, nil)}})
			withDelta.ok(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "delta:bench", Delta: "fossil"}})
			plain := env.newClient(tb, pt)
			plain.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(tb, "b", 0, nil)}})
			plain.ok(subCmd("delta:bench"))
			quotes := make([]byte, 0, 4096)
			b.ResetTimer()
			for i := range b.N {
				quotes = quotes[:0]
				quotes = append(quotes, `{"quotes":[`...)
				for k := range 40 {
					bid := 100 + k
					if k == i%40 {
						bid += i
					}
					quotes = fmt.Appendf(quotes, `{"sym":"S%d","bid":%d,"ask":%d,"vol":%d},`, k, bid, 101+k, 1000*k)
				}
				quotes = append(quotes[:len(quotes)-1], "]}"...)
				if _, err := env.node.Publish(context.Background(), "delta:bench", quotes, PublishOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			want := b.N
			withDelta.tr.waitUntil(b, "all publications", func() bool { return countPubs(withDelta.tr.replies) >= want })
			plain.tr.waitUntil(b, "all publications", func() bool { return countPubs(plain.tr.replies) >= want })
			b.ReportMetric(float64(frameBytes(withDelta.tr.allFrames()))/float64(want), "delta-B/pub")
			b.ReportMetric(float64(frameBytes(plain.tr.allFrames()))/float64(want), "plain-B/pub")
		})
	}
}

func countPubs(rs []*clientpb.Reply) int {
	n := 0
	for _, r := range rs {
		if r.Push != nil && r.Push.Pub != nil {
			n++
		}
	}
	return n
}

func frameBytes(frames [][]byte) int {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	return n
}
