package node

import (
	"context"
	"fmt"
	"slices"

	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/fossil"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// mapNamespaces are the map namespaces of testConfig:
//
//	m        persistent map (stream of 1000), subscribe and write for users
//	eph      ephemeral map (no stream), key TTL 300 ms
//	rec      recoverable map, key TTL 300 ms
//	tiny     persistent map whose stream keeps 2 changes
//	ckey     key = the writer's client id; writes for subscribers; its
//	         key goes when the writer unsubscribes
//	tagged   persistent map with tags filters
//	mdelta   persistent map with fossil deltas on every write
//	slow     persistent map whose subscribe must finish in 100 ms
//	pres     a stream namespace whose subscribers are listed in the
//	         presence map "prescli:" + channel
//	prescli  map_clients presence maps
//	mproxied    persistent map, writes and removals decided by the backend
//	            (MapPublish / MapRemove), tags filters allowed
//	munproxied  map proxy switches on but no backend configured (108)
//	mpubproxy   writes decided by the backend, removals by
//	            allow_remove_for_client
func mapNamespaces(p *Proxy) []Namespace {
	userMap := func(mo MapOptions) ChannelOptions {
		return ChannelOptions{
			SubscriptionType: "map", Map: mo,
			AllowSubscribeForClient: true,
		}
	}
	writable := MapOptions{Mode: "persistent", StreamSize: 1000, AllowPublishForClient: true, AllowRemoveForClient: true}
	m := userMap(writable)
	eph := userMap(MapOptions{Mode: "ephemeral", KeyTTL: 300 * time.Millisecond, AllowPublishForClient: true})
	rec := userMap(MapOptions{Mode: "recoverable", KeyTTL: 300 * time.Millisecond})
	tiny := userMap(MapOptions{Mode: "persistent", StreamSize: 2})
	ckey := userMap(MapOptions{Mode: "persistent", ClientKey: "client_id", AllowPublishForSubscriber: true, RemoveClientOnUnsubscribe: true})
	tagged := userMap(writable)
	tagged.AllowTagsFilter = true
	mdelta := userMap(writable)
	mdelta.DeltaFossil, mdelta.DeltaPublish = true, true
	slow := userMap(MapOptions{Mode: "persistent", SubscribeCatchUpTimeout: 100 * time.Millisecond})
	prescli := ChannelOptions{SubscriptionType: "map_clients", Map: MapOptions{Mode: "ephemeral", KeyTTL: time.Minute}, AllowSubscribeForClient: true}
	// Map proxies (map_proxy_test.go): both writes decided by the
	// backend; the switches on without backends (108); only publishes
	// proxied, removals under allow_remove_for_client.
	mproxied := userMap(MapOptions{Mode: "persistent", StreamSize: 1000,
		PublishProxyEnabled: true, RemoveProxyEnabled: true, PublishProxy: p, RemoveProxy: p})
	mproxied.AllowTagsFilter = true
	munproxied := userMap(MapOptions{Mode: "persistent", PublishProxyEnabled: true, RemoveProxyEnabled: true})
	mpubproxy := userMap(MapOptions{Mode: "persistent", PublishProxyEnabled: true, PublishProxy: p, AllowRemoveForClient: true})
	return []Namespace{
		{Name: "m", ChannelOptions: m},
		{Name: "eph", ChannelOptions: eph},
		{Name: "rec", ChannelOptions: rec},
		{Name: "tiny", ChannelOptions: tiny},
		{Name: "ckey", ChannelOptions: ckey},
		{Name: "tagged", ChannelOptions: tagged},
		{Name: "mdelta", ChannelOptions: mdelta},
		{Name: "slow", ChannelOptions: slow},
		{Name: "pres", ChannelOptions: ChannelOptions{AllowSubscribeForClient: true, MapClientsPresenceChannelPrefix: "prescli:"}},
		{Name: "prescli", ChannelOptions: prescli},
		{Name: "presu", ChannelOptions: ChannelOptions{AllowSubscribeForClient: true, AllowSubscribeForAnonymous: true, MapUsersPresenceChannelPrefix: "presusers:"}},
		{Name: "presusers", ChannelOptions: ChannelOptions{SubscriptionType: "map_users", Map: MapOptions{Mode: "ephemeral", KeyTTL: time.Minute}, AllowSubscribeForClient: true}},
		{Name: "mproxied", ChannelOptions: mproxied},
		{Name: "munproxied", ChannelOptions: munproxied},
		{Name: "mpubproxy", ChannelOptions: mpubproxy},
	}
}

func mapSub(ch string, phase int32) *clientpb.SubscribeRequest {
	return &clientpb.SubscribeRequest{Channel: ch, Type: subTypeMap, Phase: phase}
}

func subOf(r *clientpb.SubscribeRequest) *clientpb.Command {
	return &clientpb.Command{Subscribe: r}
}

// seed writes keys through the server API.
func (e *hubEnv) seed(t testing.TB, ch string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := e.node.MapPublish(context.Background(), ch, k, []byte(`{"k":"`+k+`"}`), MapPublishOptions{}); err != nil {
			t.Fatalf("map publish %s %s: %v", ch, k, err)
		}
	}
}

func keyNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// mapSync is the client side of a paged map subscribe, as centrifuge-js
// runs it: state pages, stream pages, then LIVE. It returns every reply
// and the state it folds them into (key → data).
func (tc *testClient) mapSync(ch string, limit int32) ([]*clientpb.SubscribeResult, map[string]string) {
	tc.t.Helper()
	var replies []*clientpb.SubscribeResult
	state := map[string]string{}
	apply := func(pubs []*clientpb.Publication) {
		for _, p := range pubs {
			if p.Removed {
				delete(state, p.Key)
			} else {
				state[p.Key] = string(p.Data)
			}
		}
	}
	req := mapSub(ch, phaseState)
	req.Limit = limit
	var epoch string
	var offset uint64
	for i := 0; i < 100; i++ {
		res := tc.ok(subOf(req)).Subscribe
		replies = append(replies, res)
		apply(res.State)
		apply(res.Publications)
		if res.Phase == phaseLive {
			return replies, state
		}
		if epoch == "" {
			epoch = res.Epoch
		}
		offset = res.Offset
		next := mapSub(ch, res.Phase)
		next.Limit, next.Epoch, next.Offset = limit, epoch, offset
		if res.Phase == phaseState {
			if res.Cursor != "" {
				next.Cursor = res.Cursor
			} else {
				next.Phase = phaseStream
			}
		}
		req = next
	}
	tc.t.Fatal("map subscribe did not reach LIVE in 100 pages")
	return nil, nil
}

func TestMapSyncPagesAndLive(t *testing.T) {
	e := newHubEnv(t)
	keys := keyNames("seat-", 250)
	e.seed(t, "m:hall", keys...)
	tc := e.connectUser(t, "alice")
	replies, state := tc.mapSync("m:hall", 2) // below min_page_size: pages of 100
	if len(replies) != 3 {
		t.Fatalf("%d replies, want 3 (two pages with cursors, then LIVE with the last page)", len(replies))
	}
	for i, r := range replies[:2] {
		if r.Type != subTypeMap || r.Phase != phaseState || r.Cursor == "" || len(r.State) != 100 || r.Epoch == "" || r.Offset != 250 {
			t.Fatalf("page %d = type %d phase %d cursor %q %d entries at %d", i, r.Type, r.Phase, r.Cursor, len(r.State), r.Offset)
		}
	}
	live := replies[2]
	if live.Phase != phaseLive || !live.Recoverable || live.Offset != 250 || len(live.State) != 50 || live.Epoch != replies[0].Epoch {
		t.Fatalf("live reply = phase %d recoverable %v offset %d, %d entries", live.Phase, live.Recoverable, live.Offset, len(live.State))
	}
	var got []string
	for _, r := range replies {
		for _, p := range r.State {
			got = append(got, p.Key)
		}
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("state arrived as %d keys, not all 250 in key order", len(got))
	}
	if len(state) != 250 || state["seat-0007"] != `{"k":"seat-0007"}` {
		t.Fatalf("synced state has %d keys, seat-0007 = %q", len(state), state["seat-0007"])
	}
	e.seed(t, "m:hall", "seat-0001")
	push := tc.waitPush("the live change", func(p *clientpb.Push) bool { return p.Pub != nil })
	if push.Pub.Key != "seat-0001" || push.Pub.Offset != 251 || push.Channel != "m:hall" {
		t.Fatalf("live push = %+v", push.Pub)
	}
}

