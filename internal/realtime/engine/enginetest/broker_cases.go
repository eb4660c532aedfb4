package enginetest

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

func testPublishWithoutHistory(t *testing.T, e *env) {
	sub, unsub := e.ch("sub"), e.ch("unsub")
	e.subscribe(t, sub)

	sp, suppressed := e.publish(t, unsub, "lost", engine.PublishOptions{})
	if sp != (engine.StreamPosition{}) || suppressed {
		t.Fatalf("publish without history to unsubscribed channel = %+v, %v; want zero position, not suppressed", sp, suppressed)
	}
	sp, suppressed = e.publish(t, sub, "hello", engine.PublishOptions{})
	if sp != (engine.StreamPosition{}) || suppressed {
		t.Fatalf("publish without history = %+v, %v; want zero position, not suppressed", sp, suppressed)
	}
	waitFor(t, "publication delivery", func() bool { return e.rec.count(sub) == 1 })
	time.Sleep(quietPeriod)

	got := e.rec.publications(sub)
	if len(got) != 1 {
		t.Fatalf("delivered %d publications to subscribed channel, want exactly 1", len(got))
	}
	if string(got[0].pub.Data) != "hello" || got[0].pub.Offset != 0 || got[0].sp != (engine.StreamPosition{}) {
		t.Errorf("delivered %q offset %d position %+v; want %q, offset 0, zero position",
			got[0].pub.Data, got[0].pub.Offset, got[0].sp, "hello")
	}
	if n := e.rec.count(unsub); n != 0 {
		t.Errorf("delivered %d events for an unsubscribed channel, want 0", n)
	}
}

func testUnsubscribe(t *testing.T, e *env) {
	c, sentinel := e.ch("c"), e.ch("sentinel")
	e.subscribe(t, c)
	e.publish(t, c, "before", engine.PublishOptions{})
	waitFor(t, "delivery before unsubscribe", func() bool { return e.rec.count(c) == 1 })

	if err := e.eng.Unsubscribe(c); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	e.publish(t, c, "after", engine.PublishOptions{})
	if err := e.eng.PublishJoin(e.ctx, c, &engine.ClientInfo{Client: "x"}); err != nil {
		t.Fatalf("publish join: %v", err)
	}
	e.subscribe(t, sentinel)
	e.publish(t, sentinel, "s", engine.PublishOptions{})
	waitFor(t, "sentinel delivery", func() bool { return e.rec.count(sentinel) == 1 })
	time.Sleep(quietPeriod)

	if got := e.rec.of(c); len(got) != 1 {
		t.Errorf("channel got %d events, want only the one published before unsubscribe", len(got))
	}
}

func testJoinLeave(t *testing.T, e *env) {
	c, other := e.ch("c"), e.ch("other")
	e.subscribe(t, c)
	join := &engine.ClientInfo{User: "u1", Client: "c1", ConnInfo: []byte(`{"a":1}`), ChanInfo: []byte(`{"b":2}`)}
	leave := &engine.ClientInfo{User: "u2", Client: "c2"}

	if err := e.eng.PublishJoin(e.ctx, other, join); err != nil {
		t.Fatalf("publish join to unsubscribed channel: %v", err)
	}
	if err := e.eng.PublishJoin(e.ctx, c, join); err != nil {
		t.Fatalf("publish join: %v", err)
	}
	if err := e.eng.PublishLeave(e.ctx, c, leave); err != nil {
		t.Fatalf("publish leave: %v", err)
	}
	waitFor(t, "join and leave delivery", func() bool { return e.rec.count(c) >= 2 })
	time.Sleep(quietPeriod)

	got := e.rec.of(c)
	if len(got) != 2 {
		t.Fatalf("got %d events, want join then leave", len(got))
	}
	if got[0].kind != recJoin || !sameInfo(got[0].info, join) {
		t.Errorf("first event = kind %d info %+v; want join with %+v", got[0].kind, got[0].info, join)
	}
	if got[1].kind != recLeave || !sameInfo(got[1].info, leave) {
		t.Errorf("second event = kind %d info %+v; want leave with %+v", got[1].kind, got[1].info, leave)
	}
	if n := e.rec.count(other); n != 0 {
		t.Errorf("unsubscribed channel got %d events, want 0", n)
	}
}

func testControl(t *testing.T, e *env) {
	for _, d := range []string{"c1", "c2", "c3"} {
		if err := e.eng.PublishControl(e.ctx, []byte(d), ""); err != nil {
			t.Fatalf("publish control: %v", err)
		}
	}
	waitFor(t, "control delivery", func() bool { return e.rec.count("") >= 3 })
	time.Sleep(quietPeriod)
	got := e.rec.of("")
	if len(got) != 3 {
		t.Fatalf("got %d control messages, want 3", len(got))
	}
	for i, want := range []string{"c1", "c2", "c3"} {
		if string(got[i].data) != want {
			t.Errorf("control message %d = %q, want %q", i, got[i].data, want)
		}
	}
}

