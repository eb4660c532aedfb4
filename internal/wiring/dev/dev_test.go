package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/demo"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// startDev runs a dev server on a free port until the test ends.
func startDev(t *testing.T) *Dev {
	t.Helper()
	d, err := New(Options{Port: 0, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("dev server did not stop")
		}
	})
	return d
}

func login(t *testing.T, base, name string) demo.LoginReply {
	t.Helper()
	resp, err := http.Post(base+"demo/login", "application/json", strings.NewReader(`{"name":"`+name+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r demo.LoginReply
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&r) != nil {
		t.Fatalf("login %s: status %d", name, resp.StatusCode)
	}
	return r
}

// connect opens a JSON connection to the dev server, as the page's SDK
// does (answering pings), and connects with token as the page sends it.
func connect(t *testing.T, d *Dev, token string) (*wstest.Client, demo.ConnectInfo) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(d.URL(), "http") + "connection/websocket"
	c := wstest.Dial(t, url, wstest.Options{AnswerPings: true})
	data := map[string]string{}
	if token != "" {
		data["authToken"] = token
	}
	r := mustCall(t, c, &clientpb.Command{Connect: &clientpb.ConnectRequest{Data: jsonOf(t, data), Name: "go-test"}})
	var info demo.ConnectInfo
	if err := json.Unmarshal(r.GetConnect().GetData(), &info); err != nil {
		t.Fatalf("connect reply %v: %v", r, err)
	}
	return c, info
}

// mustCall is Call that fails the test on an error reply.
func mustCall(t *testing.T, c *wstest.Client, cmd *clientpb.Command) *clientpb.Reply {
	t.Helper()
	r := c.Call(cmd)
	if r.Error != nil {
		t.Fatalf("%v: error %v", cmd, r.Error)
	}
	return r
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publication waits for the next publication on channel and returns its
// data.
func publication(t *testing.T, c *wstest.Client, channel string) map[string]any {
	t.Helper()
	r := c.Next("publication on "+channel, func(r *clientpb.Reply) bool {
		return r.Push != nil && r.Push.Channel == channel && r.Push.Pub != nil
	})
	var data map[string]any
	if err := json.Unmarshal(r.Push.Pub.Data, &data); err != nil {
		t.Fatalf("publication on %s: %s: %v", channel, r.Push.Pub.Data, err)
	}
	return data
}

// subscribe and rpc build the commands the demo page sends.
func subscribe(channel string) *clientpb.Command {
	return &clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: channel}}
}

func rpc(t *testing.T, method string, data map[string]string) *clientpb.Command {
	t.Helper()
	return &clientpb.Command{Rpc: &clientpb.RPCRequest{Method: method, Data: jsonOf(t, data)}}
}

// TestDevEndToEnd drives one process the way the page does: sign in over
// HTTP, connect with the token, subscribe, reserve over RPC, and receive
// the publication — through the node's proxy path into the app's
// interceptors and services.
func TestDevEndToEnd(t *testing.T) {
	d := startDev(t)
	base := d.URL()

	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("/app.js")) {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	// The README promises /health and /metrics in `spindle dev`.
	for _, path := range []string{"health", "metrics"} {
		r, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || (path == "metrics" && !bytes.Contains(body, []byte("spindle_"))) {
			t.Fatalf("GET /%s = %d", path, r.StatusCode)
		}
	}

	ann := login(t, base, "Ann")
	annC, info := connect(t, d, ann.Token)
	if info.User != "ann" || info.State != demo.AuthSignedIn {
		t.Fatalf("ann connected as %+v", info)
	}
	watcher, winfo := connect(t, d, "")
	if winfo.User != "" || winfo.State != demo.AuthAnonymous {
		t.Fatalf("anonymous connected as %+v", winfo)
	}
	forged, finfo := connect(t, d, ann.Token+"x")
	if finfo.User != "" || finfo.State != demo.AuthInvalid {
		t.Fatalf("forged token connected as %+v", finfo)
	}

	for _, c := range []*wstest.Client{annC, watcher} {
		sub := mustCall(t, c, subscribe("screening.1")).Subscribe
		if sub == nil || !sub.Recoverable || sub.Epoch == "" {
			t.Fatalf("screening subscription is not recoverable: %v", sub)
		}
	}
	mustCall(t, annC, subscribe("user#ann"))
	if err := forged.Call(subscribe("user#ann")).Error; err == nil || err.Code != demo.CodeForbidden {
		t.Fatalf("anonymous subscribing to user#ann: %v, want %d", err, demo.CodeForbidden)
	}
	if err := annC.Call(subscribe("user#bob")).Error; err == nil || err.Code != demo.CodeForbidden {
		t.Fatalf("ann subscribing to user#bob: %v, want %d", err, demo.CodeForbidden)
	}

	seat := firstFree(t, d)
	if err := watcher.Call(rpc(t, demo.MethodReserve, map[string]string{"screening": "1", "seat": seat})).Error; err == nil || err.Code != demo.CodeSignIn {
		t.Fatalf("anonymous reserve: %v", err)
	}
	mustCall(t, annC, rpc(t, demo.MethodReserve, map[string]string{"screening": "1", "seat": seat}))
	ev := publication(t, watcher, "screening.1")
	s, _ := ev["seat"].(map[string]any)
	if ev["event"] != demo.EventSeatReserved || s["id"] != seat || ev["user"] != "ann" {
		t.Fatalf("watcher got %v", ev)
	}
	mustCall(t, annC, rpc(t, demo.MethodBuy, map[string]string{"screening": "1", "seat": seat}))
	if ev := publication(t, annC, "user#ann"); ev["event"] != demo.EventTicketBought {
		t.Fatalf("ann's own channel got %v", ev)
	}

	got := d.ResolvedProxies()
	slices.Sort(got)
	if !slices.Equal(got, []string{"connect", "rpc", "shared_poll_refresh", "subscribe"}) {
		t.Fatalf("proxies bound to the app: %v", got)
	}
	stats := d.Demo().Stats()
	// 3 connects; subscribes that reached the app: 2 screening + 2 denied
	// (user#ann's own subscribe is admitted by the server itself).
	if stats["connect"] != 3 || stats["subscribe"] != 4 || stats["rpc"] < 3 {
		t.Fatalf("events seen by the timing interceptor: %v", stats)
	}
}