func TestMapChangesDuringSyncAreNotLost(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "m:race", keyNames("k", 250)...)
	tc := e.connectUser(t, "alice")
	first := tc.ok(subOf(mapSub("m:race", phaseState))).Subscribe
	// Changes after the first page: to a key already sent, to one still
	// to come, a removal and a new key.
	e.seed(t, "m:race", "k0000", "k0249", "knew")
	if _, err := e.node.MapRemove(context.Background(), "m:race", "k0150", ""); err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, p := range first.State {
		state[p.Key] = string(p.Data)
	}
	req := mapSub("m:race", phaseState)
	req.Cursor, req.Epoch, req.Offset = first.Cursor, first.Epoch, first.Offset
	var live *clientpb.SubscribeResult
	for live == nil {
		r := tc.ok(subOf(req)).Subscribe
		for _, p := range r.State {
			state[p.Key] = string(p.Data)
		}
		if r.Phase == phaseLive {
			live = r
			break
		}
		req.Cursor = r.Cursor
	}
	for _, p := range live.Publications {
		if p.Removed {
			delete(state, p.Key)
		} else {
			state[p.Key] = string(p.Data)
		}
	}
	truth, err := e.node.MapReadState(context.Background(), "m:race", MapReadStateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != len(truth.Entries) {
		t.Fatalf("client folded %d keys, the map has %d", len(state), len(truth.Entries))
	}
	for _, en := range truth.Entries {
		if state[en.Key] != string(en.Data) {
			t.Fatalf("key %s: client has %q, map has %q", en.Key, state[en.Key], en.Data)
		}
	}
	if live.Offset != 254 || len(live.Publications) != 4 {
		t.Fatalf("live reply at %d with %d catch-up changes, want 254 and 4", live.Offset, len(live.Publications))
	}
}

func TestMapStreamPhase(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "m:busy", keyNames("k", 150)...)
	tc := e.connectUser(t, "alice")
	first := tc.ok(subOf(mapSub("m:busy", phaseState))).Subscribe
	// 250 changes after the first page: more than a page behind, so the
	// client must page through the stream.
	for i := 0; i < 250; i++ {
		e.seed(t, "m:busy", fmt.Sprintf("k%04d", i%150))
	}
	req := mapSub("m:busy", phaseState)
	req.Cursor, req.Epoch, req.Offset = first.Cursor, first.Epoch, first.Offset
	last := tc.ok(subOf(req)).Subscribe
	if last.Phase != phaseState || last.Cursor != "" || last.Offset != 150 {
		t.Fatalf("last state page = phase %d cursor %q offset %d, want phase 2, no cursor, the frozen 150", last.Phase, last.Cursor, last.Offset)
	}
	sreq := mapSub("m:busy", phaseStream)
	sreq.Epoch, sreq.Offset = first.Epoch, 150
	page := tc.ok(subOf(sreq)).Subscribe
	if page.Phase != phaseStream || len(page.Publications) != 100 || page.Offset != 250 {
		t.Fatalf("stream page = phase %d, %d changes, offset %d; want 1, 100, 250", page.Phase, len(page.Publications), page.Offset)
	}
	sreq.Offset = page.Offset
	page = tc.ok(subOf(sreq)).Subscribe
	if page.Phase != phaseStream || page.Offset != 350 || page.Publications[0].Offset != 251 {
		t.Fatalf("second stream page = phase %d offset %d", page.Phase, page.Offset)
	}
	sreq.Offset = page.Offset
	live := tc.ok(subOf(sreq)).Subscribe
	if live.Phase != phaseLive || len(live.Publications) != 50 || live.Offset != 400 || live.WasRecovering {
		t.Fatalf("live = phase %d, %d changes, offset %d, was_recovering %v", live.Phase, len(live.Publications), live.Offset, live.WasRecovering)
	}
	if live.Publications[0].Offset != 351 {
		t.Fatalf("catch-up starts at %d, want 351", live.Publications[0].Offset)
	}
}

func TestMapRecoveryAfterReconnect(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "m:rc", "a", "b")
	tc := e.connectUser(t, "alice")
	replies, _ := tc.mapSync("m:rc", 0)
	pos := replies[len(replies)-1]
	tc.c.Disconnect(DisconnectConnectionClosed)
	e.seed(t, "m:rc", "a", "c")

	tc2 := e.connectUser(t, "alice")
	req := mapSub("m:rc", phaseStream)
	req.Recover, req.Epoch, req.Offset = true, pos.Epoch, pos.Offset
	live := tc2.ok(subOf(req)).Subscribe
	if live.Phase != phaseLive || !live.Recovered || !live.WasRecovering || live.Offset != 4 {
		t.Fatalf("recovery = phase %d recovered %v was_recovering %v offset %d", live.Phase, live.Recovered, live.WasRecovering, live.Offset)
	}
	var got []string
	for _, p := range live.Publications {
		got = append(got, fmt.Sprintf("%d:%s", p.Offset, p.Key))
	}
	if !slices.Equal(got, []string{"3:a", "4:c"}) {
		t.Fatalf("recovered %v, want exactly the two missed changes", got)
	}
	e.seed(t, "m:rc", "d")
	if p := tc2.waitPush("live after recovery", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub; p.Offset != 5 {
		t.Fatalf("next live change at %d, want 5 (no gap, no duplicate)", p.Offset)
	}
}

