package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testredis"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// mapEvents records the map publications an engine delivered, with their
// positions, for the multi-node tests.
type mapEvents struct {
	nopHandler
	mu   sync.Mutex
	pubs map[string][]delivered
}

type delivered struct {
	pub *engine.Publication
	sp  engine.StreamPosition
}

func newMapEvents() *mapEvents { return &mapEvents{pubs: map[string][]delivered{}} }

func (r *mapEvents) HandlePublication(ch string, pub *engine.Publication, sp engine.StreamPosition) error {
	r.mu.Lock()
	r.pubs[ch] = append(r.pubs[ch], delivered{pub, sp})
	r.mu.Unlock()
	return nil
}

func (r *mapEvents) of(ch string) []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.pubs[ch]...)
}

// mapNode starts an engine with its own map recorder, as one server
// process would.
func mapNode(t *testing.T, o Options) (*Engine, *mapEvents) {
	t.Helper()
	e := newTestEngine(t, o)
	rec := newMapEvents()
	if err := e.Run(rec); err != nil {
		t.Fatalf("run: %v", err)
	}
	return e, rec
}

var persistent = engine.MapStreamOptions{StreamSize: 100, StreamTTL: time.Minute}

// TestMapTwoNodes runs two engines on one Redis, as two server processes:
// a map write through one reaches both with the same position, state read
// through the other sees it, and a key expiring while both run their
// cleanup loops is removed once.
func TestMapTwoNodes(t *testing.T) {
	srv := testredis.Start(t)
	prefix := testPrefix()
	fast := 50 * time.Millisecond
	a, recA := mapNode(t, Options{Addresses: []string{srv.Addr()}, Prefix: prefix, NodeID: "node-a", MapCleanupInterval: fast})
	b, recB := mapNode(t, Options{Addresses: []string{srv.Addr()}, Prefix: prefix, NodeID: "node-b", MapCleanupInterval: fast})
	ctx := context.Background()
	const ch = "seats"
	for _, e := range []*Engine{a, b} {
		if err := e.Subscribe(ch); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	}
	res, err := a.MapPublish(ctx, ch, "A1", []byte(`{"taken":true}`), engine.MapPublishOptions{
		MapStreamOptions: persistent, Info: &engine.ClientInfo{User: "u"}, Delta: true,
	})
	if err != nil || res.Suppressed || res.Position.Offset != 1 {
		t.Fatalf("publish = %+v, %v", res, err)
	}
	eventually(t, "the write on both nodes", func() bool { return len(recA.of(ch)) == 1 && len(recB.of(ch)) == 1 })
	for name, rec := range map[string]*mapEvents{"a": recA, "b": recB} {
		d := rec.of(ch)[0]
		if d.sp != res.Position || d.pub.Offset != 1 || d.pub.Key != "A1" || string(d.pub.Data) != `{"taken":true}` || !d.pub.Delta || d.pub.Info.User != "u" {
			t.Errorf("node %s got %+v at %+v, want the write at %+v", name, d.pub, d.sp, res.Position)
		}
	}
	st, err := b.MapState(ctx, ch, engine.MapStateOptions{MapStreamOptions: persistent})
	if err != nil || st.Position != res.Position || len(st.Entries) != 1 || string(st.Entries[0].Data) != `{"taken":true}` {
		t.Fatalf("state on node b = %+v, %v", st, err)
	}

	// A delta write through b carries the base to both nodes.
	if _, err := b.MapPublish(ctx, ch, "A1", []byte(`{"taken":false}`), engine.MapPublishOptions{MapStreamOptions: persistent, Delta: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second write on both nodes", func() bool { return len(recA.of(ch)) == 2 && len(recB.of(ch)) == 2 })
	for name, rec := range map[string]*mapEvents{"a": recA, "b": recB} {
		if d := rec.of(ch)[1]; string(d.pub.PrevData) != `{"taken":true}` || d.sp.Offset != 2 {
			t.Errorf("node %s got base %q at %+v", name, d.pub.PrevData, d.sp)
		}
	}

	// Both nodes clean up; the expiry is one removal with one offset.
	withTTL := persistent
	withTTL.KeyTTL = 100 * time.Millisecond
	if _, err := a.MapPublish(ctx, ch, "B2", []byte(`1`), engine.MapPublishOptions{MapStreamOptions: withTTL}); err != nil {
		t.Fatal(err)
	}
	removed := func(rec *mapEvents) int {
		n := 0
		for _, d := range rec.of(ch) {
			if d.pub.Removed && d.pub.Key == "B2" {
				n++
			}
		}
		return n
	}
	eventually(t, "the expiry on both nodes", func() bool { return removed(recA) == 1 && removed(recB) == 1 })
	time.Sleep(200 * time.Millisecond)
	if removed(recA) != 1 || removed(recB) != 1 {
		t.Fatalf("removals delivered: a %d, b %d; want one each", removed(recA), removed(recB))
	}
	pubs, top, err := b.MapStream(ctx, ch, engine.MapReadOptions{MapStreamOptions: persistent, Since: &engine.StreamPosition{Offset: 2, Epoch: res.Position.Epoch}})
	if err != nil || len(pubs) != 2 || !pubs[1].Removed || pubs[1].Offset != 4 || top.Offset != 4 {
		t.Fatalf("stream after expiry = %d changes at %+v, %v", len(pubs), top, err)
	}
}

// TestMapExpiryDefaults: with the default cleanup interval a key nobody
// touches again is removed within about a second, and afterwards the
// map leaves nothing behind but a meta that expires by itself.
func TestMapExpiryDefaults(t *testing.T) {
	srv := testredis.Start(t)
	prefix := testPrefix()
	e, rec := mapNode(t, Options{Addresses: []string{srv.Addr()}, Prefix: prefix})
	ctx := context.Background()
	const ch = "presence"
	if err := e.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	eph := engine.MapStreamOptions{KeyTTL: 200 * time.Millisecond}
	start := time.Now()
	if _, err := e.MapPublish(ctx, ch, "client-1", []byte(`{}`), engine.MapPublishOptions{MapStreamOptions: eph}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the expiry removal", func() bool {
		d := rec.of(ch)
		return len(d) == 2 && d[1].pub.Removed && d[1].pub.Key == "client-1"
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("expiry took %v, want about the interval", took)
	}
	if d := rec.of(ch)[1]; d.sp.Offset != 0 || d.pub.Time == 0 || len(d.pub.Data) != 0 {
		t.Errorf("ephemeral removal = %+v at %+v, want offset 0 and a time", d.pub, d.sp)
	}
	k := e.route(ch).keys
	for _, key := range []string{k.mapState(ch), k.mapOrder(ch), k.mapExpire(ch), k.mapStream(ch)} {
		if got, err := testredis.Command(srv.Addr(), "EXISTS", key); err != nil || got != ":0" {
			t.Errorf("%s after expiry: EXISTS = %s, %v", key, got, err)
		}
	}
	if got, _ := testredis.Command(srv.Addr(), "ZCARD", k.mapExpiring()); got != ":0" {
		t.Errorf("expiring index after expiry: ZCARD = %s, want :0", got)
	}
	ttl, err := testredis.Command(srv.Addr(), "PTTL", k.mapMeta(ch))
	if n, _ := strconv.Atoi(strings.TrimPrefix(ttl, ":")); err != nil || n <= 0 || n > int(mapIdleTTL.Milliseconds()) {
		t.Errorf("meta of an emptied ephemeral map: PTTL = %s, %v; want the idle lifetime", ttl, err)
	}
}

// TestMapScriptsReloaded: after SCRIPT FLUSH every map call, the
// MULTI-wrapped stream read and the cleanup's pipelined calls load their
// scripts again.
func TestMapScriptsReloaded(t *testing.T) {
	srv := testredis.Start(t)
	e, rec := mapNode(t, Options{Addresses: []string{srv.Addr()}, MapCleanupInterval: 50 * time.Millisecond})
	ctx := context.Background()
	flush := func() {
		t.Helper()
		if _, err := testredis.Command(srv.Addr(), "SCRIPT", "FLUSH"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Subscribe("m"); err != nil {
		t.Fatal(err)
	}
	flush()
	withTTL := persistent
	withTTL.KeyTTL = 100 * time.Millisecond
	res, err := e.MapPublish(ctx, "m", "k", []byte("1"), engine.MapPublishOptions{MapStreamOptions: withTTL})
	if err != nil || res.Position.Offset != 1 {
		t.Fatalf("publish after SCRIPT FLUSH = %+v, %v", res, err)
	}
	flush()
	pubs, _, err := e.MapStream(ctx, "m", engine.MapReadOptions{MapStreamOptions: persistent, Since: &engine.StreamPosition{Epoch: res.Position.Epoch}})
	if err != nil || len(pubs) != 1 {
		t.Fatalf("stream after SCRIPT FLUSH = %d changes, %v", len(pubs), err)
	}
	flush()
	eventually(t, "the expiry after SCRIPT FLUSH", func() bool { return len(rec.of("m")) == 2 })
	flush()
	if st, err := e.MapState(ctx, "m", engine.MapStateOptions{MapStreamOptions: persistent}); err != nil || len(st.Entries) != 0 || st.Position.Offset != 2 {
		t.Fatalf("state after SCRIPT FLUSH = %+v, %v", st, err)
	}
	flush()
	if n, err := e.MapStats(ctx, "m"); err != nil || n != 0 {
		t.Fatalf("stats after SCRIPT FLUSH = %d, %v", n, err)
	}
	flush()
	if err := e.MapClear(ctx, "m"); err != nil {
		t.Fatalf("clear after SCRIPT FLUSH: %v", err)
	}
}

// TestMapLazyExpiry: a write or read of a map applies its due expiries
// first (as removals) even before the cleanup loop gets to them, so
// if_new sees an expired key as gone.
func TestMapLazyExpiry(t *testing.T) {
	srv := testredis.Start(t)
	e, rec := mapNode(t, Options{Addresses: []string{srv.Addr()}, MapCleanupInterval: time.Hour})
	ctx := context.Background()
	if err := e.Subscribe("m"); err != nil {
		t.Fatal(err)
	}
	o := engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{StreamSize: 10, StreamTTL: time.Minute, KeyTTL: 50 * time.Millisecond}, KeyMode: engine.KeyModeIfNew}
	if r, err := e.MapPublish(ctx, "m", "k", []byte("1"), o); err != nil || r.Suppressed {
		t.Fatalf("first write = %+v, %v", r, err)
	}
	if n, err := e.MapStats(ctx, "m"); err != nil || n != 1 {
		t.Fatalf("stats = %d, %v; want 1", n, err)
	}
	time.Sleep(100 * time.Millisecond)
	if n, err := e.MapStats(ctx, "m"); err != nil || n != 0 {
		t.Fatalf("stats of an expired key = %d, %v; want 0", n, err)
	}
	r, err := e.MapPublish(ctx, "m", "k", []byte("2"), o)
	if err != nil || r.Suppressed || r.Position.Offset != 3 {
		t.Fatalf("if_new after expiry = %+v, %v; want written at 3 after the removal at 2", r, err)
	}
	eventually(t, "write, removal, write", func() bool { return len(rec.of("m")) == 3 })
	if d := rec.of("m"); !d[1].pub.Removed || d[1].sp.Offset != 2 || d[2].pub.Removed {
		t.Fatalf("deliveries = %+v %+v %+v", d[0].pub, d[1].pub, d[2].pub)
	}
}

// TestMapRedisDown: map calls fail with ErrUnavailable while Redis is
// unreachable, like every other call.
func TestMapRedisDown(t *testing.T) {
	srv := testredis.Start(t)
	e, _ := mapNode(t, Options{Addresses: []string{srv.Addr()}, ConnectTimeout: 200 * time.Millisecond, IOTimeout: time.Second})
	ctx := context.Background()
	srv.Stop()
	calls := map[string]func() error{
		"publish": func() error {
			_, err := e.MapPublish(ctx, "m", "k", []byte("1"), engine.MapPublishOptions{MapStreamOptions: persistent})
			return err
		},
		"remove": func() error {
			_, err := e.MapRemove(ctx, "m", "k", engine.MapRemoveOptions{MapStreamOptions: persistent})
			return err
		},
		"state": func() error {
			_, err := e.MapState(ctx, "m", engine.MapStateOptions{MapStreamOptions: persistent})
			return err
		},
		"stream": func() error {
			_, _, err := e.MapStream(ctx, "m", engine.MapReadOptions{MapStreamOptions: persistent})
			return err
		},
		"stats": func() error { _, err := e.MapStats(ctx, "m"); return err },
		"clear": func() error { return e.MapClear(ctx, "m") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, engine.ErrUnavailable) {
			t.Errorf("map %s with Redis down: %v, want ErrUnavailable", name, err)
		}
	}
}

// TestMapBadInput: input the scripts cannot represent is refused with an
// error, not sent.
func TestMapBadInput(t *testing.T) {
	srv := testredis.Start(t)
	e, _ := mapNode(t, Options{Addresses: []string{srv.Addr()}})
	ctx := context.Background()
	if _, err := e.MapPublish(ctx, "m", "", []byte("1"), engine.MapPublishOptions{}); !errors.Is(err, errEmptyKey) {
		t.Errorf("publish with an empty key: %v", err)
	}
	if _, err := e.MapRemove(ctx, "m", "", engine.MapRemoveOptions{}); !errors.Is(err, errEmptyKey) {
		t.Errorf("remove with an empty key: %v", err)
	}
	if _, err := e.MapPublish(ctx, "m", "k", []byte("1"), engine.MapPublishOptions{KeyMode: 9}); err == nil {
		t.Error("publish with an unknown key mode succeeded")
	}
}

// TestMapExpiryBacklog: more due keys and maps than one batch holds are
// all removed in the same tick's further rounds, each once.
func TestMapExpiryBacklog(t *testing.T) {
	srv := testredis.Start(t)
	e, rec := mapNode(t, Options{Addresses: []string{srv.Addr()}, MapCleanupInterval: 300 * time.Millisecond, MapCleanupBatchSize: 10})
	ctx := context.Background()
	o := engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{StreamSize: 100, StreamTTL: time.Minute, KeyTTL: 50 * time.Millisecond}}
	chans := []string{"big"}
	for i := range 25 {
		chans = append(chans, "small-"+strconv.Itoa(i))
	}
	for _, ch := range chans {
		if err := e.Subscribe(ch); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 35 {
		if _, err := e.MapPublish(ctx, "big", "k"+strconv.Itoa(i), []byte("1"), o); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans[1:] {
		if _, err := e.MapPublish(ctx, ch, "only", []byte("1"), o); err != nil {
			t.Fatal(err)
		}
	}
	removals := func(ch string) int {
		n := 0
		for _, d := range rec.of(ch) {
			if d.pub.Removed {
				n++
			}
		}
		return n
	}
	eventually(t, "every expiry", func() bool {
		if removals("big") != 35 {
			return false
		}
		for _, ch := range chans[1:] {
			if removals(ch) != 1 {
				return false
			}
		}
		return true
	})
	time.Sleep(400 * time.Millisecond)
	if n := removals("big"); n != 35 {
		t.Fatalf("%d removals in the big map, want 35", n)
	}
	if d := rec.of("big"); d[len(d)-1].sp.Offset != 70 {
		t.Fatalf("last removal at offset %d, want 70", d[len(d)-1].sp.Offset)
	}
}
