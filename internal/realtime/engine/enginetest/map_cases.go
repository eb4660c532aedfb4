package enginetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// RunMapContract checks a map broker against the contract as parallel
// subtests. newBroker must return a fresh broker whose Run has not been
// called and which removes expired keys within a second or two (key TTL
// expiry is delivered as removals); the suite calls Run. Brokers that are
// also an engine.Engine are closed when the subtest ends.
func RunMapContract(t *testing.T, newBroker func(t *testing.T) engine.MapBroker) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, e *mapEnv)
	}{
		{"StatePagesInKeyOrder", testMapStatePages},
		{"StreamOffsetsAndEpoch", testMapStreamOffsets},
		{"EphemeralHasNoOffsets", testMapEphemeral},
		{"Delivery", testMapDelivery},
		{"DeltaCarriesPreviousValue", testMapDeltaPrev},
		{"KeyModes", testMapKeyModes},
		{"Versions", testMapVersions},
		{"Idempotency", testMapIdempotency},
		{"Remove", testMapRemove},
		{"KeyTTLExpiry", testMapKeyTTL},
		{"RefreshTTLOnSuppress", testMapRefreshTTL},
		{"RevisionPages", testMapRevision},
		{"StreamTrimmed", testMapStreamTrimmed},
		{"StreamReadLimitReverse", testMapStreamLimit},
		{"ConcurrentWriters", testMapConcurrentWriters},
		{"StatsAndClear", testMapStatsClear},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, setupMap(t, newBroker))
		})
	}
}

// mapEnv is one subtest's map broker, recorder and channel prefix.
type mapEnv struct {
	b      engine.MapBroker
	rec    *recorder
	ctx    context.Context
	prefix string
}

func setupMap(t *testing.T, newBroker func(t *testing.T) engine.MapBroker) *mapEnv {
	t.Helper()
	b := newBroker(t)
	if b == nil {
		t.Fatal("newBroker returned nil")
	}
	if c, ok := b.(interface{ Close(context.Context) error }); ok {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			_ = c.Close(ctx)
		})
	}
	rec := newRecorder()
	if err := b.Run(rec); err != nil {
		t.Fatalf("run map broker: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
	t.Cleanup(cancel)
	return &mapEnv{b: b, rec: rec, ctx: ctx, prefix: fmt.Sprintf("mapcontract-%016x:", rand.Uint64())}
}

func (e *mapEnv) ch(name string) string { return e.prefix + name }

// Stream settings the cases use: a persistent map (stream, no key TTL), a
// recoverable one with a short key TTL, an ephemeral one.
var (
	persistentMap = engine.MapStreamOptions{StreamSize: 100, StreamTTL: time.Minute}
	ephemeralMap  = engine.MapStreamOptions{KeyTTL: time.Minute}
)

func (e *mapEnv) publish(t *testing.T, ch, key, data string, o engine.MapPublishOptions) engine.MapResult {
	t.Helper()
	res, err := e.b.MapPublish(e.ctx, ch, key, []byte(data), o)
	if err != nil {
		t.Fatalf("map publish %s/%s: %v", ch, key, err)
	}
	return res
}

func (e *mapEnv) state(t *testing.T, ch string, o engine.MapStateOptions) engine.MapState {
	t.Helper()
	st, err := e.b.MapState(e.ctx, ch, o)
	if err != nil {
		t.Fatalf("map state %s: %v", ch, err)
	}
	return st
}

func (e *mapEnv) stream(t *testing.T, ch string, o engine.MapReadOptions) ([]*engine.Publication, engine.StreamPosition) {
	t.Helper()
	pubs, pos, err := e.b.MapStream(e.ctx, ch, o)
	if err != nil {
		t.Fatalf("map stream %s: %v", ch, err)
	}
	return pubs, pos
}

func entryKeys(pubs []*engine.Publication) []string {
	out := make([]string, 0, len(pubs))
	for _, p := range pubs {
		out = append(out, p.Key)
	}
	return out
}

func testMapStatePages(t *testing.T, e *mapEnv) {
	ch := e.ch("pages")
	keys := []string{"k05", "k01", "k04", "k02", "k03"}
	for _, k := range keys {
		e.publish(t, ch, k, `{"v":"`+k+`"}`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	}
	first := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Limit: 2})
	if got := entryKeys(first.Entries); !slices.Equal(got, []string{"k01", "k02"}) || first.Cursor != "k02" {
		t.Fatalf("first page = %v cursor %q, want [k01 k02] cursor k02", got, first.Cursor)
	}
	if first.Position.Offset != 5 || first.Position.Epoch == "" {
		t.Fatalf("first page position = %+v, want offset 5 and an epoch", first.Position)
	}
	if string(first.Entries[0].Data) != `{"v":"k01"}` || first.Entries[0].Offset != 2 {
		t.Fatalf("entry k01 = %q offset %d, want its data at offset 2", first.Entries[0].Data, first.Entries[0].Offset)
	}
	second := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Limit: 2, Cursor: first.Cursor, Revision: &first.Position})
	third := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Limit: 2, Cursor: second.Cursor, Revision: &first.Position})
	if got := entryKeys(second.Entries); !slices.Equal(got, []string{"k03", "k04"}) || second.Cursor != "k04" {
		t.Fatalf("second page = %v cursor %q", got, second.Cursor)
	}
	if got := entryKeys(third.Entries); !slices.Equal(got, []string{"k05"}) || third.Cursor != "" {
		t.Fatalf("last page = %v cursor %q, want [k05] and no cursor", got, third.Cursor)
	}
	if third.Position != first.Position {
		t.Fatalf("later page position %+v, want the frozen %+v", third.Position, first.Position)
	}
	all := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if len(all.Entries) != 5 || all.Cursor != "" {
		t.Fatalf("unlimited state = %d entries cursor %q", len(all.Entries), all.Cursor)
	}
	one := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Key: "k04"})
	if got := entryKeys(one.Entries); !slices.Equal(got, []string{"k04"}) {
		t.Fatalf("single-key read = %v", got)
	}
}