func TestMapUnrecoverable(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "tiny:x", "a", "b", "c", "d", "e")
	tc := e.connectUser(t, "alice")
	pos, err := e.node.MapReadState(context.Background(), "tiny:x", MapReadStateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req := mapSub("tiny:x", phaseStream)
	req.Recover, req.Epoch, req.Offset = true, pos.Position.Epoch, 1
	if code := tc.errCode(subOf(req)); code != ErrorUnrecoverablePosition.Code {
		t.Fatalf("recovery past the trimmed stream: %d, want 112", code)
	}
	req.Epoch, req.Offset = "another", 5
	if code := tc.errCode(subOf(req)); code != ErrorUnrecoverablePosition.Code {
		t.Fatalf("recovery from another epoch: %d, want 112", code)
	}
	e.seed(t, "m:big", keyNames("k", 150)...)
	first := tc.ok(subOf(mapSub("m:big", phaseState))).Subscribe
	cont := mapSub("m:big", phaseState)
	cont.Cursor, cont.Epoch = "a", "not-"+first.Epoch
	if code := tc.errCode(subOf(cont)); code != ErrorUnrecoverablePosition.Code {
		t.Fatalf("state page of another epoch: %d, want 112", code)
	}
}

func TestMapEphemeral(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "eph:x", "a")
	tc := e.connectUser(t, "alice")
	live := tc.ok(subOf(mapSub("eph:x", phaseState))).Subscribe
	if live.Phase != phaseLive || live.Recoverable || len(live.State) != 1 || live.State[0].Offset != 0 {
		t.Fatalf("ephemeral subscribe = phase %d recoverable %v state %v", live.Phase, live.Recoverable, live.State)
	}
	// Keys expire: the removal reaches the subscriber.
	push := tc.waitPush("the TTL removal", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed })
	if push.Pub.Key != "a" {
		t.Fatalf("removal of %q", push.Pub.Key)
	}
	tc2 := e.connectUser(t, "bob")
	req := mapSub("eph:y", phaseStream)
	req.Recover = true
	if code := tc2.errCode(subOf(req)); code != ErrorBadRequest.Code {
		t.Fatalf("stream phase on an ephemeral map: %d, want 107", code)
	}
}

func TestMapRecoverableKeyTTL(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "rec:x", "a")
	tc := e.connectUser(t, "alice")
	replies, _ := tc.mapSync("rec:x", 0)
	live := replies[len(replies)-1]
	push := tc.waitPush("the TTL removal", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed })
	if push.Pub.Key != "a" || push.Pub.Offset != live.Offset+1 {
		t.Fatalf("removal %+v, want key a at offset %d (recoverable maps stream their expiries)", push.Pub, live.Offset+1)
	}
}

func TestMapSubscribeRefusals(t *testing.T) {
	e := newHubEnv(t)
	tc := e.connectUser(t, "alice")
	cases := []struct {
		name string
		req  *clientpb.SubscribeRequest
		want uint32
	}{
		{"stream type to a map", &clientpb.SubscribeRequest{Channel: "m:a"}, ErrorPermissionDenied.Code},
		{"map_clients type to a map", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeMapClients, Phase: phaseState}, ErrorPermissionDenied.Code},
		{"shared poll type to a map", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeSharedPoll}, ErrorNotAvailable.Code},
		{"continuation without a first page", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeMap, Phase: phaseState, Cursor: "k", Epoch: "e"}, ErrorPermissionDenied.Code},
		{"stream page without recover or state", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeMap, Phase: phaseStream, Epoch: "e"}, ErrorPermissionDenied.Code},
		{"unknown phase", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeMap, Phase: 7}, ErrorBadRequest.Code},
		{"tags filter where not allowed", &clientpb.SubscribeRequest{Channel: "m:a", Type: subTypeMap, Phase: phaseState, Tf: &clientpb.FilterNode{Key: "a", Cmp: "eq", Val: "b"}}, ErrorBadRequest.Code},
		{"invalid tags filter", &clientpb.SubscribeRequest{Channel: "tagged:a", Type: subTypeMap, Phase: phaseState, Tf: &clientpb.FilterNode{Key: "a", Cmp: "like"}}, ErrorBadRequest.Code},
		{"closed namespace", &clientpb.SubscribeRequest{Channel: "closed:a", Type: subTypeMap, Phase: phaseState}, ErrorPermissionDenied.Code},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := tc.errCode(subOf(c.req)); code != c.want {
				t.Fatalf("error %d, want %d", code, c.want)
			}
		})
	}
	// The connection still serves a good subscribe after all that.
	if live := tc.ok(subOf(mapSub("m:a", phaseState))).Subscribe; live.Phase != phaseLive {
		t.Fatalf("subscribe after refusals: phase %d", live.Phase)
	}
	if code := tc.errCode(subOf(mapSub("m:a", phaseState))); code != ErrorAlreadySubscribed.Code {
		t.Fatalf("second subscribe: %d, want 105", code)
	}
}

