package node

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/engine/memory"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// fakeStream is an emulated transport (HTTP-streaming or SSE) as the hub
// sees one: it gets a session, and it frames replies itself, so the node
// hands it the queued replies one by one instead of a joined frame.
type fakeStream struct {
	*fakeTransport
	bmu     sync.Mutex
	batches [][][]byte
}

func newFakeStream(pt protocol.Type) *fakeStream {
	f := &fakeStream{fakeTransport: newFakeTransport(pt)}
	f.name = "http_stream"
	return f
}

func (f *fakeStream) Emulated() bool { return true }

func (f *fakeStream) WriteBatch(items [][]byte) error {
	f.bmu.Lock()
	batch := make([][]byte, len(items))
	for i, it := range items {
		batch[i] = bytes.Clone(it)
	}
	f.batches = append(f.batches, batch)
	f.bmu.Unlock()
	var frame []byte
	for i, it := range items {
		if i > 0 && f.proto == protocol.TypeJSON {
			frame = append(frame, '\n')
		}
		frame = append(frame, it...)
	}
	return f.Write(frame)
}

func (e *hubEnv) newStreamClient(t *testing.T, pt protocol.Type) (*testClient, *fakeStream) {
	t.Helper()
	tr := newFakeStream(pt)
	c, err := e.node.NewClient(tr, RequestInfo{RemoteAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return &testClient{t: t, env: e, c: c, tr: tr.fakeTransport}, tr
}

func TestEmulatedConnectNamesSessionAndNode(t *testing.T) {
	env := newHubEnv(t)
	for _, pt := range []protocol.Type{protocol.TypeJSON, protocol.TypeProtobuf} {
		t.Run(string(pt), func(t *testing.T) {
			tc, _ := env.newStreamClient(t, pt)
			res := tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}}).Connect
			if len(res.Session) != 36 || res.Node != env.node.id {
				t.Fatalf("connect result session %q node %q, want a UUID and %q", res.Session, res.Node, env.node.id)
			}
			if res.Session == res.Client {
				t.Error("session must not be the client id: it addresses the stream, not the connection")
			}
		})
	}
	ws := env.connectUser(t, "bob")
	if r := ws.tr.allReplies()[0].Connect; r.Session != "" || r.Node != "" {
		t.Errorf("a WebSocket connect result names session %q node %q; only emulated transports get them", r.Session, r.Node)
	}
}

func TestEmulateDeliversToTheSession(t *testing.T) {
	env := newHubEnv(t)
	tc, stream := env.newStreamClient(t, protocol.TypeJSON)
	session := tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}}).Connect.Session
	other, _ := env.newStreamClient(t, protocol.TypeJSON)
	other.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "bob", 0, nil)}})

	frame := encodeFrame(protocol.TypeJSON,
		&clientpb.Command{Id: 7, Subscribe: &clientpb.SubscribeRequest{Channel: "news"}},
		&clientpb.Command{Id: 8, Rpc: &clientpb.RPCRequest{Method: "ping"}})
	if err := env.node.Emulate(t.Context(), env.node.id, session, frame); err != nil {
		t.Fatalf("Emulate: %v", err)
	}
	if r := tc.reply(7); r.Error != nil || r.Subscribe == nil {
		t.Fatalf("subscribe through emulation: %v", r)
	}
	tc.reply(8)
	for _, r := range other.tr.allReplies() {
		if r.Id == 7 || r.Id == 8 {
			t.Fatalf("another session got reply %v", r)
		}
	}
	// Each reply reached the stream as an item of its own.
	stream.bmu.Lock()
	for _, b := range stream.batches {
		for _, it := range b {
			if bytes.Contains(it, []byte("\n")) {
				t.Errorf("a batch item holds several replies: %q", it)
			}
		}
	}
	stream.bmu.Unlock()
}

func TestEmulateUnknownNodeAndGoneSession(t *testing.T) {
	env := newHubEnv(t)
	tc, _ := env.newStreamClient(t, protocol.TypeJSON)
	session := tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}}).Connect.Session
	ping := encodeFrame(protocol.TypeJSON, &clientpb.Command{Id: 9, Rpc: &clientpb.RPCRequest{Method: "ping"}})

	if err := env.node.Emulate(t.Context(), "no-such-node", session, ping); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("Emulate to an unknown node = %v, want ErrUnknownNode", err)
	}
	if err := env.node.Emulate(t.Context(), env.node.id, "no-such-session", ping); err != nil {
		t.Fatalf("Emulate to a gone session = %v, want nil (the stream has ended; the client reconnects)", err)
	}
	tc.c.Disconnect(DisconnectForceNoReconnect)
	tc.tr.waitClosed(t)
	if env.node.sessions.get(session) != nil {
		t.Fatal("a closed connection's session is still indexed")
	}
	if err := env.node.Emulate(t.Context(), env.node.id, session, ping); err != nil {
		t.Fatalf("Emulate after close = %v", err)
	}
}

// A request that reaches another node travels as a control message to the
// node holding the session, which runs it there.
func TestEmulateThroughAnotherNode(t *testing.T) {
	holder := newHubEnv(t)
	tc, _ := holder.newStreamClient(t, protocol.TypeJSON)
	session := tc.ok(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: connToken(t, "alice", 0, nil)}}).Connect.Session

	tap := &tapEngine{Engine: memory.New(memory.Options{}), peer: holder.node}
	front, err := New(Config{Name: "front"}, Options{Engine: tap, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := front.Emulate(t.Context(), holder.node.id, session, []byte(`{}`)); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("before the holder announced itself: %v, want ErrUnknownNode", err)
	}
	front.nodes.update(holder.node.nodes.self())
	frame := encodeFrame(protocol.TypeJSON, &clientpb.Command{Id: 5, Subscribe: &clientpb.SubscribeRequest{Channel: "far"}})
	if err := front.Emulate(t.Context(), holder.node.id, session, frame); err != nil {
		t.Fatalf("Emulate through the front node: %v", err)
	}
	if r := tc.reply(5); r.Subscribe == nil {
		t.Fatalf("subscribe through another node: %v", r)
	}
}