func testDataIsCopied(t *testing.T, e *env) {
	c := e.ch("c")
	e.subscribe(t, c)
	buf := []byte("original")
	if _, _, err := e.eng.Publish(e.ctx, c, buf, keep(10)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	copy(buf, "XXXXXXXX")
	waitFor(t, "delivery", func() bool { return e.rec.count(c) == 1 })
	if got := e.rec.publications(c)[0].pub.Data; string(got) != "original" {
		t.Errorf("delivered data %q changed with the caller's buffer, want %q", got, "original")
	}
	pubs, _ := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != 1 || string(pubs[0].Data) != "original" {
		t.Errorf("history data changed with the caller's buffer: %v", pubs)
	}
}

func testPublicationFields(t *testing.T, e *env) {
	c := e.ch("c")
	e.subscribe(t, c)
	info := &engine.ClientInfo{User: "u", Client: "cl", ConnInfo: []byte(`{"c":1}`), ChanInfo: []byte(`{"h":2}`)}
	tags := map[string]string{"k": "v", "x": "y"}
	opts := keep(10)
	opts.Info = info
	opts.Tags = tags
	opts.Delta = true

	before := time.Now().UnixMilli()
	sp, _ := e.publish(t, c, `{"x":1}`, opts)
	after := time.Now().UnixMilli()
	waitFor(t, "delivery", func() bool { return e.rec.count(c) == 1 })

	check := func(where string, p *engine.Publication) {
		t.Helper()
		if string(p.Data) != `{"x":1}` {
			t.Errorf("%s: data %q", where, p.Data)
		}
		if p.Offset != sp.Offset {
			t.Errorf("%s: offset %d, publish returned %d", where, p.Offset, sp.Offset)
		}
		if !sameInfo(p.Info, info) {
			t.Errorf("%s: info %+v, want %+v", where, p.Info, info)
		}
		if !maps.Equal(p.Tags, tags) {
			t.Errorf("%s: tags %v, want %v", where, p.Tags, tags)
		}
		if !p.Delta {
			t.Errorf("%s: the publisher's delta flag was lost", where)
		}
		// Allow a second of clock skew for engines whose clock is remote.
		if p.Time < before-1000 || p.Time > after+1000 {
			t.Errorf("%s: time %d ms not around publish moment [%d, %d]", where, p.Time, before, after)
		}
	}
	check("delivered", e.rec.publications(c)[0].pub)
	pubs, _ := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != 1 {
		t.Fatalf("history has %d publications, want 1", len(pubs))
	}
	check("history", pubs[0])

	// Without info, tags and the delta flag all stay empty.
	e.publish(t, c, "plain", keep(10))
	pubs, _ = e.history(t, c, engine.HistoryOptions{Limit: -1})
	if len(pubs) != 2 || pubs[1].Info != nil || len(pubs[1].Tags) != 0 || pubs[1].Delta {
		t.Errorf("publication without info/tags came back as %+v", pubs[len(pubs)-1])
	}
}

func testIdempotency(t *testing.T, e *env) {
	c, plain := e.ch("c"), e.ch("plain")
	e.subscribe(t, c)
	e.subscribe(t, plain)

	opts := keep(10)
	opts.IdempotencyKey = "k1"
	sp1, suppressed := e.publish(t, c, "first", opts)
	if suppressed || sp1.Offset != 1 {
		t.Fatalf("first publish = %+v suppressed=%v; want offset 1, not suppressed", sp1, suppressed)
	}
	sp2, suppressed := e.publish(t, c, "second", opts)
	if !suppressed || sp2 != sp1 {
		t.Fatalf("repeat publish = %+v suppressed=%v; want %+v, suppressed", sp2, suppressed, sp1)
	}
	opts.IdempotencyKey = "k2"
	sp3, suppressed := e.publish(t, c, "third", opts)
	if suppressed || sp3.Offset != 2 || sp3.Epoch != sp1.Epoch {
		t.Fatalf("publish with another key = %+v suppressed=%v; want offset 2 same epoch", sp3, suppressed)
	}

	// Without history the key still prevents a second delivery.
	popts := engine.PublishOptions{IdempotencyKey: "k1"}
	if sp, suppressed := e.publish(t, plain, "p1", popts); suppressed || sp != (engine.StreamPosition{}) {
		t.Fatalf("first plain publish = %+v suppressed=%v", sp, suppressed)
	}
	if _, suppressed := e.publish(t, plain, "p2", popts); !suppressed {
		t.Fatal("repeat plain publish not suppressed")
	}

	waitFor(t, "deliveries", func() bool { return e.rec.count(c) >= 2 && e.rec.count(plain) >= 1 })
	time.Sleep(quietPeriod)
	var data []string
	for _, r := range e.rec.publications(c) {
		data = append(data, string(r.pub.Data))
	}
	if len(data) != 2 || data[0] != "first" || data[1] != "third" {
		t.Errorf("delivered %q, want [first third]", data)
	}
	if n := e.rec.count(plain); n != 1 {
		t.Errorf("plain channel delivered %d times, want 1", n)
	}
	pubs, _ := e.history(t, c, engine.HistoryOptions{Limit: -1})
	if got := offsets(pubs); len(got) != 2 || string(pubs[0].Data) != "first" {
		t.Errorf("history offsets %v first %q; want [1 2] starting with first", got, pubs[0].Data)
	}
}

func testIdempotencyExpiry(t *testing.T, e *env) {
	c := e.ch("c")
	const ttl = 100 * time.Millisecond
	opts := keep(10)
	opts.IdempotencyKey = "k"
	opts.IdempotentResultTTL = ttl

	start := time.Now()
	e.publish(t, c, "a", opts)
	_, suppressed := e.publish(t, c, "b", opts)
	if time.Since(start) < ttl && !suppressed {
		t.Fatal("repeat within the idempotent result TTL was not suppressed")
	}
	var sp engine.StreamPosition
	waitFor(t, "idempotency key to expire", func() bool {
		sp, suppressed = e.publish(t, c, "c", opts)
		return !suppressed
	})
	if time.Since(start) < ttl {
		t.Errorf("idempotency key forgotten after %v, before its TTL %v", time.Since(start), ttl)
	}
	if sp.Offset != 2 {
		t.Errorf("publish after key expiry got offset %d, want 2", sp.Offset)
	}
}

func sameInfo(a, b *engine.ClientInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.User == b.User && a.Client == b.Client &&
		bytes.Equal(a.ConnInfo, b.ConnInfo) && bytes.Equal(a.ChanInfo, b.ChanInfo)
}
