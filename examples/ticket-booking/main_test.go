package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spindle-rt/spindle/demo"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/wiring/server"
)

// The two files describe one deployment: the server's proxy endpoints
// must be where the app listens, the app's API address where the server
// serves it, with the same key.
func TestConfigsAgree(t *testing.T) {
	srv, warnings, err := config.Load(config.LoadOptions{File: "config.json"})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("config.json: %v %v", err, warnings)
	}
	rr, warnings, err := config.LoadApp(".rr.yaml", nil)
	if err != nil || len(warnings) > 0 {
		t.Fatalf(".rr.yaml: %v %v", err, warnings)
	}
	proxyAddr := strings.TrimPrefix(rr.Centrifuge.ProxyAddress, "tcp://")
	for name, p := range map[string]*config.Proxy{"connect": srv.Proxy.Connect, "rpc": srv.Proxy.RPC, "subscribe": srv.Channel.WithoutNamespace.SubscribeProxy} {
		if p == nil || strings.TrimPrefix(p.Endpoint, "grpc://") != proxyAddr {
			t.Errorf("%s proxy %+v does not point at proxy_address %s", name, p, proxyAddr)
		}
	}
	api := net.JoinHostPort(srv.GRPCAPI.Address, strconv.Itoa(srv.GRPCAPI.Port))
	if !srv.GRPCAPI.Enabled || api != rr.Centrifuge.GRPCAPIAddress || srv.GRPCAPI.Key != rr.Centrifuge.GRPCAPIKey {
		t.Errorf("server API %s key %q, app dials %s key %q", api, srv.GRPCAPI.Key, rr.Centrifuge.GRPCAPIAddress, rr.Centrifuge.GRPCAPIKey)
	}
	if !srv.Channel.WithoutNamespace.AllowUserLimitedChannels || !srv.Channel.WithoutNamespace.ForceRecovery {
		t.Error("user-limited channels and recovery must be on")
	}
}

