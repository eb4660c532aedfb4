package memory

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

type nopHandler struct{}

func (nopHandler) HandlePublication(string, *engine.Publication, engine.StreamPosition) error {
	return nil
}
func (nopHandler) HandleJoin(string, *engine.ClientInfo) error  { return nil }
func (nopHandler) HandleLeave(string, *engine.ClientInfo) error { return nil }
func (nopHandler) HandleControl([]byte) error                   { return nil }

func newBenchEngine(b *testing.B) *Engine {
	b.Helper()
	e := New(Options{})
	b.Cleanup(func() { _ = e.Close(context.Background()) })
	if err := e.Run(nopHandler{}); err != nil {
		b.Fatal(err)
	}
	return e
}

func channelNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "bench:" + strconv.Itoa(i)
	}
	return out
}

// BenchmarkPublishHistoryParallel publishes with history to many
// subscribed channels from all procs, the node's hot path under load.
func BenchmarkPublishHistoryParallel(b *testing.B) {
	e := newBenchEngine(b)
	chans := channelNames(1024)
	for _, ch := range chans {
		if err := e.Subscribe(ch); err != nil {
			b.Fatal(err)
		}
	}
	opts := engine.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}
	data := []byte(`{"input":"hello world"}`)
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) * 7919
		for pb.Next() {
			i++
			if _, _, err := e.Publish(ctx, chans[i%uint64(len(chans))], data, opts); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPublishOneChannelParallel measures contention when every
// publisher targets the same channel.
func BenchmarkPublishOneChannelParallel(b *testing.B) {
	e := newBenchEngine(b)
	if err := e.Subscribe("hot"); err != nil {
		b.Fatal(err)
	}
	opts := engine.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}
	data := []byte(`{"input":"hello world"}`)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.Publish(ctx, "hot", data, opts); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHistory100 fetches a full 100-publication history, as a
// recovering client would.
func BenchmarkHistory100(b *testing.B) {
	e := newBenchEngine(b)
	ctx := context.Background()
	opts := engine.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}
	var sp engine.StreamPosition
	for range 150 {
		var err error
		if sp, _, err = e.Publish(ctx, "h", []byte("x"), opts); err != nil {
			b.Fatal(err)
		}
	}
	hopts := engine.HistoryOptions{Limit: 100, Since: &engine.StreamPosition{Offset: sp.Offset - 100, Epoch: sp.Epoch}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pubs, _, err := e.History(ctx, "h", hopts)
		if err != nil || len(pubs) != 100 {
			b.Fatalf("history: %d pubs, %v", len(pubs), err)
		}
	}
}

// BenchmarkAddPresenceParallel refreshes presence entries across many
// channels, as the node's periodic presence update does.
func BenchmarkAddPresenceParallel(b *testing.B) {
	e := newBenchEngine(b)
	chans := channelNames(1024)
	info := &engine.ClientInfo{User: "user", Client: "client"}
	ctx := context.Background()
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := next.Add(1)
		client := "client-" + strconv.FormatUint(w, 10)
		i := w * 7919
		for pb.Next() {
			i++
			if err := e.AddPresence(ctx, chans[i%uint64(len(chans))], client, info); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMapPublish writes 1000 keys of one subscribed persistent map in
// turn (a stream of 100 changes), the memory side of the map publish
// comparison with Redis (engine/redis BenchmarkMapPublish).
func BenchmarkMapPublish(b *testing.B) {
	e := newBenchEngine(b)
	const ch = "bench:map"
	if err := e.Subscribe(ch); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "seat-" + strconv.Itoa(i)
	}
	opts := engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{StreamSize: 100, StreamTTL: time.Minute}}
	data := []byte(`{"state":"reserved","user":"u1"}`)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.MapPublish(ctx, ch, keys[i%len(keys)], data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