func testMapStreamOffsets(t *testing.T, e *mapEnv) {
	ch := e.ch("stream")
	var epoch string
	for i := 1; i <= 3; i++ {
		res := e.publish(t, ch, fmt.Sprintf("k%d", i), `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
		if res.Suppressed || res.Position.Offset != uint64(i) {
			t.Fatalf("publish %d = %+v, want offset %d", i, res, i)
		}
		if epoch == "" {
			epoch = res.Position.Epoch
		} else if res.Position.Epoch != epoch {
			t.Fatalf("epoch changed from %q to %q", epoch, res.Position.Epoch)
		}
	}
	pubs, pos := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &engine.StreamPosition{Offset: 1, Epoch: epoch}})
	if got := offsets(pubs); !slices.Equal(got, []uint64{2, 3}) || pos.Offset != 3 || pos.Epoch != epoch {
		t.Fatalf("stream since 1 = %v at %+v, want [2 3] at 3", got, pos)
	}
	if got := entryKeys(pubs); !slices.Equal(got, []string{"k2", "k3"}) {
		t.Fatalf("stream keys = %v", got)
	}
	pubs, _ = e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &engine.StreamPosition{Offset: 3, Epoch: epoch}})
	if len(pubs) != 0 {
		t.Fatalf("stream since top = %v, want nothing", offsets(pubs))
	}
	_, _, err := e.b.MapStream(e.ctx, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &engine.StreamPosition{Offset: 1, Epoch: "other"}})
	if !errors.Is(err, engine.ErrUnrecoverablePosition) {
		t.Fatalf("stream with another epoch: err = %v, want ErrUnrecoverablePosition", err)
	}
	// Reading an unknown map creates it; its epoch then stays.
	fresh := e.ch("fresh")
	_, p1 := e.stream(t, fresh, engine.MapReadOptions{MapStreamOptions: persistentMap})
	st := e.state(t, fresh, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if p1.Epoch == "" || st.Position.Epoch != p1.Epoch || p1.Offset != 0 {
		t.Fatalf("fresh map positions %+v then %+v, want one epoch at offset 0", p1, st.Position)
	}
}

func testMapEphemeral(t *testing.T, e *mapEnv) {
	ch := e.ch("eph")
	res := e.publish(t, ch, "a", `1`, engine.MapPublishOptions{MapStreamOptions: ephemeralMap})
	if res.Position.Offset != 0 {
		t.Fatalf("ephemeral publish offset = %d, want 0", res.Position.Offset)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: ephemeralMap})
	if len(st.Entries) != 1 || st.Entries[0].Offset != 0 || string(st.Entries[0].Data) != "1" {
		t.Fatalf("ephemeral state = %+v", st.Entries)
	}
}

func testMapDelivery(t *testing.T, e *mapEnv) {
	ch := e.ch("deliver")
	if err := e.b.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	info := &engine.ClientInfo{User: "u", Client: "c"}
	e.publish(t, ch, "seat-1", `{"taken":true}`, engine.MapPublishOptions{MapStreamOptions: persistentMap, Info: info, Tags: map[string]string{"row": "A"}})
	if _, err := e.b.MapRemove(e.ctx, ch, "seat-1", engine.MapRemoveOptions{MapStreamOptions: persistentMap}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two map publications", func() bool { return len(e.rec.publications(ch)) == 2 })
	got := e.rec.publications(ch)
	p := got[0].pub
	if p.Key != "seat-1" || p.Removed || string(p.Data) != `{"taken":true}` || p.Offset != 1 || p.Tags["row"] != "A" || p.Info == nil || p.Info.User != "u" || p.Time == 0 {
		t.Fatalf("delivered write = %+v", p)
	}
	if got[0].sp.Offset != 1 || got[0].sp.Epoch == "" {
		t.Fatalf("delivered position = %+v", got[0].sp)
	}
	r := got[1].pub
	if r.Key != "seat-1" || !r.Removed || len(r.Data) != 0 || r.Offset != 2 {
		t.Fatalf("delivered removal = %+v", r)
	}
	if err := e.b.Unsubscribe(ch); err != nil {
		t.Fatal(err)
	}
	e.publish(t, ch, "seat-2", `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	time.Sleep(quietPeriod)
	if n := len(e.rec.publications(ch)); n != 2 {
		t.Fatalf("%d publications after unsubscribe, want 2", n)
	}
}

func testMapDeltaPrev(t *testing.T, e *mapEnv) {
	ch := e.ch("delta")
	if err := e.b.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	o := engine.MapPublishOptions{MapStreamOptions: persistentMap, Delta: true}
	e.publish(t, ch, "k", `{"v":1}`, o)
	e.publish(t, ch, "k", `{"v":2}`, o)
	e.publish(t, ch, "other", `{"v":3}`, o)
	waitFor(t, "three publications", func() bool { return len(e.rec.publications(ch)) == 3 })
	got := e.rec.publications(ch)
	if got[0].pub.PrevData != nil || string(got[1].pub.PrevData) != `{"v":1}` || got[2].pub.PrevData != nil {
		t.Fatalf("prev data = %q, %q, %q; want none, the key's previous value, none", got[0].pub.PrevData, got[1].pub.PrevData, got[2].pub.PrevData)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Key: "k"})
	if len(st.Entries) != 1 || st.Entries[0].PrevData != nil {
		t.Fatalf("stored entry keeps its base: %+v", st.Entries)
	}
}

func testMapKeyModes(t *testing.T, e *mapEnv) {
	ch := e.ch("modes")
	o := engine.MapPublishOptions{MapStreamOptions: persistentMap, KeyMode: engine.KeyModeIfExists}
	if r := e.publish(t, ch, "k", `1`, o); !r.Suppressed || r.SuppressReason != engine.SuppressKeyNotFound {
		t.Fatalf("if_exists on a missing key = %+v", r)
	}
	o.KeyMode = engine.KeyModeIfNew
	if r := e.publish(t, ch, "k", `1`, o); r.Suppressed || r.Position.Offset != 1 {
		t.Fatalf("if_new on a missing key = %+v", r)
	}
	if r := e.publish(t, ch, "k", `2`, o); !r.Suppressed || r.SuppressReason != engine.SuppressKeyExists || r.Position.Offset != 1 {
		t.Fatalf("if_new on a present key = %+v", r)
	}
	o.KeyMode = engine.KeyModeIfExists
	if r := e.publish(t, ch, "k", `3`, o); r.Suppressed || r.Position.Offset != 2 {
		t.Fatalf("if_exists on a present key = %+v", r)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Key: "k"})
	if len(st.Entries) != 1 || string(st.Entries[0].Data) != "3" {
		t.Fatalf("value after key modes = %+v", st.Entries)
	}
}