// TestSeparateProcesses runs the real server (from config.json, on free
// ports) and this program's run() side by side, talking gRPC both ways:
// server → app for connect/subscribe/RPC, app → server API for events.
func TestSeparateProcesses(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	proxyPort := freePort(t)
	cfg, _, err := config.Load(config.LoadOptions{File: "config.json"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Port, cfg.GRPCAPI.Port = 0, 0
	endpoint := "grpc://127.0.0.1:" + strconv.Itoa(proxyPort)
	cfg.Proxy.Connect.Endpoint, cfg.Proxy.RPC.Endpoint = endpoint, endpoint
	cfg.Channel.WithoutNamespace.SubscribeProxy.Endpoint = endpoint
	srv, err := server.New(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ctx) }()

	pageAddr := make(chan net.Addr, 1)
	appDone := make(chan error, 1)
	go func() {
		appDone <- run(ctx, options{
			ProxyAddress: "127.0.0.1:" + strconv.Itoa(proxyPort),
			APIAddress:   srv.GRPCAddr(),
			APIKey:       cfg.GRPCAPI.Key,
			APITimeout:   2 * time.Second,
			HTTPAddress:  "127.0.0.1:0",
			WebSocketURL: "ws://" + srv.HTTPAddr() + "/connection/websocket",
			ready:        func(_, http net.Addr) { pageAddr <- http },
		}, quiet)
	}()
	t.Cleanup(func() {
		cancel()
		for _, ch := range []chan error{srvDone, appDone} {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Error("a process did not stop")
			}
		}
	})
	var page string
	select {
	case a := <-pageAddr:
		page = "http://" + a.String() + "/"
	case err := <-appDone:
		t.Fatalf("app stopped: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("app did not start")
	}

	var wsCfg map[string]string
	getJSON(t, page+"demo/config", &wsCfg)
	if wsCfg["websocket"] != "ws://"+srv.HTTPAddr()+"/connection/websocket" {
		t.Fatalf("page is told %v", wsCfg)
	}
	var session demo.LoginReply
	resp, err := http.Post(page+"demo/login", "application/json", strings.NewReader(`{"name":"Ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()

	conn, _, err := (&websocket.Dialer{HandshakeTimeout: 3 * time.Second}).Dial(wsCfg["websocket"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &protoConn{t: t, conn: conn}
	connected := c.call(1, "connect", map[string]any{"data": map[string]string{"authToken": session.Token}})
	if !bytes.Contains(connected, []byte(`"user":"ann"`)) {
		t.Fatalf("connect reply %s", connected)
	}
	c.call(2, "subscribe", map[string]any{"channel": "screening.1"})
	c.call(3, "subscribe", map[string]any{"channel": "user#ann"})
	var sched struct {
		Screenings []demo.ScreeningInfo `json:"screenings"`
	}
	var rpcRes struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(c.call(4, "rpc", map[string]any{"method": demo.MethodSchedule}), &rpcRes)
	_ = json.Unmarshal(rpcRes.Data, &sched)
	if len(sched.Screenings) == 0 {
		t.Fatalf("schedule %s", rpcRes.Data)
	}
	var scr demo.ScreeningReply
	_ = json.Unmarshal(c.call(5, "rpc", map[string]any{"method": demo.MethodScreening, "data": map[string]string{"id": "1"}}), &rpcRes)
	_ = json.Unmarshal(rpcRes.Data, &scr)
	seat := ""
	for _, s := range scr.Seats {
		if s.State == demo.SeatFree {
			seat = s.ID
			break
		}
	}
	args := map[string]string{"screening": "1", "seat": seat}
	c.call(6, "rpc", map[string]any{"method": demo.MethodReserve, "data": args})
	if ev := c.publication("screening.1"); !strings.Contains(ev, `"event":"seat.reserved"`) || !strings.Contains(ev, `"id":"`+seat+`"`) {
		t.Fatalf("screening.1 got %s", ev)
	}
	c.call(7, "rpc", map[string]any{"method": demo.MethodBuy, "data": args})
	if ev := c.publication("user#ann"); !strings.Contains(ev, `"event":"ticket.bought"`) {
		t.Fatalf("user#ann got %s", ev)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// protoConn is a minimal client-protocol v2 JSON client: one command at a
// time, pushes kept for publication().
type protoConn struct {
	t      *testing.T
	conn   *websocket.Conn
	queue  []map[string]json.RawMessage // read, not yet handed out
	pushes []map[string]json.RawMessage // pushes not yet consumed
}

// next reads one message (reply or push), answering server pings on the
// way; a frame may batch several messages.
func (c *protoConn) next() map[string]json.RawMessage {
	c.t.Helper()
	for len(c.queue) == 0 {
		_ = c.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var msg map[string]json.RawMessage
			if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &msg) != nil {
				continue
			}
			if len(msg) == 0 {
				_ = c.conn.WriteMessage(websocket.TextMessage, []byte("{}"))
				continue
			}
			c.queue = append(c.queue, msg)
		}
	}
	msg := c.queue[0]
	c.queue = c.queue[1:]
	return msg
}

// call sends one command and returns its result, keeping pushes that
// arrive before the reply.
func (c *protoConn) call(id int, key string, body any) json.RawMessage {
	c.t.Helper()
	cmd, _ := json.Marshal(map[string]any{"id": id, key: body})
	if err := c.conn.WriteMessage(websocket.TextMessage, cmd); err != nil {
		c.t.Fatal(err)
	}
	for {
		msg := c.next()
		if _, isReply := msg["id"]; !isReply {
			c.pushes = append(c.pushes, msg)
			continue
		}
		if e, ok := msg["error"]; ok {
			c.t.Fatalf("%s: error %s", cmd, e)
		}
		return msg[key]
	}
}

// publication returns the data of the next publication on channel.
func (c *protoConn) publication(channel string) string {
	c.t.Helper()
	for {
		for i, msg := range c.pushes {
			var push struct {
				Channel string `json:"channel"`
				Pub     *struct {
					Data json.RawMessage `json:"data"`
				} `json:"pub"`
			}
			if json.Unmarshal(msg["push"], &push) == nil && push.Channel == channel && push.Pub != nil {
				c.pushes = append(c.pushes[:i], c.pushes[i+1:]...)
				return string(push.Pub.Data)
			}
		}
		c.pushes = append(c.pushes, c.next())
	}
}