func TestMapCatchUpTimeout(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "slow:x", keyNames("k", 150)...)
	tc := e.connectUser(t, "alice")
	first := tc.ok(subOf(mapSub("slow:x", phaseState))).Subscribe
	time.Sleep(150 * time.Millisecond)
	req := mapSub("slow:x", phaseState)
	req.Cursor, req.Epoch, req.Offset = first.Cursor, first.Epoch, first.Offset
	if code := tc.disconnectCode(subOf(req)); code != int(DisconnectSlow.Code) {
		t.Fatalf("page after the catch-up timeout: close %d, want 3008", code)
	}
}

func mapPubCmd(ch, key, data string) *clientpb.Command {
	return &clientpb.Command{Publish: &clientpb.PublishRequest{Channel: ch, Type: subTypeMap, Key: key, Data: []byte(data)}}
}

func mapRemoveCmd(ch, key string) *clientpb.Command {
	return &clientpb.Command{Publish: &clientpb.PublishRequest{Channel: ch, Type: subTypeMap, Key: key, Removed: true}}
}

func TestMapClientWrites(t *testing.T) {
	e := newHubEnv(t)
	writer := e.connectUser(t, "alice")
	watcher := e.connectUser(t, "bob")
	watcher.mapSync("m:w", 0)
	writer.ok(mapPubCmd("m:w", "seat-1", `{"by":"alice"}`))
	p := watcher.waitPush("the write", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Key != "seat-1" || string(p.Data) != `{"by":"alice"}` || p.Info == nil || p.Info.User != "alice" || p.Offset != 1 || p.Epoch == "" {
		t.Fatalf("write push = %+v (the first change of a stream names its epoch)", p)
	}
	writer.ok(mapRemoveCmd("m:w", "seat-1"))
	r := watcher.waitPush("the removal", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed }).Pub
	if r.Key != "seat-1" || r.Offset != 2 || len(r.Data) != 0 {
		t.Fatalf("removal push = %+v", r)
	}
	cases := []struct {
		name string
		tc   *testClient
		cmd  *clientpb.Command
		want uint32
	}{
		{"empty key", writer, mapPubCmd("m:w", "", `1`), ErrorBadRequest.Code},
		{"oversize key", writer, mapPubCmd("m:w", string(make([]byte, maxMapKeyLength+1)), `1`), ErrorBadRequest.Code},
		{"removal with data", writer, &clientpb.Command{Publish: &clientpb.PublishRequest{Channel: "m:w", Type: 1, Key: "k", Removed: true, Data: []byte(`1`)}}, ErrorBadRequest.Code},
		{"map write to a stream", writer, mapPubCmd("public:x", "k", `1`), ErrorBadRequest.Code},
		{"stream publish to a map", writer, pubCmd("m:w", `1`), ErrorBadRequest.Code},
		{"remove not allowed", writer, mapRemoveCmd("eph:w", "k"), ErrorPermissionDenied.Code},
		{"write to a presence map", writer, mapPubCmd("prescli:x", "k", `1`), ErrorPermissionDenied.Code},
		{"write not allowed", writer, mapPubCmd("rec:w", "k", `1`), ErrorPermissionDenied.Code},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := c.tc.errCode(c.cmd); code != c.want {
				t.Fatalf("error %d, want %d", code, c.want)
			}
		})
	}
}

func TestMapClientKeyAndRemoveOnUnsubscribe(t *testing.T) {
	e := newHubEnv(t)
	writer := e.connectUser(t, "alice")
	if code := writer.errCode(mapPubCmd("ckey:room", "anything", `{"x":1}`)); code != ErrorPermissionDenied.Code {
		t.Fatalf("write before subscribing (publish for subscriber): %d, want 103", code)
	}
	writer.mapSync("ckey:room", 0)
	watcher := e.connectUser(t, "bob")
	watcher.mapSync("ckey:room", 0)
	writer.ok(mapPubCmd("ckey:room", "anything", `{"x":1}`))
	p := watcher.waitPush("the write", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Key != writer.c.ID() {
		t.Fatalf("key %q, want the writer's client id %q", p.Key, writer.c.ID())
	}
	writer.ok(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "ckey:room"}})
	r := watcher.waitPush("the key removed on unsubscribe", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed }).Pub
	if r.Key != writer.c.ID() {
		t.Fatalf("removed %q, want %q", r.Key, writer.c.ID())
	}
}