func testMapVersions(t *testing.T, e *mapEnv) {
	ch := e.ch("versions")
	o := engine.MapPublishOptions{MapStreamOptions: persistentMap, Version: 5, VersionEpoch: "a"}
	if r := e.publish(t, ch, "k", `5`, o); r.Suppressed {
		t.Fatalf("first versioned write suppressed: %+v", r)
	}
	for _, v := range []uint64{5, 4} {
		o.Version = v
		if r := e.publish(t, ch, "k", `old`, o); !r.Suppressed || r.SuppressReason != engine.SuppressVersion {
			t.Fatalf("version %d after 5 = %+v, want suppressed by version", v, r)
		}
	}
	o.Version = 6
	if r := e.publish(t, ch, "k", `6`, o); r.Suppressed {
		t.Fatalf("newer version suppressed: %+v", r)
	}
	o.Version, o.VersionEpoch = 1, "b"
	if r := e.publish(t, ch, "k", `b1`, o); r.Suppressed {
		t.Fatalf("version of a new version epoch suppressed: %+v", r)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Key: "k"})
	if string(st.Entries[0].Data) != "b1" {
		t.Fatalf("value = %q, want b1", st.Entries[0].Data)
	}
}

func testMapIdempotency(t *testing.T, e *mapEnv) {
	ch := e.ch("idem")
	if err := e.b.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	o := engine.MapPublishOptions{MapStreamOptions: persistentMap, IdempotencyKey: "op-1"}
	first := e.publish(t, ch, "k", `1`, o)
	again := e.publish(t, ch, "k", `2`, o)
	if first.Suppressed || !again.Suppressed || again.SuppressReason != engine.SuppressIdempotency || again.Position != first.Position {
		t.Fatalf("first %+v, repeat %+v; want the repeat suppressed with the first position", first, again)
	}
	waitFor(t, "one publication", func() bool { return len(e.rec.publications(ch)) == 1 })
	time.Sleep(quietPeriod)
	if n := len(e.rec.publications(ch)); n != 1 {
		t.Fatalf("%d publications delivered, want 1", n)
	}
	ro := engine.MapRemoveOptions{MapStreamOptions: persistentMap, IdempotencyKey: "rm-1"}
	r1, err1 := e.b.MapRemove(e.ctx, ch, "k", ro)
	r2, err2 := e.b.MapRemove(e.ctx, ch, "k", ro)
	if err1 != nil || err2 != nil || r1.Suppressed || !r2.Suppressed || r2.SuppressReason != engine.SuppressIdempotency {
		t.Fatalf("removes = %+v %v, %+v %v", r1, err1, r2, err2)
	}
}

