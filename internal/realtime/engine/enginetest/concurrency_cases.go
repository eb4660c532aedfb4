package enginetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

func testConcurrentPublish(t *testing.T, e *env) {
	c := e.ch("c")
	e.subscribe(t, c)
	const workers, each = 8, 50
	const total = workers * each

	var mu sync.Mutex
	var got []uint64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				sp, _, err := e.eng.Publish(e.ctx, c, fmt.Appendf(nil, "%d-%d", w, i), keep(total))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, sp.Offset)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent publish: %v", err)
	}
	slices.Sort(got)
	for i, off := range got {
		if off != uint64(i+1) {
			t.Fatalf("returned offsets are not unique and contiguous: position %d holds %d", i, off)
		}
	}
	waitFor(t, "all deliveries", func() bool { return e.rec.count(c) >= total })
	for i, r := range e.rec.publications(c) {
		if r.pub.Offset != uint64(i+1) {
			t.Fatalf("delivery %d has offset %d: handler did not see offset order", i, r.pub.Offset)
		}
	}
	pubs, _ := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != total {
		t.Errorf("history holds %d publications, want %d", len(pubs), total)
	}
}

// testPerChannelOrdering publishes a mix of publications, joins and leaves
// on several channels at once and checks that each channel's events reach
// the handler in the order they were published.
func testPerChannelOrdering(t *testing.T, e *env) {
	const channels, events = 6, 90
	names := make([]string, channels)
	for i := range names {
		names[i] = e.ch("c" + strconv.Itoa(i))
		e.subscribe(t, names[i])
	}
	kindOf := func(i int) recordKind {
		return []recordKind{recPublication, recJoin, recPublication, recLeave}[i%4]
	}
	var wg sync.WaitGroup
	errs := make(chan error, channels)
	for _, ch := range names {
		wg.Go(func() {
			for i := range events {
				seq := strconv.Itoa(i)
				var err error
				switch kindOf(i) {
				case recPublication:
					opts := engine.PublishOptions{}
					if i%8 == 0 {
						opts = keep(10)
					}
					_, _, err = e.eng.Publish(e.ctx, ch, []byte(seq), opts)
				case recJoin:
					err = e.eng.PublishJoin(e.ctx, ch, &engine.ClientInfo{Client: seq})
				case recLeave:
					err = e.eng.PublishLeave(e.ctx, ch, &engine.ClientInfo{Client: seq})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("publish: %v", err)
	}
	for _, ch := range names {
		waitFor(t, "deliveries on "+ch, func() bool { return e.rec.count(ch) >= events })
		for i, r := range e.rec.of(ch) {
			seq := ""
			if r.kind == recPublication {
				seq = string(r.pub.Data)
			} else if r.info != nil {
				seq = r.info.Client
			}
			if r.kind != kindOf(i) || seq != strconv.Itoa(i) {
				t.Fatalf("%s: event %d is kind %d seq %q; want kind %d seq %d", ch, i, r.kind, seq, kindOf(i), i)
			}
		}
	}
}

// testReentrantHandler makes the handler call back into the engine, as the
// node does; an engine that delivers while holding its own locks
// deadlocks here.
func testReentrantHandler(t *testing.T, e *env) {
	c := e.ch("c")
	e.subscribe(t, c)
	hookErr := make(chan error, 1)
	e.rec.setOnPublication(func(channel string, pub *engine.Publication) {
		if channel != c || string(pub.Data) != "first" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		err := e.eng.AddPresence(ctx, channel, "cl", &engine.ClientInfo{User: "u", Client: "cl"})
		if err == nil {
			_, err = e.eng.Presence(ctx, channel)
		}
		if err == nil {
			_, err = e.eng.PresenceStats(ctx, channel)
		}
		if err == nil {
			_, _, err = e.eng.History(ctx, channel, engine.HistoryOptions{Limit: -1})
		}
		if err == nil {
			_, _, err = e.eng.Publish(ctx, channel, []byte("second"), keep(10))
		}
		hookErr <- err
	})

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = e.eng.Publish(e.ctx, c, []byte("first"), keep(10))
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("publish did not return: handler call-back into the engine deadlocked")
	}
	select {
	case err := <-hookErr:
		if err != nil {
			t.Fatalf("engine call from inside the handler: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("handler never received the publication")
	}
	waitFor(t, "the publication made from inside the handler", func() bool { return e.rec.count(c) >= 2 })
	got := e.rec.publications(c)
	if string(got[0].pub.Data) != "first" || string(got[1].pub.Data) != "second" || got[1].pub.Offset != 2 {
		t.Errorf("deliveries %q/%q offsets %d/%d; want first then second at offset 2",
			got[0].pub.Data, got[1].pub.Data, got[0].pub.Offset, got[1].pub.Offset)
	}
}

func testCloseTwice(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := e.eng.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := e.eng.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
