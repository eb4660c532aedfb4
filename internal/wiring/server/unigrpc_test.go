package server

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spindle-rt/spindle/internal/realtime/node"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// consume opens CentrifugoUniStream/Consume the way any grpc-go client
// can: by the service's name, with the client protocol's messages.
func consume(t *testing.T, addr string, req *clientpb.ConnectRequest) (grpc.ClientStream, func()) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	desc := &grpc.StreamDesc{StreamName: "Consume", ServerStreams: true}
	st, err := cc.NewStream(ctx, desc, "/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(req); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	return st, func() { cancel(); cc.Close() }
}

func recvPush(t *testing.T, st grpc.ClientStream) *clientpb.Push {
	t.Helper()
	p := &clientpb.Push{}
	if err := st.RecvMsg(p); err != nil {
		t.Fatalf("receive push: %v", err)
	}
	return p
}

func TestUniGRPC(t *testing.T) {
	port := freePort(t)
	srv := startServerWith(t, map[string]any{
		"uni_grpc": true, "uni_grpc_address": "127.0.0.1", "uni_grpc_port": port,
		"ping_interval": "2s", "pong_timeout": "1s",
	}, Options{})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "channels": []string{"chat:g"}}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}

	st, done := consume(t, srv.UniGRPCAddr(), &clientpb.ConnectRequest{Token: tok})
	defer done()
	first := recvPush(t, st)
	if first.Connect == nil || first.Connect.Client == "" || first.Connect.Subs["chat:g"] == nil {
		t.Fatalf("first push %v: want the connect push with the chat:g subscription", first)
	}
	if _, err := srv.Node.Publish(context.Background(), "chat:g", []byte(`{"n":1}`), node.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		p := recvPush(t, st)
		if p.Pub == nil {
			continue // a ping: an empty push
		}
		if p.Channel != "chat:g" || string(p.Pub.Data) != `{"n":1}` {
			t.Fatalf("publication push %v", p)
		}
		break
	}
	// Past two ping intervals the stream is still served: no pong is due.
	deadline := time.Now().Add(4500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if p := recvPush(t, st); p.Disconnect != nil {
			t.Fatalf("disconnected %v without a pong to send", p.Disconnect)
		}
	}
	if err := srv.Node.Disconnect(context.Background(), "alice", &node.Disconnect{Code: 4501, Reason: "banned"}, "", nil); err != nil {
		t.Fatal(err)
	}
	for {
		p := recvPush(t, st)
		if p.Disconnect != nil {
			if p.Disconnect.Code != 4501 || p.Disconnect.Reason != "banned" {
				t.Fatalf("disconnect push %v", p.Disconnect)
			}
			break
		}
	}

	bad, done2 := consume(t, srv.UniGRPCAddr(), &clientpb.ConnectRequest{Token: "bad"})
	defer done2()
	if p := recvPush(t, bad); p.Disconnect == nil || p.Disconnect.Code != 3500 {
		t.Fatalf("a bad token: %v, want disconnect 3500", p)
	}
}