func testMapRemove(t *testing.T, e *mapEnv) {
	ch := e.ch("remove")
	e.publish(t, ch, "a", `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	e.publish(t, ch, "b", `2`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	r, err := e.b.MapRemove(e.ctx, ch, "a", engine.MapRemoveOptions{MapStreamOptions: persistentMap, Tags: map[string]string{"why": "sold"}})
	if err != nil || r.Suppressed || r.Position.Offset != 3 {
		t.Fatalf("remove = %+v %v, want offset 3", r, err)
	}
	r, err = e.b.MapRemove(e.ctx, ch, "a", engine.MapRemoveOptions{MapStreamOptions: persistentMap})
	if err != nil || !r.Suppressed || r.SuppressReason != engine.SuppressKeyNotFound {
		t.Fatalf("second remove = %+v %v, want key_not_found", r, err)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if got := entryKeys(st.Entries); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("state after remove = %v", got)
	}
	pubs, _ := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &engine.StreamPosition{Offset: 2, Epoch: st.Position.Epoch}})
	if len(pubs) != 1 || !pubs[0].Removed || pubs[0].Key != "a" || pubs[0].Tags["why"] != "sold" {
		t.Fatalf("stream after remove = %+v", pubs)
	}
}

func testMapKeyTTL(t *testing.T, e *mapEnv) {
	ch := e.ch("ttl")
	if err := e.b.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	recoverable := engine.MapStreamOptions{StreamSize: 10, StreamTTL: time.Minute, MetaTTL: time.Hour, KeyTTL: 300 * time.Millisecond}
	e.publish(t, ch, "short", `1`, engine.MapPublishOptions{MapStreamOptions: recoverable})
	waitFor(t, "the expiry removal", func() bool {
		for _, r := range e.rec.publications(ch) {
			if r.pub.Removed && r.pub.Key == "short" {
				return true
			}
		}
		return false
	})
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: recoverable})
	if len(st.Entries) != 0 {
		t.Fatalf("state after expiry = %v", entryKeys(st.Entries))
	}
	pubs, _ := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: recoverable})
	if got := offsets(pubs); !slices.Equal(got, []uint64{1, 2}) || !pubs[1].Removed {
		t.Fatalf("recoverable stream after expiry = %v, want the write and its removal", got)
	}
}

func testMapRefreshTTL(t *testing.T, e *mapEnv) {
	ch := e.ch("refresh")
	o := engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{KeyTTL: 600 * time.Millisecond}, KeyMode: engine.KeyModeIfNew, RefreshTTLOnSuppress: true}
	e.publish(t, ch, "c1", `1`, o)
	for i := 0; i < 4; i++ {
		time.Sleep(300 * time.Millisecond)
		if r := e.publish(t, ch, "c1", `1`, o); !r.Suppressed {
			t.Fatalf("refresh %d not suppressed: %+v", i, r)
		}
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: o.MapStreamOptions})
	if len(st.Entries) != 1 {
		t.Fatalf("refreshed key expired: state %v", entryKeys(st.Entries))
	}
}

func testMapRevision(t *testing.T, e *mapEnv) {
	ch := e.ch("revision")
	for _, k := range []string{"a", "b", "c"} {
		e.publish(t, ch, k, `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	}
	first := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Limit: 1})
	// c changes after the first page: the later page leaves it out, the
	// stream after the frozen position carries it.
	e.publish(t, ch, "c", `2`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	rest := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Cursor: first.Cursor, Revision: &first.Position})
	if got := entryKeys(rest.Entries); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("page after a change = %v, want [b]", got)
	}
	pubs, _ := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &first.Position})
	if len(pubs) != 1 || pubs[0].Key != "c" || string(pubs[0].Data) != "2" {
		t.Fatalf("catch-up = %+v", pubs)
	}
	_, err := e.b.MapState(e.ctx, ch, engine.MapStateOptions{MapStreamOptions: persistentMap, Cursor: "a", Revision: &engine.StreamPosition{Offset: 3, Epoch: "gone"}})
	if !errors.Is(err, engine.ErrUnrecoverablePosition) {
		t.Fatalf("page of another epoch: err = %v", err)
	}
}

