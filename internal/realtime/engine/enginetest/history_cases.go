package enginetest

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

func testHistoryOffsetsAndEpoch(t *testing.T, e *env) {
	c := e.ch("c")
	e.subscribe(t, c)
	var epoch string
	for i := uint64(1); i <= 3; i++ {
		sp, suppressed := e.publish(t, c, strconv.FormatUint(i, 10), keep(10))
		if suppressed || sp.Offset != i {
			t.Fatalf("publish %d = %+v suppressed=%v; want offset %d", i, sp, suppressed, i)
		}
		if sp.Epoch == "" {
			t.Fatalf("publish %d returned an empty epoch", i)
		}
		if epoch != "" && sp.Epoch != epoch {
			t.Fatalf("epoch changed from %q to %q within one stream", epoch, sp.Epoch)
		}
		epoch = sp.Epoch
	}
	waitFor(t, "3 deliveries", func() bool { return e.rec.count(c) == 3 })
	for i, r := range e.rec.publications(c) {
		want := engine.StreamPosition{Offset: uint64(i + 1), Epoch: epoch}
		if r.sp != want || r.pub.Offset != want.Offset {
			t.Errorf("delivery %d: position %+v pub offset %d; want %+v", i, r.sp, r.pub.Offset, want)
		}
	}
	pubs, top := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if top != (engine.StreamPosition{Offset: 3, Epoch: epoch}) {
		t.Errorf("history top %+v, want offset 3 epoch %q", top, epoch)
	}
	if got := offsets(pubs); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Errorf("history offsets %v, want [1 2 3]", got)
	}
}

func testHistoryFreshChannel(t *testing.T, e *env) {
	c := e.ch("c")
	pubs, top := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != 0 || top.Offset != 0 || top.Epoch == "" {
		t.Fatalf("fresh channel history = %d pubs, top %+v; want none, offset 0, an epoch", len(pubs), top)
	}
	_, again := e.history(t, c, engine.HistoryOptions{})
	if again != top {
		t.Fatalf("second history call top %+v, want the same %+v", again, top)
	}
	sp, _ := e.publish(t, c, "x", keep(10))
	if sp != (engine.StreamPosition{Offset: 1, Epoch: top.Epoch}) {
		t.Errorf("first publish %+v, want offset 1 in the epoch history reported (%q)", sp, top.Epoch)
	}
}

func testHistoryQueries(t *testing.T, e *env) {
	c := e.ch("c")
	var epoch string
	for i := 1; i <= 5; i++ {
		sp, _ := e.publish(t, c, strconv.Itoa(i), keep(10))
		epoch = sp.Epoch
	}
	at := func(off uint64) *engine.StreamPosition { return &engine.StreamPosition{Offset: off, Epoch: epoch} }
	cases := []struct {
		name string
		opts engine.HistoryOptions
		want []uint64
	}{
		{"limit 0 gives position only", engine.HistoryOptions{Limit: 0}, nil},
		{"limit -1 gives all", engine.HistoryOptions{Limit: -1}, []uint64{1, 2, 3, 4, 5}},
		{"limit 2 gives oldest two", engine.HistoryOptions{Limit: 2}, []uint64{1, 2}},
		{"limit above size gives all", engine.HistoryOptions{Limit: 100}, []uint64{1, 2, 3, 4, 5}},
		{"reverse all", engine.HistoryOptions{Limit: -1, Reverse: true}, []uint64{5, 4, 3, 2, 1}},
		{"reverse limit 2 gives newest two", engine.HistoryOptions{Limit: 2, Reverse: true}, []uint64{5, 4}},
		{"since 2", engine.HistoryOptions{Limit: -1, Since: at(2)}, []uint64{3, 4, 5}},
		{"since 2 limit 2", engine.HistoryOptions{Limit: 2, Since: at(2)}, []uint64{3, 4}},
		{"since 0", engine.HistoryOptions{Limit: -1, Since: at(0)}, []uint64{1, 2, 3, 4, 5}},
		{"since top", engine.HistoryOptions{Limit: -1, Since: at(5)}, nil},
		{"since past top", engine.HistoryOptions{Limit: -1, Since: at(9)}, nil},
		{"since with limit 0", engine.HistoryOptions{Limit: 0, Since: at(2)}, nil},
		{"since without epoch", engine.HistoryOptions{Limit: -1, Since: &engine.StreamPosition{Offset: 3}}, []uint64{4, 5}},
		{"reverse since 4", engine.HistoryOptions{Limit: -1, Reverse: true, Since: at(4)}, []uint64{3, 2, 1}},
		{"reverse since 4 limit 2", engine.HistoryOptions{Limit: 2, Reverse: true, Since: at(4)}, []uint64{3, 2}},
		{"reverse since 1", engine.HistoryOptions{Limit: -1, Reverse: true, Since: at(1)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pubs, top := e.history(t, c, tc.opts)
			if top != (engine.StreamPosition{Offset: 5, Epoch: epoch}) {
				t.Errorf("top %+v, want offset 5 epoch %q", top, epoch)
			}
			if got := offsets(pubs); !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("offsets %v, want %v", got, tc.want)
			}
			for _, p := range pubs {
				if string(p.Data) != strconv.FormatUint(p.Offset, 10) {
					t.Errorf("publication at offset %d carries %q", p.Offset, p.Data)
				}
			}
		})
	}
}

