package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// The HMAC secrets of the test verifiers. Subscription tokens get their
// own, so a connection token passed as a subscription token fails as it
// would with separately configured keys.
const (
	testSecret    = "hub-test-connect-secret"
	testSubSecret = "hub-test-subscribe-secret"
)

// hubEnv is one node as the hub tests see it: built from a Config like
// the wiring builds it, on the real memory engine and token verifiers,
// with one fake backend answering every proxy.
type hubEnv struct {
	t       testing.TB
	node    *Node
	engine  *hookEngine
	maps    *memory.Engine
	backend *fakeBackend
	proxy   *Proxy
}

// testConfig is the configuration every hub test starts from; each
// namespace stands for one set of rules the tests exercise:
//
//	(none)     subscribe for users, publish/presence/history for
//	           subscribers, presence, history, user-limited channels
//	public     everything for everyone, anonymous included
//	closed     nothing for anyone, no presence, no history
//	stream     history; clients may ask for positioning and recovery
//	forced     history; recovery forced by the namespace
//	cache      forced recovery in cache mode
//	jl         presence and join/leave pushed to every subscriber
//	proxied    subscribe, publish and sub_refresh decided by the backend
//	unproxied  proxy switches on but no backend configured (108)
//	strict     channel names limited by a regex
//	nohistory  history and positioning asked for without history
//
// and the map namespaces of map_subscribe_test.go (mapNamespaces).
func testConfig(p *Proxy) Config {
	withHistory := func(o ChannelOptions) ChannelOptions {
		o.HistorySize, o.HistoryTTL = 100, time.Minute
		return o
	}
	return Config{
		Name: "hub-test",
		Client: ClientConfig{
			QueueMaxSize:                1 << 20,
			HistoryMaxPublicationLimit:  20,
			RecoveryMaxPublicationLimit: 50,
		},
		Channel: ChannelConfig{
			PrivatePrefix: "$",
			WithoutNamespace: withHistory(ChannelOptions{
				AllowSubscribeForClient: true, AllowPublishForSubscriber: true,
				AllowPresenceForSubscriber: true, AllowHistoryForSubscriber: true,
				Presence: true, AllowUserLimitedChannels: true,
			}),
			Namespaces: append([]Namespace{
				{Name: "public", ChannelOptions: withHistory(ChannelOptions{
					AllowSubscribeForClient: true, AllowSubscribeForAnonymous: true, AllowUserLimitedChannels: true,
					AllowPublishForClient: true, AllowPublishForAnonymous: true,
					AllowPresenceForClient: true, AllowPresenceForAnonymous: true,
					AllowHistoryForClient: true, AllowHistoryForAnonymous: true,
					Presence: true,
				})},
				{Name: "closed"},
				{Name: "stream", ChannelOptions: withHistory(ChannelOptions{
					AllowSubscribeForClient: true, AllowPositioning: true, AllowRecovery: true,
				})},
				{Name: "forced", ChannelOptions: withHistory(ChannelOptions{AllowSubscribeForClient: true, ForceRecovery: true})},
				{Name: "cache", ChannelOptions: withHistory(ChannelOptions{
					AllowSubscribeForClient: true, ForceRecovery: true, ForceRecoveryMode: "cache",
				})},
				{Name: "jl", ChannelOptions: ChannelOptions{
					AllowSubscribeForClient: true, AllowPresenceForClient: true,
					Presence: true, JoinLeave: true, ForcePushJoinLeave: true,
				}},
				{Name: "proxied", ChannelOptions: withHistory(ChannelOptions{
					ProxySubscribe: true, ProxyPublish: true, ProxySubRefresh: true,
					SubscribeProxy: p, PublishProxy: p, SubRefreshProxy: p,
				})},
				{Name: "unproxied", ChannelOptions: ChannelOptions{ProxySubscribe: true, ProxyPublish: true}},
				{Name: "strict", ChannelOptions: ChannelOptions{AllowSubscribeForClient: true, ChannelRegex: `^[a-z0-9]+$`}},
				{Name: "nohistory", ChannelOptions: ChannelOptions{
					AllowSubscribeForClient: true, AllowHistoryForClient: true, AllowPositioning: true,
				}},
			}, mapNamespaces(p)...),
		},
		RPC: RPCConfig{
			Ping: true, PingMethod: "ping",
			Namespaces: []RPCNamespace{{Name: "app", Proxy: p}, {Name: "dead"}},
		},
		RPCProxy: p,
	}
}

