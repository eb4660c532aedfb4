package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/fossil"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

const pollSecret = "hub-test-poll-secret"

// pollBackend answers SharedPollRefresh from a table of items the test
// sets, counting the calls; the other events go to the embedded fake.
type pollBackend struct {
	*fakeBackend
	mu    sync.Mutex
	calls []*proxypb.SharedPollRefreshRequest
	items map[string]*proxypb.SharedPollRefreshResultItem
	epoch string
	fail  error
	// extra items are answered whatever was asked.
	extra []*proxypb.SharedPollRefreshResultItem
}

func (b *pollBackend) SharedPollRefresh(_ context.Context, req *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, req)
	if b.fail != nil {
		return nil, b.fail
	}
	res := &proxypb.SharedPollRefreshResult{Epoch: b.epoch}
	for _, it := range req.Items {
		if v, ok := b.items[it.Key]; ok {
			res.Items = append(res.Items, v)
		}
	}
	res.Items = append(res.Items, b.extra...)
	return &proxypb.SharedPollRefreshResponse{Result: res}, nil
}

func (b *pollBackend) set(key, data string, version uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.items == nil {
		b.items = map[string]*proxypb.SharedPollRefreshResultItem{}
	}
	b.items[key] = &proxypb.SharedPollRefreshResultItem{Key: key, Data: []byte(data), Version: version}
}

func (b *pollBackend) remove(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items[key] = &proxypb.SharedPollRefreshResultItem{Key: key, Removed: true}
}

func (b *pollBackend) numCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

// newPollEnv is a hub with shared-poll namespaces on one poll backend:
// poll (versioned, publish enabled), pollvl (versionless), polltiny
// (versioned, at most 3 keys per connection).
func newPollEnv(t *testing.T) (*hubEnv, *pollBackend) {
	t.Helper()
	pb := &pollBackend{fakeBackend: &fakeBackend{}}
	pp := &Proxy{Name: "poll", Endpoint: "fake://poll", Timeout: time.Second, Backend: pb}
	ns := func(name string, o SharedPollOptions) Namespace {
		o.Proxy = pp
		if o.RefreshInterval == 0 {
			o.RefreshInterval = 100 * time.Millisecond
		}
		return Namespace{Name: name, ChannelOptions: ChannelOptions{SubscriptionType: "shared_poll", AllowSubscribeForClient: true, SharedPoll: o}}
	}
	e := newHubEnv(t, func(cfg *Config, _ *Proxy) {
		cfg.SharedPoll.HMACSecretKey = pollSecret
		cfg.Channel.Namespaces = append(cfg.Channel.Namespaces,
			ns("poll", SharedPollOptions{Mode: "versioned", PublishEnabled: true}),
			ns("pollvl", SharedPollOptions{}),
			ns("polltiny", SharedPollOptions{Mode: "versioned", MaxKeysPerConnection: 3}),
			ns("pollslow", SharedPollOptions{Mode: "versioned", RefreshInterval: time.Hour}),
		)
	})
	return e, pb
}

func pollSub(ch string) *clientpb.Command {
	return &clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch, Type: subTypeSharedPoll}}
}

// trackCmd tracks keys in one batch signed for user, valid for ttl.
func trackCmd(user, ch string, ttl time.Duration, keys ...string) *clientpb.Command {
	now := time.Now()
	iat, exp := strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.Add(ttl).Unix(), 10)
	b := &clientpb.TrackBatch{Signature: signTrackBatch(pollSecret, iat, exp, user, ch, keys)}
	for _, k := range keys {
		b.Items = append(b.Items, &clientpb.KeyedItem{Key: k})
	}
	return &clientpb.Command{SubRefresh: &clientpb.SubRefreshRequest{Channel: ch, Type: refreshTypeTrack, Track: []*clientpb.TrackBatch{b}}}
}

func untrackCmd(ch string, keys ...string) *clientpb.Command {
	return &clientpb.Command{SubRefresh: &clientpb.SubRefreshRequest{Channel: ch, Type: refreshTypeUntrack, Untrack: keys}}
}