func testHistoryEpochMismatch(t *testing.T, e *env) {
	c := e.ch("c")
	e.publish(t, c, "1", keep(10))
	sp, _ := e.publish(t, c, "2", keep(10))
	for _, limit := range []int{-1, 0, 1} {
		pubs, top, err := e.eng.History(e.ctx, c, engine.HistoryOptions{
			Limit: limit,
			Since: &engine.StreamPosition{Offset: 1, Epoch: sp.Epoch + "-stale"},
		})
		if !errors.Is(err, engine.ErrUnrecoverablePosition) {
			t.Errorf("limit %d: error %v, want ErrUnrecoverablePosition", limit, err)
		}
		if len(pubs) != 0 {
			t.Errorf("limit %d: got %d publications with the error, want none", limit, len(pubs))
		}
		if top != sp {
			t.Errorf("limit %d: top %+v returned with the error, want current %+v", limit, top, sp)
		}
	}
}

func testHistorySizeTrim(t *testing.T, e *env) {
	c := e.ch("c")
	var sp engine.StreamPosition
	for i := 1; i <= 5; i++ {
		sp, _ = e.publish(t, c, strconv.Itoa(i), keep(3))
	}
	if sp.Offset != 5 {
		t.Fatalf("offset after 5 publishes = %d, want 5", sp.Offset)
	}
	pubs, top := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if got := offsets(pubs); !slices.Equal(got, []uint64{3, 4, 5}) || top != sp {
		t.Errorf("history %v top %+v; want [3 4 5] top %+v", got, top, sp)
	}
	// Asking since a trimmed offset returns what is left, so the caller
	// sees the gap.
	pubs, _ = e.history(t, c, engine.HistoryOptions{Limit: -1, Since: &engine.StreamPosition{Offset: 1, Epoch: sp.Epoch}})
	if got := offsets(pubs); !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Errorf("since trimmed offset 1: %v, want [3 4 5]", got)
	}
	// A smaller size on a later publish trims further.
	sp6, _ := e.publish(t, c, "6", keep(2))
	pubs, _ = e.history(t, c, engine.HistoryOptions{Limit: -1})
	if got := offsets(pubs); sp6.Offset != 6 || sp6.Epoch != sp.Epoch || !slices.Equal(got, []uint64{5, 6}) {
		t.Errorf("after size 2 publish: position %+v history %v; want offset 6 same epoch, [5 6]", sp6, got)
	}
}

func testHistoryTTLExpiry(t *testing.T, e *env) {
	c := e.ch("c")
	const ttl = 150 * time.Millisecond
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: ttl, HistoryMetaTTL: time.Minute}
	start := time.Now()
	e.publish(t, c, "1", opts)
	sp, _ := e.publish(t, c, "2", opts)
	pubs, _ := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if time.Since(start) < ttl && len(pubs) != 2 {
		t.Fatalf("history has %d publications before its TTL, want 2", len(pubs))
	}
	var top engine.StreamPosition
	waitFor(t, "history TTL expiry", func() bool {
		pubs, top = e.history(t, c, engine.HistoryOptions{Limit: -1})
		return len(pubs) == 0
	})
	if time.Since(start) < ttl {
		t.Errorf("publications gone after %v, before the TTL %v", time.Since(start), ttl)
	}
	if top != sp {
		t.Errorf("position after history expiry %+v, want it kept: %+v", top, sp)
	}
	next, _ := e.publish(t, c, "3", opts)
	if next.Offset != 3 || next.Epoch != sp.Epoch {
		t.Errorf("publish after expiry %+v, want offset 3 epoch %q", next, sp.Epoch)
	}
}