func TestMapClientsPresence(t *testing.T) {
	e := newHubEnv(t)
	observer := e.connectUser(t, "obs")
	req := &clientpb.SubscribeRequest{Channel: "prescli:pres:lobby", Type: subTypeMapClients, Phase: phaseState}
	if live := observer.ok(subOf(req)).Subscribe; live.Phase != phaseLive || len(live.State) != 0 {
		t.Fatalf("observer subscribe = %+v", live)
	}
	member := e.connectUser(t, "alice")
	member.ok(subCmd("pres:lobby"))
	p := observer.waitPush("the member's entry", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Key != member.c.ID() || p.Info == nil || p.Info.User != "alice" || p.Removed {
		t.Fatalf("presence entry = %+v", p)
	}
	late := e.connectUser(t, "late")
	live := late.ok(subOf(&clientpb.SubscribeRequest{Channel: "prescli:pres:lobby", Type: subTypeMapClients, Phase: phaseState})).Subscribe
	if len(live.State) != 1 || live.State[0].Key != member.c.ID() {
		t.Fatalf("late observer's state = %v", live.State)
	}
	member.c.Disconnect(DisconnectConnectionClosed)
	r := observer.waitPush("the entry removed on disconnect", func(p *clientpb.Push) bool { return p.Pub != nil && p.Pub.Removed }).Pub
	if r.Key != member.c.ID() {
		t.Fatalf("removed %q", r.Key)
	}
}

func TestMapTagsFilter(t *testing.T) {
	e := newHubEnv(t)
	ctx := context.Background()
	for i, color := range []string{"red", "blue", "red"} {
		if _, err := e.node.MapPublish(ctx, "tagged:x", fmt.Sprintf("k%d", i), []byte(`1`), MapPublishOptions{Tags: map[string]string{"color": color}}); err != nil {
			t.Fatal(err)
		}
	}
	tc := e.connectUser(t, "alice")
	req := mapSub("tagged:x", phaseState)
	req.Tf = &clientpb.FilterNode{Key: "color", Cmp: "eq", Val: "red"}
	live := tc.ok(subOf(req)).Subscribe
	var got []string
	for _, p := range live.State {
		got = append(got, p.Key)
	}
	if !slices.Equal(got, []string{"k0", "k2"}) {
		t.Fatalf("filtered state = %v, want the red keys", got)
	}
	for i, color := range []string{"blue", "red"} {
		if _, err := e.node.MapPublish(ctx, "tagged:x", fmt.Sprintf("n%d", i), []byte(`1`), MapPublishOptions{Tags: map[string]string{"color": color}}); err != nil {
			t.Fatal(err)
		}
	}
	p := tc.waitPush("the red change", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Key != "n1" || p.Offset != 5 {
		t.Fatalf("first push after the filter = %s at %d, want n1 at 5 (the blue one skipped, the position kept)", p.Key, p.Offset)
	}
}

func TestMapDeltaPerKey(t *testing.T) {
	e := newHubEnv(t)
	big := func(v int) string {
		return fmt.Sprintf(`{"seat":"A-17","row":"A","price":1250,"notes":"aisle seat with extra legroom","state":%d}`, v)
	}
	if _, err := e.node.MapPublish(context.Background(), "mdelta:x", "A-17", []byte(big(0)), MapPublishOptions{}); err != nil {
		t.Fatal(err)
	}
	tc := e.connectUser(t, "alice")
	req := mapSub("mdelta:x", phaseState)
	req.Delta = "fossil"
	live := tc.ok(subOf(req)).Subscribe
	if !live.Delta || len(live.State) != 1 {
		t.Fatalf("delta not negotiated: %+v", live)
	}
	held := live.State[0].Data
	for v := 1; v <= 3; v++ {
		if _, err := e.node.MapPublish(context.Background(), "mdelta:x", "A-17", []byte(big(v)), MapPublishOptions{}); err != nil {
			t.Fatal(err)
		}
		p := tc.waitPush("a change", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
		if !p.Delta {
			t.Fatalf("change %d sent whole (%d bytes), want a patch", v, len(p.Data))
		}
		next, err := fossil.Apply(held, p.Data, 1<<20)
		if err != nil {
			t.Fatalf("apply patch %d: %v", v, err)
		}
		if string(next) != big(v) {
			t.Fatalf("patched value %q, want %q", next, big(v))
		}
		held = next
	}
}

func TestMapJSONDeltaSendsStrings(t *testing.T) {
	e := newHubEnv(t)
	e.seed(t, "mdelta:j", "a")
	tc := e.newClient(t, protocol.TypeJSON)
	tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}})
	req := mapSub("mdelta:j", phaseState)
	req.Delta = "fossil"
	live := tc.ok(subOf(req)).Subscribe
	if got := string(live.State[0].Data); got != `"{\"k\":\"a\"}"` {
		t.Fatalf("state entry on a JSON delta subscription = %s, want the value as a JSON string", got)
	}
}