// pollPubs are the shared-poll pushes received so far on ch, as
// "key=data@version" or "key removed".
func (tc *testClient) pollPubs(ch string) []string {
	var out []string
	for _, r := range tc.tr.allReplies() {
		if p := r.Push; p != nil && p.Channel == ch && p.Pub != nil {
			if p.Pub.Removed {
				out = append(out, p.Pub.Key+" removed")
			} else {
				out = append(out, fmt.Sprintf("%s=%s@%d", p.Pub.Key, p.Pub.Data, p.Pub.Version))
			}
		}
	}
	return out
}

func waitPollPubs(t *testing.T, tc *testClient, ch string, n int) []string {
	t.Helper()
	eventually(t, fmt.Sprintf("%d shared-poll pushes", n), func() bool { return len(tc.pollPubs(ch)) >= n })
	return tc.pollPubs(ch)
}

func TestSharedPollSubscribeAndFirstValueAtOnce(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("match-1", `{"score":"1:0"}`, 3)
	tc := e.connectUser(t, "alice")
	// pollslow refreshes once an hour: the value can only come from the
	// immediate poll of a key new to the channel.
	res := tc.ok(pollSub("pollslow:scores")).Subscribe
	if res.Type != subTypeSharedPoll || res.Epoch != "" {
		t.Fatalf("versioned subscribe = type %d epoch %q, want type 4 and no epoch yet", res.Type, res.Epoch)
	}
	r := tc.ok(trackCmd("alice", "pollslow:scores", time.Minute, "match-1")).SubRefresh
	if !r.Expires || r.Ttl == 0 || r.Ttl > 60 {
		t.Fatalf("track reply = %+v, want the signature's remaining lifetime", r)
	}
	got := waitPollPubs(t, tc, "pollslow:scores", 1)
	if got[0] != `match-1={"score":"1:0"}@3` {
		t.Fatalf("first push = %q", got[0])
	}
	vl := e.connectUser(t, "bob").ok(pollSub("pollvl:x")).Subscribe
	if len(vl.Epoch) != 8 {
		t.Fatalf("versionless epoch %q, want 8 letters", vl.Epoch)
	}
}

func TestSharedPollOnlyChangesArePushed(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("k", `{"v":1}`, 1)
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("poll:c"))
	tc.ok(trackCmd("alice", "poll:c", time.Minute, "k"))
	waitPollPubs(t, tc, "poll:c", 1)
	calls := pb.numCalls()
	eventually(t, "three more polls", func() bool { return pb.numCalls() >= calls+3 })
	if got := tc.pollPubs("poll:c"); len(got) != 1 {
		t.Fatalf("unchanged item pushed again: %v", got)
	}
	pb.set("k", `{"v":2}`, 2)
	got := waitPollPubs(t, tc, "poll:c", 2)
	if got[1] != `k={"v":2}@2` {
		t.Fatalf("change = %q", got[1])
	}
	// The backend is told the version known, so it may answer only changes.
	pb.mu.Lock()
	last := pb.calls[len(pb.calls)-1]
	pb.mu.Unlock()
	if len(last.Items) != 1 || last.Items[0].Version == 0 {
		t.Fatalf("poll request = %v, want the known version", last.Items)
	}
}

func TestSharedPollOnePollForManySubscribers(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("k", `{"v":1}`, 1)
	var clients []*testClient
	for i := 0; i < 20; i++ {
		user := fmt.Sprintf("u%d", i)
		tc := e.connectUser(t, user)
		tc.ok(pollSub("pollslow:c"))
		tc.ok(trackCmd(user, "pollslow:c", time.Minute, "k"))
		clients = append(clients, tc)
	}
	for _, tc := range clients {
		waitPollPubs(t, tc, "pollslow:c", 1)
	}
	// One cold poll; later subscribers get the value this node already
	// holds: 20 subscribers cost the backend one call, not 20.
	if n := pb.numCalls(); n > 1 {
		t.Fatalf("%d backend calls for 20 subscribers of one key", n)
	}
}

func TestSharedPollVersionless(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("k", `{"v":"a"}`, 0)
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("pollvl:c"))
	tc.ok(trackCmd("alice", "pollvl:c", time.Minute, "k"))
	waitPollPubs(t, tc, "pollvl:c", 1)
	calls := pb.numCalls()
	eventually(t, "two more polls", func() bool { return pb.numCalls() >= calls+2 })
	pb.set("k", `{"v":"b"}`, 0)
	got := waitPollPubs(t, tc, "pollvl:c", 2)
	if got[0] != `k={"v":"a"}@1` || got[1] != `k={"v":"b"}@2` || len(got) != 2 {
		t.Fatalf("versionless pushes = %v, want the two contents with server versions 1 and 2", got)
	}
}

