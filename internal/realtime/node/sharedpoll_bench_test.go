package node

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// BenchmarkSharedPollRefresh is one refresh of a shared-poll channel with
// 1,000 subscribers tracking the same 100 items, every item changed since
// the last refresh: the backend calls it makes (one batch: 100 keys) and
// the bytes it queues for the subscribers (100 pushes each). With the
// default 10 s interval that is the cost every 10 s; per second divide.
func BenchmarkSharedPollRefresh(b *testing.B) {
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		name := map[protocol.Type]string{protocol.TypeJSON: "json", protocol.TypeProtobuf: "protobuf"}[pt]
		b.Run(name, func(b *testing.B) { benchSharedPoll(b, pt) })
	}
}

func benchSharedPoll(b *testing.B, pt protocol.Type) {
	pbk := &pollBackend{fakeBackend: &fakeBackend{}}
	pp := &Proxy{Name: "poll", Endpoint: "fake://poll", Timeout: 5 * time.Second, Backend: pbk}
	e := newHubEnv(b, func(cfg *Config, _ *Proxy) {
		cfg.SharedPoll.HMACSecretKey = pollSecret
		cfg.Channel.Namespaces = append(cfg.Channel.Namespaces, Namespace{Name: "bench", ChannelOptions: ChannelOptions{
			SubscriptionType: "shared_poll", AllowSubscribeForClient: true,
			SharedPoll: SharedPollOptions{Proxy: pp, Mode: "versioned", RefreshInterval: time.Hour},
		}})
	})
	const subscribers, items = 1000, 100
	keys := make([]string, items)
	for i := range keys {
		keys[i] = "match-" + strconv.Itoa(i)
		pbk.set(keys[i], fmt.Sprintf(`{"home":%d,"away":0,"minute":1}`, i), 1)
	}
	clients := make([]*testClient, subscribers)
	for i := range clients {
		user := "u" + strconv.Itoa(i)
		tc := e.newClient(b, pt)
		tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(b, user, 0, nil)}})
		tc.ok(pollSub("bench:scores"))
		tc.ok(trackCmd(user, "bench:scores", time.Hour, keys...))
		clients[i] = tc
	}
	for _, tc := range clients {
		eventually(b, "the first values", func() bool { return len(tc.pollPubs("bench:scores")) == items })
		tc.tr.mu.Lock()
		tc.tr.raw = true
		tc.tr.mu.Unlock()
	}
	pc := e.node.existingPollChannel("bench:scores")
	frameBytes := func() int {
		n := 0
		for _, tc := range clients {
			for _, f := range tc.tr.allFrames() {
				n += len(f)
			}
		}
		return n
	}
	start, calls := frameBytes(), pbk.numCalls()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, k := range keys {
			pbk.set(k, fmt.Sprintf(`{"home":%d,"away":%d,"minute":%d}`, j, i, i+2), uint64(i+2))
		}
		pc.pollAll()
	}
	b.StopTimer()
	// Let the writers flush what the last refresh queued: wait until the
	// byte count stops moving.
	for last := -1; ; time.Sleep(20 * time.Millisecond) {
		n := frameBytes()
		if n == last {
			break
		}
		last = n
	}
	b.ReportMetric(float64(pbk.numCalls()-calls)/float64(b.N), "backend-calls/refresh")
	b.ReportMetric(float64(frameBytes()-start)/float64(b.N), "bytes-pushed/refresh")
}