func testMapStreamTrimmed(t *testing.T, e *mapEnv) {
	ch := e.ch("trim")
	small := engine.MapStreamOptions{StreamSize: 2, StreamTTL: time.Minute}
	var epoch string
	for i := 0; i < 5; i++ {
		epoch = e.publish(t, ch, fmt.Sprintf("k%d", i), `1`, engine.MapPublishOptions{MapStreamOptions: small}).Position.Epoch
	}
	_, _, err := e.b.MapStream(e.ctx, ch, engine.MapReadOptions{MapStreamOptions: small, Since: &engine.StreamPosition{Offset: 1, Epoch: epoch}})
	if !errors.Is(err, engine.ErrUnrecoverablePosition) {
		t.Fatalf("read past the trimmed stream: err = %v, want ErrUnrecoverablePosition", err)
	}
	pubs, _ := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: small, Since: &engine.StreamPosition{Offset: 3, Epoch: epoch}})
	if got := offsets(pubs); !slices.Equal(got, []uint64{4, 5}) {
		t.Fatalf("read of what is kept = %v", got)
	}
}

func testMapStreamLimit(t *testing.T, e *mapEnv) {
	ch := e.ch("limit")
	for i := 0; i < 5; i++ {
		e.publish(t, ch, fmt.Sprintf("k%d", i), `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	}
	pubs, pos := e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Since: &engine.StreamPosition{Offset: 1}, Limit: 2})
	if got := offsets(pubs); !slices.Equal(got, []uint64{2, 3}) || pos.Offset != 5 {
		t.Fatalf("limited read = %v at %d", got, pos.Offset)
	}
	pubs, _ = e.stream(t, ch, engine.MapReadOptions{MapStreamOptions: persistentMap, Reverse: true, Limit: 2})
	if got := offsets(pubs); !slices.Equal(got, []uint64{5, 4}) {
		t.Fatalf("reverse read = %v", got)
	}
}

func testMapConcurrentWriters(t *testing.T, e *mapEnv) {
	ch := e.ch("concurrent")
	if err := e.b.Subscribe(ch); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("k%d", i%5)
				if _, err := e.b.MapPublish(e.ctx, ch, key, []byte(fmt.Sprintf(`"%d-%d"`, w, i)), engine.MapPublishOptions{MapStreamOptions: engine.MapStreamOptions{StreamSize: 1000, StreamTTL: time.Minute}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	const total = writers * each
	waitFor(t, "every publication", func() bool { return len(e.rec.publications(ch)) == total })
	got := e.rec.publications(ch)
	last := map[string]string{}
	for i, r := range got {
		if r.pub.Offset != uint64(i+1) {
			t.Fatalf("delivery %d has offset %d: offsets must arrive in order without gaps", i, r.pub.Offset)
		}
		last[r.pub.Key] = string(r.pub.Data)
	}
	st := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if len(st.Entries) != 5 || st.Position.Offset != total {
		t.Fatalf("state has %d keys at %d, want 5 at %d", len(st.Entries), st.Position.Offset, total)
	}
	for _, en := range st.Entries {
		if last[en.Key] != string(en.Data) {
			t.Fatalf("key %s holds %s, but the last delivered write was %s", en.Key, en.Data, last[en.Key])
		}
	}
}

func testMapStatsClear(t *testing.T, e *mapEnv) {
	ch := e.ch("stats")
	for _, k := range []string{"a", "b", "c"} {
		e.publish(t, ch, k, `1`, engine.MapPublishOptions{MapStreamOptions: persistentMap})
	}
	n, err := e.b.MapStats(e.ctx, ch)
	if err != nil || n != 3 {
		t.Fatalf("stats = %d %v, want 3", n, err)
	}
	before := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if err := e.b.MapClear(e.ctx, ch); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.b.MapStats(e.ctx, ch); n != 0 {
		t.Fatalf("stats after clear = %d", n)
	}
	after := e.state(t, ch, engine.MapStateOptions{MapStreamOptions: persistentMap})
	if len(after.Entries) != 0 || after.Position.Epoch == before.Position.Epoch || after.Position.Offset != 0 {
		t.Fatalf("after clear: %d entries at %+v (before %+v); want none, a new epoch, offset 0", len(after.Entries), after.Position, before.Position)
	}
}