func TestSharedPollUntrackAndRemoval(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("a", `1`, 1)
	pb.set("b", `1`, 1)
	pb.set("c", `1`, 1) // keeps the channel polled
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("poll:u"))
	tc.ok(trackCmd("alice", "poll:u", time.Minute, "a", "b", "c"))
	waitPollPubs(t, tc, "poll:u", 3)
	tc.ok(untrackCmd("poll:u", "a"))
	pb.set("a", `2`, 2)
	pb.remove("b")
	got := waitPollPubs(t, tc, "poll:u", 4)
	if got[3] != "b removed" {
		t.Fatalf("fourth push = %q, want b's removal", got[3])
	}
	calls := pb.numCalls()
	eventually(t, "two more polls", func() bool { return pb.numCalls() >= calls+2 })
	if got := tc.pollPubs("poll:u"); len(got) != 4 {
		t.Fatalf("pushes after untrack and removal: %v", got)
	}
}

func TestSharedPollRefusals(t *testing.T) {
	e, _ := newPollEnv(t)
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("polltiny:c"))
	bad := trackCmd("alice", "polltiny:c", time.Minute, "k")
	bad.SubRefresh.Track[0].Signature += "0"
	other := trackCmd("mallory", "polltiny:c", time.Minute, "k")
	expired := trackCmd("alice", "polltiny:c", -time.Minute, "k")
	cases := []struct {
		name string
		cmd  *clientpb.Command
		want uint32
	}{
		{"tampered signature", bad, ErrorPermissionDenied.Code},
		{"signed for another user", other, ErrorPermissionDenied.Code},
		{"expired signature", expired, ErrorTokenExpired.Code},
		{"no batches", &clientpb.Command{SubRefresh: &clientpb.SubRefreshRequest{Channel: "polltiny:c", Type: refreshTypeTrack}}, ErrorBadRequest.Code},
		{"empty untrack", untrackCmd("polltiny:c"), ErrorBadRequest.Code},
		{"unknown track type", &clientpb.Command{SubRefresh: &clientpb.SubRefreshRequest{Channel: "polltiny:c", Type: 9}}, ErrorBadRequest.Code},
		{"not subscribed", trackCmd("alice", "polltiny:other", time.Minute, "k"), ErrorPermissionDenied.Code},
		{"more keys than allowed", trackCmd("alice", "polltiny:c", time.Minute, "a", "b", "c", "d"), ErrorLimitExceeded.Code},
		{"stream subscribe to shared poll", subCmd("polltiny:d"), ErrorBadRequest.Code},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := tc.errCode(c.cmd); code != c.want {
				t.Fatalf("error %d, want %d", code, c.want)
			}
		})
	}
	// Within the limit it works, and the connection kept serving.
	tc.ok(trackCmd("alice", "polltiny:c", time.Minute, "a", "b", "c"))
}

func TestSharedPollBackendDown(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.fail = fmt.Errorf("connection refused")
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("poll:down"))
	tc.ok(trackCmd("alice", "poll:down", time.Minute, "k"))
	eventually(t, "a failed poll", func() bool { return pb.numCalls() >= 1 })
	// While the backend fails, a key with no value yet cannot be served:
	// the tracker is told with a temporary error (the SDK retries).
	other := e.connectUser(t, "bob")
	other.ok(pollSub("poll:down"))
	r := other.call(trackCmd("bob", "poll:down", time.Minute, "fresh"))
	if r.Error == nil || r.Error.Code != ErrorInternal.Code || !r.Error.Temporary {
		t.Fatalf("track while the backend is down = %v, want temporary 100", r)
	}
	pb.mu.Lock()
	pb.fail = nil
	pb.mu.Unlock()
	pb.set("k", `{"ok":true}`, 1)
	got := waitPollPubs(t, tc, "poll:down", 1)
	if got[0] != `k={"ok":true}@1` {
		t.Fatalf("after the backend came back: %v", got)
	}
}