func testHistoryMetaTTLExpiry(t *testing.T, e *env) {
	c := e.ch("c")
	const metaTTL = 150 * time.Millisecond
	opts := engine.PublishOptions{HistorySize: 10, HistoryTTL: 100 * time.Millisecond, HistoryMetaTTL: metaTTL}
	start := time.Now()
	e.publish(t, c, "1", opts)
	sp, _ := e.publish(t, c, "2", opts)

	var top engine.StreamPosition
	waitFor(t, "meta TTL expiry", func() bool {
		_, top = e.history(t, c, engine.HistoryOptions{})
		if top.Epoch == sp.Epoch && top.Offset != sp.Offset {
			t.Fatalf("offset moved to %d in the same epoch without publishes", top.Offset)
		}
		return top.Epoch != sp.Epoch
	})
	if time.Since(start) < metaTTL {
		t.Errorf("stream forgotten after %v, before its meta TTL %v", time.Since(start), metaTTL)
	}
	if top.Offset != 0 || top.Epoch == "" {
		t.Errorf("new stream position %+v, want offset 0 and an epoch", top)
	}
	next, _ := e.publish(t, c, "3", keep(10))
	if next != (engine.StreamPosition{Offset: 1, Epoch: top.Epoch}) {
		t.Errorf("publish in the new stream %+v, want offset 1 epoch %q", next, top.Epoch)
	}
}

func testHistoryMetaTTLFromHistoryCall(t *testing.T, e *env) {
	c := e.ch("c")
	const metaTTL = 150 * time.Millisecond
	hopts := engine.HistoryOptions{MetaTTL: metaTTL}
	start := time.Now()
	_, first := e.history(t, c, hopts)
	var top engine.StreamPosition
	waitFor(t, "meta TTL of a stream created by History", func() bool {
		_, top = e.history(t, c, hopts)
		return top.Epoch != first.Epoch
	})
	if time.Since(start) < metaTTL {
		t.Errorf("stream forgotten after %v, before its meta TTL %v", time.Since(start), metaTTL)
	}
}

func testRemoveHistory(t *testing.T, e *env) {
	c := e.ch("c")
	for i := 1; i <= 3; i++ {
		e.publish(t, c, strconv.Itoa(i), keep(10))
	}
	_, before := e.history(t, c, engine.HistoryOptions{})
	if err := e.eng.RemoveHistory(e.ctx, c); err != nil {
		t.Fatalf("remove history: %v", err)
	}
	pubs, top := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != 0 || top != before {
		t.Errorf("after remove: %d pubs, top %+v; want none and position kept %+v", len(pubs), top, before)
	}
	sp, _ := e.publish(t, c, "4", keep(10))
	if sp.Offset != 4 || sp.Epoch != before.Epoch {
		t.Errorf("publish after remove %+v, want offset 4 epoch %q", sp, before.Epoch)
	}
	if err := e.eng.RemoveHistory(e.ctx, e.ch("never-used")); err != nil {
		t.Errorf("remove history of an unknown channel: %v", err)
	}
}

func testPublishWithoutHistoryKeepsStream(t *testing.T, e *env) {
	c := e.ch("c")
	sp, _ := e.publish(t, c, "1", keep(10))
	if got, _ := e.publish(t, c, "2", engine.PublishOptions{}); got != (engine.StreamPosition{}) {
		t.Errorf("publish without history returned %+v, want zero", got)
	}
	// Size without TTL (or TTL without size) means no history too.
	e.publish(t, c, "3", engine.PublishOptions{HistorySize: 10})
	e.publish(t, c, "4", engine.PublishOptions{HistoryTTL: time.Minute})
	pubs, top := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if top != sp || len(pubs) != 1 {
		t.Errorf("history %v top %+v; want only the first publication, top %+v", offsets(pubs), top, sp)
	}
}