// newHubEnv builds and runs a node from testConfig changed by mutate (the
// one place hub tests construct configuration). The node is shut down
// when the test ends.
func newHubEnv(t testing.TB, mutate ...func(cfg *Config, p *Proxy)) *hubEnv {
	t.Helper()
	b := &fakeBackend{}
	p := &Proxy{Name: "fake", Endpoint: "fake://backend", Timeout: time.Second, Backend: b}
	cfg := testConfig(p)
	for _, m := range mutate {
		m(&cfg, p)
	}
	connTok, err := auth.NewVerifier(auth.TokenConfig{HMACSecretKey: testSecret}, auth.Options{})
	if err != nil {
		t.Fatalf("connect token verifier: %v", err)
	}
	subTok, err := auth.NewVerifier(auth.TokenConfig{HMACSecretKey: testSubSecret}, auth.Options{})
	if err != nil {
		t.Fatalf("subscribe token verifier: %v", err)
	}
	eng := &hookEngine{Engine: memory.New(memory.Options{})}
	// Maps live in a memory engine of their own, as with
	// map_broker.type memory beside a Redis engine.
	maps := memory.New(memory.Options{SweepInterval: 50 * time.Millisecond})
	n, err := New(cfg, Options{
		Engine:        eng,
		MapBroker:     maps,
		ConnectTokens: connTok,
		SubTokens:     subTok,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	if err := n.Run(); err != nil {
		t.Fatalf("run node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &hubEnv{t: t, node: n, engine: eng, maps: maps, backend: b, proxy: p}
}

// setVerifiers replaces the node's token verifiers the way a reload does,
// keeping the rest of its configuration.
func (e *hubEnv) setVerifiers(t *testing.T, conn, sub TokenVerifier) {
	t.Helper()
	if err := e.node.Reconfigure(e.node.settings().cfg, conn, sub); err != nil {
		t.Fatalf("reconfigure: %v", err)
	}
}

// connToken mints a connection token for user; extra claims override.
func connToken(t testing.TB, user string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	tok, err := auth.GenerateConnectToken(testSecret, user, ttl, extra)
	if err != nil {
		t.Fatalf("connection token: %v", err)
	}
	return tok
}

// subToken mints a subscription token for user and channel.
func subToken(t testing.TB, user, ch string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	tok, err := auth.GenerateSubscribeToken(testSubSecret, user, ch, ttl, extra)
	if err != nil {
		t.Fatalf("subscription token: %v", err)
	}
	return tok
}

// testClient is one connection driven the way an SDK drives it: frames
// in through HandleFrame, replies and pushes out through the fake
// transport.
type testClient struct {
	t        testing.TB
	env      *hubEnv
	c        *Client
	tr       *fakeTransport
	lastID   uint32
	pushRead int // replies already looked at by nextPush
}

// newClient attaches a fresh, not yet connected transport.
// Its failures are reported on t, the (sub)test that uses it.
func (e *hubEnv) newClient(t testing.TB, pt protocol.Type) *testClient {
	t.Helper()
	tr := newFakeTransport(pt)
	c, err := e.node.NewClient(tr, RequestInfo{RemoteAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return &testClient{t: t, env: e, c: c, tr: tr}
}

// connect opens a Protobuf connection with token ("" for none) and
// fails the test unless the connect succeeds.
func (e *hubEnv) connect(t testing.TB, token string) *testClient {
	t.Helper()
	tc := e.newClient(t, protocol.TypeProtobuf)
	tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: token}})
	return tc
}

// connectUser connects user with a token that never expires.
func (e *hubEnv) connectUser(t testing.TB, user string) *testClient {
	t.Helper()
	return e.connect(t, connToken(t, user, 0, nil))
}

// send delivers one frame of commands; false means the node ended the
// session.
func (tc *testClient) send(cmds ...*clientpb.Command) bool {
	return tc.c.HandleFrame(encodeFrame(tc.tr.proto, cmds...))
}

// call sends cmd with the next id and returns its reply.
func (tc *testClient) call(cmd *clientpb.Command) *clientpb.Reply {
	tc.t.Helper()
	tc.lastID++
	cmd.Id = tc.lastID
	if !tc.send(cmd) {
		code := tc.tr.waitClosed(tc.t)
		tc.t.Fatalf("command %v closed the connection with %d", cmd, code)
	}
	return tc.reply(cmd.Id)
}

// reply waits for the reply to command id.
func (tc *testClient) reply(id uint32) *clientpb.Reply {
	tc.t.Helper()
	var got *clientpb.Reply
	tc.tr.waitUntil(tc.t, "reply to command "+strconv.FormatUint(uint64(id), 10), func() bool {
		for _, r := range tc.tr.replies {
			if r.Id == id {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// ok calls cmd and fails the test on an error reply.
func (tc *testClient) ok(cmd *clientpb.Command) *clientpb.Reply {
	tc.t.Helper()
	r := tc.call(cmd)
	if r.Error != nil {
		tc.t.Fatalf("command %v: error %d %s", cmd, r.Error.Code, r.Error.Message)
	}
	return r
}

// errCode calls cmd and returns the error code of its reply, failing the
// test if it succeeded.
func (tc *testClient) errCode(cmd *clientpb.Command) uint32 {
	tc.t.Helper()
	r := tc.call(cmd)
	if r.Error == nil {
		tc.t.Fatalf("command %v succeeded: %v", cmd, r)
	}
	return r.Error.Code
}

// disconnectCode sends cmd, expects the node to end the session, and
// returns the close code the client got. A connected client's commands run
// off the reader, so the session may end after HandleFrame returned; the
// close is what the client sees either way.
func (tc *testClient) disconnectCode(cmd *clientpb.Command) int {
	tc.t.Helper()
	tc.lastID++
	cmd.Id = tc.lastID
	tc.send(cmd)
	code := tc.tr.waitClosed(tc.t)
	for _, r := range tc.tr.allReplies() {
		if r.Id == cmd.Id {
			tc.t.Fatalf("command %v was answered (%v) instead of ending the session", cmd, r)
		}
	}
	return code
}

// nextPush waits for the next push after those already read.
func (tc *testClient) nextPush() *clientpb.Push {
	tc.t.Helper()
	var got *clientpb.Push
	tc.tr.waitUntil(tc.t, "a push", func() bool {
		for ; tc.pushRead < len(tc.tr.replies); tc.pushRead++ {
			if p := tc.tr.replies[tc.pushRead].Push; p != nil {
				got = p
				tc.pushRead++
				return true
			}
		}
		return false
	})
	return got
}

// waitPush skips pushes until one satisfies match.
func (tc *testClient) waitPush(what string, match func(*clientpb.Push) bool) *clientpb.Push {
	tc.t.Helper()
	var got *clientpb.Push
	tc.tr.waitUntil(tc.t, what, func() bool {
		for ; tc.pushRead < len(tc.tr.replies); tc.pushRead++ {
			if p := tc.tr.replies[tc.pushRead].Push; p != nil && match(p) {
				got = p
				tc.pushRead++
				return true
			}
		}
		return false
	})
	return got
}

// pubs returns the data of the publication pushes received so far on ch,
// in order.
func (tc *testClient) pubs(ch string) []string {
	var out []string
	for _, r := range tc.tr.allReplies() {
		if r.Push != nil && r.Push.Channel == ch && r.Push.Pub != nil {
			out = append(out, string(r.Push.Pub.Data))
		}
	}
	return out
}

// eventually polls cond until it holds or waitTimeout passes; for state
// no client frame announces (a registry emptied, a backend called).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Commands an SDK sends, shortened.
func subCmd(ch string) *clientpb.Command {
	return &clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: ch}}
}

func pubCmd(ch, data string) *clientpb.Command {
	return &clientpb.Command{Publish: &clientpb.PublishRequest{Channel: ch, Data: []byte(data)}}
}

func rpcCmd(method, data string) *clientpb.Command {
	var d []byte
	if data != "" {
		d = []byte(data)
	}
	return &clientpb.Command{Rpc: &clientpb.RPCRequest{Method: method, Data: d}}
}

// errNoHandler is what the fake backend answers for events a test did not
// script: a failed call, which clients see as a temporary error.
var errNoHandler = errors.New("fake backend: no handler for this event")

// fakeBackend answers proxied events with the functions a test sets and
// records every request. Unset functions fail the call.
type fakeBackend struct {
	mu         sync.Mutex
	connect    func(*proxypb.ConnectRequest) (*proxypb.ConnectResponse, error)
	refresh    func(*proxypb.RefreshRequest) (*proxypb.RefreshResponse, error)
	subscribe  func(*proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error)
	publish    func(*proxypb.PublishRequest) (*proxypb.PublishResponse, error)
	rpc        func(*proxypb.RPCRequest) (*proxypb.RPCResponse, error)
	subRefresh func(*proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error)
	mapPublish func(*proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error)
	sharedPoll func(*proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error)
	mapRemove  func(*proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error)
	calls      []any
	// mapDeadline is the deadline the last map proxy call came with, so
	// tests see that the node bounds those calls by the proxy's timeout.
	mapDeadline time.Time
}

// set changes the handlers under the backend's lock, so a test may script
// it while timers of the node call it.
func (b *fakeBackend) set(f func(b *fakeBackend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// requests returns the recorded requests of type T.
func requests[T any](b *fakeBackend) []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []T
	for _, c := range b.calls {
		if r, ok := c.(T); ok {
			out = append(out, r)
		}
	}
	return out
}

func call[Req, Resp any](b *fakeBackend, req Req, f *func(Req) (Resp, error)) (Resp, error) {
	b.mu.Lock()
	b.calls = append(b.calls, req)
	h := *f
	b.mu.Unlock()
	if h == nil {
		var zero Resp
		return zero, errNoHandler
	}
	return h(req)
}

func (b *fakeBackend) Connect(_ context.Context, r *proxypb.ConnectRequest) (*proxypb.ConnectResponse, error) {
	return call(b, r, &b.connect)
}

func (b *fakeBackend) Refresh(_ context.Context, r *proxypb.RefreshRequest) (*proxypb.RefreshResponse, error) {
	return call(b, r, &b.refresh)
}

func (b *fakeBackend) Subscribe(_ context.Context, r *proxypb.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	return call(b, r, &b.subscribe)
}

func (b *fakeBackend) Publish(_ context.Context, r *proxypb.PublishRequest) (*proxypb.PublishResponse, error) {
	return call(b, r, &b.publish)
}

func (b *fakeBackend) RPC(_ context.Context, r *proxypb.RPCRequest) (*proxypb.RPCResponse, error) {
	return call(b, r, &b.rpc)
}

func (b *fakeBackend) SubRefresh(_ context.Context, r *proxypb.SubRefreshRequest) (*proxypb.SubRefreshResponse, error) {
	return call(b, r, &b.subRefresh)
}

func (b *fakeBackend) SharedPollRefresh(ctx context.Context, r *proxypb.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	b.noteDeadline(ctx)
	return call(b, r, &b.sharedPoll)
}

func (b *fakeBackend) MapPublish(ctx context.Context, r *proxypb.MapPublishRequest) (*proxypb.MapPublishResponse, error) {
	b.noteDeadline(ctx)
	return call(b, r, &b.mapPublish)
}

func (b *fakeBackend) MapRemove(ctx context.Context, r *proxypb.MapRemoveRequest) (*proxypb.MapRemoveResponse, error) {
	b.noteDeadline(ctx)
	return call(b, r, &b.mapRemove)
}

func (b *fakeBackend) noteDeadline(ctx context.Context) {
	d, _ := ctx.Deadline()
	b.mu.Lock()
	b.mapDeadline = d
	b.mu.Unlock()
}

// hookEngine is the memory engine with seams for what it cannot do on its
// own: hold a history read (to let publications race a subscribe), lose a
// publication on its way to the node (a broken broker link), fail.
type hookEngine struct {
	engine.Engine

	mu            sync.Mutex
	beforeHistory func(ch string)
	afterHistory  func(ch string)
	// beforeRemovePresence runs unsynchronised with the node: a test may
	// stall the caller there without ordering its later memory accesses.
	beforeRemovePresence func(ch string)
	dropPub              func(ch string, pub *engine.Publication) bool
	subscribeErr         error

	subscribeCalls atomic.Int64
}

func (h *hookEngine) hooks() (func(string), func(string, *engine.Publication) bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.beforeHistory, h.dropPub, h.subscribeErr
}

func (h *hookEngine) setHooks(f func(h *hookEngine)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *hookEngine) Run(eh engine.EventHandler) error {
	return h.Engine.Run(&hookHandler{EventHandler: eh, e: h})
}

func (h *hookEngine) Subscribe(ch string) error {
	h.subscribeCalls.Add(1)
	if _, _, err := h.hooks(); err != nil {
		return err
	}
	return h.Engine.Subscribe(ch)
}

func (h *hookEngine) History(ctx context.Context, ch string, o engine.HistoryOptions) ([]*engine.Publication, engine.StreamPosition, error) {
	if before, _, _ := h.hooks(); before != nil {
		before(ch)
	}
	pubs, top, err := h.Engine.History(ctx, ch, o)
	h.mu.Lock()
	after := h.afterHistory
	h.mu.Unlock()
	if after != nil {
		after(ch)
	}
	return pubs, top, err
}

func (h *hookEngine) RemovePresence(ctx context.Context, ch, client, user string) error {
	h.mu.Lock()
	before := h.beforeRemovePresence
	h.mu.Unlock()
	if before != nil {
		before(ch)
	}
	return h.Engine.RemovePresence(ctx, ch, client, user)
}

type hookHandler struct {
	engine.EventHandler
	e *hookEngine
}

func (h *hookHandler) HandlePublication(ch string, pub *engine.Publication, sp engine.StreamPosition) error {
	if _, drop, _ := h.e.hooks(); drop != nil && drop(ch, pub) {
		return nil
	}
	return h.EventHandler.HandlePublication(ch, pub, sp)
}