func TestMapAPIErrors(t *testing.T) {
	e := newHubEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		err  error
		want uint32
	}{
		{"empty key", func() error { _, err := e.node.MapPublish(ctx, "m:x", "", nil, MapPublishOptions{}); return err }(), 107},
		{"bad key mode", func() error {
			_, err := e.node.MapPublish(ctx, "m:x", "k", nil, MapPublishOptions{KeyMode: "sometimes"})
			return err
		}(), 107},
		{"stream namespace", func() error { _, err := e.node.MapPublish(ctx, "public:x", "k", nil, MapPublishOptions{}); return err }(), 107},
		{"unknown namespace", func() error { _, err := e.node.MapPublish(ctx, "nope:x", "k", nil, MapPublishOptions{}); return err }(), 102},
		{"remove empty key", func() error { _, err := e.node.MapRemove(ctx, "m:x", "", ""); return err }(), 107},
		{"stats of a stream", func() error { _, err := e.node.MapStats(ctx, "public:x"); return err }(), 107},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ce, ok := c.err.(*Error)
			if !ok || ce.Code != c.want {
				t.Fatalf("error %v, want code %d", c.err, c.want)
			}
		})
	}
	res, err := e.node.MapPublish(ctx, "m:x", "k", []byte(`1`), MapPublishOptions{KeyMode: "if_new"})
	if err != nil || res.Suppressed {
		t.Fatalf("first if_new = %+v %v", res, err)
	}
	res, err = e.node.MapPublish(ctx, "m:x", "k", []byte(`2`), MapPublishOptions{KeyMode: "if_new"})
	if err != nil || !res.Suppressed || res.SuppressReason != "key_exists" {
		t.Fatalf("second if_new = %+v %v", res, err)
	}
	if n, err := e.node.MapStats(ctx, "m:x"); err != nil || n != 1 {
		t.Fatalf("stats = %d %v", n, err)
	}
	if err := e.node.MapClear(ctx, "m:x"); err != nil {
		t.Fatal(err)
	}
	st, err := e.node.MapReadState(ctx, "m:x", MapReadStateOptions{})
	if err != nil || len(st.Entries) != 0 {
		t.Fatalf("state after clear = %v %v", st.Entries, err)
	}
}