func TestSharedPollPublishAndEpochChange(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("k", `{"v":1}`, 1)
	pb.epoch = "e1"
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("poll:pub"))
	tc.ok(trackCmd("alice", "poll:pub", time.Minute, "k"))
	waitPollPubs(t, tc, "poll:pub", 1)
	if err := e.node.SharedPollPublish(context.Background(), "poll:pub", "k", []byte(`{"v":9}`), 9, "e1"); err != nil {
		t.Fatal(err)
	}
	got := waitPollPubs(t, tc, "poll:pub", 2)
	if got[1] != `k={"v":9}@9` {
		t.Fatalf("published push = %q", got[1])
	}
	if err := e.node.SharedPollPublish(context.Background(), "pollvl:x", "k", []byte(`1`), 1, ""); err != ErrorNotAvailable {
		t.Fatalf("publish to a versionless channel: %v, want 108", err)
	}
	if err := e.node.SharedPollPublish(context.Background(), "poll:pub", "k", []byte(`1`), 0, ""); err != ErrorBadRequest {
		t.Fatalf("publish without a version: %v, want 107", err)
	}
	// The backend's versions restart under a new epoch: subscribers must
	// start over.
	pb.mu.Lock()
	pb.epoch = "e2"
	pb.mu.Unlock()
	push := tc.waitPush("unsubscribe on a new epoch", func(p *clientpb.Push) bool { return p.Unsubscribe != nil })
	if push.Unsubscribe.Code != UnsubscribeCodeInsufficientState {
		t.Fatalf("unsubscribe code %d, want 2500", push.Unsubscribe.Code)
	}
}

