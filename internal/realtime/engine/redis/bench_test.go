package redis

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testredis"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
)

type nopHandler struct{}

func (nopHandler) HandlePublication(string, *engine.Publication, engine.StreamPosition) error {
	return nil
}
func (nopHandler) HandleJoin(string, *engine.ClientInfo) error  { return nil }
func (nopHandler) HandleLeave(string, *engine.ClientInfo) error { return nil }
func (nopHandler) HandleControl([]byte) error                   { return nil }

// benchEngines returns the memory engine and a Redis engine on a private
// server, both running, so one benchmark run compares them directly.
func benchEngines(b *testing.B) []struct {
	name string
	eng  engine.Engine
} {
	b.Helper()
	mem := memory.New(memory.Options{})
	b.Cleanup(func() { _ = mem.Close(context.Background()) })
	srv := testredis.Start(b)
	red := newTestEngine(b, Options{Addresses: []string{srv.Addr()}})
	out := []struct {
		name string
		eng  engine.Engine
	}{{"memory", mem}, {"redis", red}}
	for _, e := range out {
		if err := e.eng.Run(nopHandler{}); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkPublish publishes with history to 1024 subscribed channels from
// all procs: the node's hot path under load.
func BenchmarkPublish(b *testing.B) {
	chans := make([]string, 1024)
	for i := range chans {
		chans[i] = "bench:" + strconv.Itoa(i)
	}
	opts := engine.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}
	data := []byte(`{"input":"hello world"}`)
	for _, e := range benchEngines(b) {
		for _, ch := range chans {
			if err := e.eng.Subscribe(ch); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			var next atomic.Uint64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1) * 7919
				for pb.Next() {
					i++
					if _, _, err := e.eng.Publish(ctx, chans[i%uint64(len(chans))], data, opts); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHistory fetches 100 publications since a position, as a
// recovering client does.
func BenchmarkHistory(b *testing.B) {
	for _, e := range benchEngines(b) {
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			opts := engine.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}
			var sp engine.StreamPosition
			for range 150 {
				var err error
				if sp, _, err = e.eng.Publish(ctx, "h", []byte(`{"input":"hello world"}`), opts); err != nil {
					b.Fatal(err)
				}
			}
			hopts := engine.HistoryOptions{Limit: 100, Since: &engine.StreamPosition{Offset: sp.Offset - 100, Epoch: sp.Epoch}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				pubs, _, err := e.eng.History(ctx, "h", hopts)
				if err != nil || len(pubs) != 100 {
					b.Fatalf("history: %d pubs, %v", len(pubs), err)
				}
			}
		})
	}
}

// BenchmarkMapPublish writes a persistent map (stream of 100) of 1000
// keys from all procs, the channel subscribed: the map write's whole path
// (state, stream, delivery) on each engine.
func BenchmarkMapPublish(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "seat-" + strconv.Itoa(i)
	}
	opts := engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{StreamSize: 100, StreamTTL: time.Minute}}
	data := []byte(`{"taken":true,"by":"user-42"}`)
	const ch = "bench:map"
	for _, e := range benchEngines(b) {
		mb, ok := e.eng.(engine.MapBroker)
		if !ok {
			b.Fatalf("%s engine is not a map broker", e.name)
		}
		if err := mb.Subscribe(ch); err != nil {
			b.Fatal(err)
		}
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			var next atomic.Uint64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1) * 7919
				for pb.Next() {
					i++
					if _, err := mb.MapPublish(ctx, ch, keys[i%uint64(len(keys))], data, opts); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