func TestTagsFilterMatch(t *testing.T) {
	tags := map[string]string{"color": "red", "size": "10", "name": "front-row"}
	leaf := func(key, cmp, val string, vals ...string) *clientpb.FilterNode {
		return &clientpb.FilterNode{Key: key, Cmp: cmp, Val: val, Vals: vals}
	}
	cases := []struct {
		name string
		f    *clientpb.FilterNode
		want bool
	}{
		{"eq", leaf("color", "eq", "red"), true},
		{"eq other", leaf("color", "eq", "blue"), false},
		{"neq", leaf("color", "neq", "blue"), true},
		{"neq absent", leaf("shape", "neq", "x"), true},
		{"eq absent", leaf("shape", "eq", ""), false},
		{"in", leaf("color", "in", "", "blue", "red"), true},
		{"nin", leaf("color", "nin", "", "blue"), true},
		{"ex", leaf("size", "ex", ""), true},
		{"nex", leaf("size", "nex", ""), false},
		{"sw", leaf("name", "sw", "front"), true},
		{"ew", leaf("name", "ew", "row"), true},
		{"ct", leaf("name", "ct", "nt-r"), true},
		{"lt numeric", leaf("size", "lt", "9.5"), false},
		{"gte numeric", leaf("size", "gte", "10"), true},
		{"gt on a word", leaf("color", "gt", "1"), false},
		{"and", &clientpb.FilterNode{Op: "and", Nodes: []*clientpb.FilterNode{leaf("color", "eq", "red"), leaf("size", "lte", "10")}}, true},
		{"or", &clientpb.FilterNode{Op: "or", Nodes: []*clientpb.FilterNode{leaf("color", "eq", "blue"), leaf("size", "eq", "10")}}, true},
		{"not", &clientpb.FilterNode{Op: "not", Nodes: []*clientpb.FilterNode{leaf("color", "eq", "red")}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := compileTagsFilter(c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.match(tags); got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
	bad := []*clientpb.FilterNode{
		leaf("", "eq", "x"),
		leaf("a", "like", "x"),
		leaf("a", "in", ""),
		leaf("a", "lt", "ten"),
		{Op: "xor", Nodes: []*clientpb.FilterNode{leaf("a", "eq", "b")}},
		{Op: "not", Nodes: []*clientpb.FilterNode{leaf("a", "eq", "b"), leaf("a", "eq", "c")}},
		{Op: "and"},
	}
	deep := leaf("a", "eq", "b")
	for i := 0; i < maxFilterDepth+1; i++ {
		deep = &clientpb.FilterNode{Op: "not", Nodes: []*clientpb.FilterNode{deep}}
	}
	bad = append(bad, deep)
	for i, f := range bad {
		if _, err := compileTagsFilter(f); err != ErrorBadRequest {
			t.Errorf("bad filter %d compiled (err %v)", i, err)
		}
	}
}

func TestMapUsersPresence(t *testing.T) {
	e := newHubEnv(t, func(cfg *Config, _ *Proxy) { cfg.Client.AllowAnonymousConnectWithoutToken = true })
	observer := e.connectUser(t, "obs")
	req := &clientpb.SubscribeRequest{Channel: "presusers:presu:lobby", Type: subTypeMapUsers, Phase: phaseState}
	observer.ok(subOf(req))
	// Two connections of one user are one entry; an anonymous one is none.
	a1 := e.connectUser(t, "alice")
	a1.ok(subCmd("presu:lobby"))
	p := observer.waitPush("alice's entry", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Key != "alice" || p.Info != nil || p.Removed {
		t.Fatalf("user presence entry = %+v, want key alice without client info", p)
	}
	a2 := e.connectUser(t, "alice")
	a2.ok(subCmd("presu:lobby"))
	anon := e.connect(t, "")
	anon.ok(subCmd("presu:lobby"))
	st, err := e.node.MapReadState(context.Background(), "presusers:presu:lobby", MapReadStateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != 1 || st.Entries[0].Key != "alice" {
		t.Fatalf("user presence map = %v, want alice once", st.Entries)
	}
	// Users leave by TTL only (a quick reconnect does not flicker), so an
	// unsubscribe removes nothing.
	a1.ok(&clientpb.Command{Unsubscribe: &clientpb.UnsubscribeRequest{Channel: "presu:lobby"}})
	a2.c.Disconnect(DisconnectConnectionClosed)
	time.Sleep(100 * time.Millisecond)
	if n, _ := e.node.MapStats(context.Background(), "presusers:presu:lobby"); n != 1 {
		t.Fatalf("%d entries after alice left, want 1 until its TTL", n)
	}
}

func TestMapKeysPerConnectionLimit(t *testing.T) {
	e := newHubEnv(t)
	w := e.connectUser(t, "alice")
	for i := 0; i < maxKeysPerConnection; i++ {
		w.ok(mapPubCmd("m:many", fmt.Sprintf("k%d", i), `1`))
	}
	// Rewriting a key already counted is fine; a new one is over the limit.
	w.ok(mapPubCmd("m:many", "k7", `2`))
	if code := w.errCode(mapPubCmd("m:many", "one-too-many", `1`)); code != ErrorLimitExceeded.Code {
		t.Fatalf("key %d: %d, want 106", maxKeysPerConnection+1, code)
	}
	// Another connection, and another channel, have their own budget.
	e.connectUser(t, "bob").ok(mapPubCmd("m:many", "bob-key", `1`))
	w.ok(mapPubCmd("m:other", "k0", `1`))
}

func TestMapChannelsCannotBeServerSide(t *testing.T) {
	e := newHubEnv(t)
	// A token naming a map channel among its channels: the connection is
	// made with the others; the map channel is left for the client.
	tc := e.connect(t, connToken(t, "alice", 0, map[string]any{"channels": []string{"m:board", "news"}}))
	var connect *clientpb.ConnectResult
	for _, r := range tc.tr.allReplies() {
		if r.Connect != nil {
			connect = r.Connect
		}
	}
	if connect == nil {
		t.Fatal("no connect reply")
	}
	if _, ok := connect.Subs["m:board"]; ok || connect.Subs["news"] == nil {
		t.Fatalf("server-side subs = %v, want news only", connect.Subs)
	}
	if err := e.node.Subscribe(context.Background(), "alice", "m:board", SubscribeOptions{}); err != ErrorBadRequest {
		t.Fatalf("API subscribe to a map channel: %v, want 107", err)
	}
}