func firstFree(t *testing.T, d *Dev) string {
	t.Helper()
	_, seats, err := d.Demo().Cinema.Screening("1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seats {
		if s.State == demo.SeatFree {
			return s.ID
		}
	}
	t.Fatal("no free seat")
	return ""
}

func TestConfigJSONLoadsAsPrinted(t *testing.T) {
	d, err := New(Options{Port: 8123, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.cfg
	if cfg.HTTP.Port != 8123 || cfg.HTTP.Address != DefaultAddress {
		t.Fatalf("listen %s:%d", cfg.HTTP.Address, cfg.HTTP.Port)
	}
	for name, p := range map[string]*config.Proxy{"connect": cfg.Proxy.Connect, "rpc": cfg.Proxy.RPC, "subscribe": cfg.Channel.WithoutNamespace.SubscribeProxy} {
		if p == nil || p.Endpoint != DemoProxyEndpoint {
			t.Errorf("%s proxy = %+v", name, p)
		}
	}
	opts := cfg.Channel.WithoutNamespace
	if opts.HistorySize == 0 || opts.HistoryTTL == 0 || !opts.ForceRecovery || !opts.AllowUserLimitedChannels || !opts.ProxySubscribe {
		t.Errorf("channel options %+v", opts)
	}
	if cfg.HTTPAPI.Key == "" {
		t.Error("the HTTP API should get a key")
	}
	var buf bytes.Buffer
	d.PrintBanner(&buf)
	for _, want := range []string{"http://127.0.0.1:8123/", "ws://127.0.0.1:8123/connection/websocket", `"port": 8123`,
		"  API key    " + cfg.HTTPAPI.Key + "   (HTTP API at http://127.0.0.1:8123/api",
		"curl -s -H 'X-API-Key: " + cfg.HTTPAPI.Key + "' -d '{\"channel\":\"news\",\"data\":{\"text\":\"hello\"}}' http://127.0.0.1:8123/api/publish"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestPrintedConfigDrivesTheSeparateDemoApp: the banner says the printed
// config runs spindle server with examples/ticket-booking as its own
// process; the same cross-check `spindle checkconfig --app` runs must find
// nothing wrong with that pair, for the default port.
func TestPrintedConfigDrivesTheSeparateDemoApp(t *testing.T) {
	d, err := New(Options{Port: 8000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rr, _, err := config.LoadApp("../../../examples/ticket-booking/.rr.yaml", nil)
	if err != nil {
		t.Fatalf("load the demo app's .rr.yaml: %v", err)
	}
	problems, _ := config.CrossCheck(d.cfg, rr)
	if len(problems) > 0 {
		t.Fatalf("printed config and examples/ticket-booking/.rr.yaml disagree:\n%s", strings.Join(problems, "\n"))
	}
	if d.cfg.GRPCAPI.Address != "127.0.0.1" {
		t.Errorf("the gRPC API with a published key listens on %q, want loopback", d.cfg.GRPCAPI.Address)
	}
	for _, o := range []string{"http://127.0.0.1:8000", "http://127.0.0.1:8080"} {
		if !slices.Contains(d.cfg.Client.AllowedOrigins, o) {
			t.Errorf("allowed_origins %v lacks %s (the page of the one-process or the two-process demo)", d.cfg.Client.AllowedOrigins, o)
		}
	}
}

func TestAllowedOrigins(t *testing.T) {
	cases := []struct {
		address string
		want    []string
	}{
		{"127.0.0.1", []string{"http://127.0.0.1:8000", "http://localhost:8000"}},
		{"localhost", []string{"http://127.0.0.1:8000", "http://localhost:8000"}},
		{"::1", []string{"http://127.0.0.1:8000", "http://localhost:8000"}},
		{"192.0.2.7", []string{"http://127.0.0.1:8000", "http://localhost:8000", "http://192.0.2.7:8000"}},
		{"0.0.0.0", []string{"*"}},
		{"::", []string{"*"}},
	}
	for _, tc := range cases {
		if got := allowedOrigins(tc.address, 8000); !slices.Equal(got, tc.want) {
			t.Errorf("allowedOrigins(%q) = %v, want %v", tc.address, got, tc.want)
		}
	}
	if got := browseHost("0.0.0.0"); got != "127.0.0.1" {
		t.Errorf("browseHost(0.0.0.0) = %q", got)
	}
}

func TestBadPort(t *testing.T) {
	if _, err := New(Options{Port: 70000}); err == nil {
		t.Fatal("port 70000 accepted")
	}
}