func TestTrackSignature(t *testing.T) {
	cfg := &SharedPollConfig{HMACSecretKey: "new", HMACPreviousSecretKey: "old", HMACPreviousSecretKeyValidUntil: 1000}
	now := time.Unix(5000, 0)
	keys := []string{"a", "b"}
	cases := []struct {
		name string
		sig  string
		want error
	}{
		{"current key", signTrackBatch("new", "900", "6000", "u", "ch", keys), nil},
		{"no expiry", signTrackBatch("new", "900", "0", "u", "ch", keys), nil},
		{"previous key before valid_until", signTrackBatch("old", "900", "6000", "u", "ch", keys), nil},
		{"previous key after valid_until", signTrackBatch("old", "1100", "6000", "u", "ch", keys), ErrorPermissionDenied},
		{"expired beyond the leeway", signTrackBatch("new", "900", "4990", "u", "ch", keys), ErrorTokenExpired},
		{"expired within the leeway", signTrackBatch("new", "900", "4997", "u", "ch", keys), nil},
		{"keys in another order", signTrackBatch("new", "900", "6000", "u", "ch", []string{"b", "a"}), ErrorPermissionDenied},
		{"another channel", signTrackBatch("new", "900", "6000", "u", "other", keys), ErrorPermissionDenied},
		{"not three parts", "900:6000", ErrorPermissionDenied},
		{"iat not a number", "x:6000:00", ErrorPermissionDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := verifyTrackBatch(cfg, c.sig, "u", "ch", keys, now); err != c.want {
				t.Fatalf("verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSharedPollDeltaPerKey(t *testing.T) {
	pb := &pollBackend{fakeBackend: &fakeBackend{}}
	pp := &Proxy{Name: "poll", Endpoint: "fake://poll", Timeout: time.Second, Backend: pb}
	e := newHubEnv(t, func(cfg *Config, _ *Proxy) {
		cfg.SharedPoll.HMACSecretKey = pollSecret
		cfg.Channel.Namespaces = append(cfg.Channel.Namespaces, Namespace{Name: "polld", ChannelOptions: ChannelOptions{
			SubscriptionType: "shared_poll", AllowSubscribeForClient: true, DeltaFossil: true,
			SharedPoll: SharedPollOptions{Proxy: pp, Mode: "versioned", RefreshInterval: 50 * time.Millisecond},
		}})
	})
	doc := func(v int) string {
		return fmt.Sprintf(`{"match":"Rovers v United","venue":"Old Park","minute":%d,"score":"1:0","events":["goal 12'"]}`, v)
	}
	pb.set("m", doc(1), 1)
	tc := e.connectUser(t, "alice")
	sub := pollSub("polld:live")
	sub.Subscribe.Delta = "fossil"
	if res := tc.ok(sub).Subscribe; !res.Delta {
		t.Fatalf("delta not negotiated: %+v", res)
	}
	tc.ok(trackCmd("alice", "polld:live", time.Minute, "m"))
	first := tc.waitPush("the first value", func(p *clientpb.Push) bool { return p.Pub != nil })
	if first.Pub.Delta || string(first.Pub.Data) != doc(1) {
		t.Fatalf("first value %q (delta %v), want it whole", first.Pub.Data, first.Pub.Delta)
	}
	held := first.Pub.Data
	for v := 2; v <= 3; v++ {
		pb.set("m", doc(v), uint64(v))
		p := tc.waitPush("a change", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
		if !p.Delta || p.Version != uint64(v) {
			t.Fatalf("change %d: delta %v version %d, want a patch of version %d", v, p.Delta, p.Version, v)
		}
		next, err := fossil.Apply(held, p.Data, 1<<20)
		if err != nil || string(next) != doc(v) {
			t.Fatalf("patch %d gives %q (%v)", v, next, err)
		}
		held = next
	}
	// A second tracker joining late holds no version: whole, from the
	// value the node has.
	late := e.connectUser(t, "bob")
	late.ok(sub)
	late.ok(trackCmd("bob", "polld:live", time.Minute, "m"))
	p := late.waitPush("the late value", func(p *clientpb.Push) bool { return p.Pub != nil }).Pub
	if p.Delta || string(p.Data) != doc(3) {
		t.Fatalf("late tracker got %q (delta %v), want the current value whole", p.Data, p.Delta)
	}
}

func TestSharedPollGarbageAndUnknownItems(t *testing.T) {
	e, pb := newPollEnv(t)
	pb.set("k", `not json`, 1)
	pb.mu.Lock()
	pb.extra = []*proxypb.SharedPollRefreshResultItem{{Key: "stranger", Data: []byte(`{"v":1}`), Version: 1}} // answered though nobody asked
	pb.mu.Unlock()
	tc := e.connectUser(t, "alice")
	tc.ok(pollSub("poll:g"))
	tc.ok(trackCmd("alice", "poll:g", time.Minute, "k"))
	calls := pb.numCalls()
	eventually(t, "three polls", func() bool { return pb.numCalls() >= calls+3 })
	if got := tc.pollPubs("poll:g"); len(got) != 0 {
		t.Fatalf("garbage reached the client: %v", got)
	}
	// Answers for keys nobody tracks are ignored; a good value still comes.
	pb.mu.Lock()
	pb.items["k"] = &proxypb.SharedPollRefreshResultItem{Key: "k", Data: []byte(`{"ok":true}`), Version: 2}
	pb.mu.Unlock()
	if got := waitPollPubs(t, tc, "poll:g", 1); got[0] != `k={"ok":true}@2` {
		t.Fatalf("pushes = %v", got)
	}
}

// FuzzVerifyTrackBatch feeds arbitrary signatures and keys to the
// verifier: it must never panic, and must accept only what the signer
// made.
func FuzzVerifyTrackBatch(f *testing.F) {
	f.Add("1700000000:1700003600:00", "u", "ch", "k")
	f.Add(signTrackBatch("s", "1", "0", "u", "ch", []string{"k"}), "u", "ch", "k")
	f.Add("::", "", "", "")
	f.Add("-1:-1:zz", "u", "c", "a\x00b")
	cfg := &SharedPollConfig{HMACSecretKey: "s", HMACPreviousSecretKey: "p"}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, sig, user, ch, key string) {
		if _, err := verifyTrackBatch(cfg, sig, user, ch, []string{key}, now); err == nil {
			parts := strings.SplitN(sig, ":", 3)
			if len(parts) != 3 {
				t.Fatalf("accepted %q", sig)
			}
			if sig != signTrackBatch("s", parts[0], parts[1], user, ch, []string{key}) && sig != signTrackBatch("p", parts[0], parts[1], user, ch, []string{key}) {
				t.Fatalf("accepted a signature no key made: %q", sig)
			}
		}
	})
}

func TestPollBackoff(t *testing.T) {
	for failures, want := range []int{1, 2, 4, 8, 8, 8} {
		if got := pollBackoff(failures); got != want {
			t.Errorf("pollBackoff(%d) = %d, want %d", failures, got, want)
		}
	}
}
