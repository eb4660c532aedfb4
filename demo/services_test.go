package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// newTestApp wires a demo into an App the way `spindle dev` does and
// returns both; calls go through app.App's proxy.Backend methods, so the
// interceptors run exactly as for a real server.
func newTestApp(t *testing.T) (*Demo, *app.App, *recorder, *bytes.Buffer) {
	t.Helper()
	rec := &recorder{}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(Options{Publisher: rec, Secret: []byte("test"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Options{Logger: log})
	d.Register(a)
	return d, a, rec, logs
}

func connectAs(t *testing.T, a *app.App, data string) (*proxypb.ConnectResponse, ConnectInfo) {
	t.Helper()
	resp, err := a.Connect(context.Background(), &proxypb.ConnectRequest{Client: "c1", Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	var info ConnectInfo
	if resp.GetResult() != nil {
		if err := json.Unmarshal(resp.GetResult().GetData(), &info); err != nil {
			t.Fatalf("connect data %q: %v", resp.GetResult().GetData(), err)
		}
	}
	return resp, info
}

func TestConnect(t *testing.T) {
	d, a, _, _ := newTestApp(t)
	token, _, _ := d.Tokens.Issue("Ann Lee")
	expiredTokens, _ := NewTokens([]byte("test"), time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _, _ := expiredTokens.Issue("Ann Lee")

	cases := []struct {
		name, data string
		user       string
		state      string
		denied     uint32
	}{
		{"no data", "", "", AuthAnonymous, 0},
		{"empty object", "{}", "", AuthAnonymous, 0},
		{"valid token", `{"authToken":"` + token + `"}`, "ann-lee", AuthSignedIn, 0},
		{"forged token", `{"authToken":"eyJ.abc"}`, "", AuthInvalid, 0},
		{"expired token", `{"authToken":"` + expired + `"}`, "", AuthExpired, 0},
		{"not JSON", `nope`, "", "", CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, info := connectAs(t, a, tc.data)
			if tc.denied != 0 {
				if resp.GetError().GetCode() != tc.denied {
					t.Fatalf("error = %v, want code %d", resp.GetError(), tc.denied)
				}
				return
			}
			if resp.GetResult() == nil {
				t.Fatalf("connect refused: %v", resp)
			}
			if resp.GetResult().GetUser() != tc.user || info.User != tc.user || info.State != tc.state {
				t.Fatalf("user %q info %+v, want user %q state %q", resp.GetResult().GetUser(), info, tc.user, tc.state)
			}
		})
	}
}

func TestSubscribeRules(t *testing.T) {
	_, a, _, _ := newTestApp(t)
	cases := []struct {
		user, channel string
		allowed       bool
		code          uint32
	}{
		{"", "screening.1", true, 0},
		{"ann", "screening.4", true, 0},
		{"ann", "screening.99", false, CodeNotFound},
		{"ann", "user#ann", true, 0},
		{"ann", "user#bob", false, CodeForbidden},
		{"", "user#", false, CodeForbidden},
		{"", "user#ann", false, CodeForbidden},
		{"ann", "chat", false, CodeForbidden},
	}
	for _, tc := range cases {
		resp, err := a.Subscribe(context.Background(), &proxypb.SubscribeRequest{User: tc.user, Channel: tc.channel})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetResult() != nil; got != tc.allowed || resp.GetError().GetCode() != tc.code {
			t.Errorf("user %q → %s: result=%v error=%v, want allowed=%v code %d", tc.user, tc.channel, got, resp.GetError(), tc.allowed, tc.code)
		}
	}
}

func rpc(t *testing.T, a *app.App, user, method string, args any) *proxypb.RPCResponse {
	t.Helper()
	data, _ := json.Marshal(args)
	resp, err := a.RPC(context.Background(), &proxypb.RPCRequest{User: user, Method: method, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRPCBooking(t *testing.T) {
	d, a, rec, _ := newTestApp(t)
	_, seats, _ := d.Cinema.Screening("1")
	var free string
	for _, s := range seats {
		if s.State == SeatFree {
			free = s.ID
			break
		}
	}
	seat := map[string]string{"screening": "1", "seat": free}

	if code := rpc(t, a, "", MethodReserve, seat).GetError().GetCode(); code != CodeSignIn {
		t.Fatalf("anonymous reserve: code %d, want %d", code, CodeSignIn)
	}
	resp := rpc(t, a, "ann", MethodReserve, seat)
	var got SeatReply
	if err := json.Unmarshal(resp.GetResult().GetData(), &got); err != nil || got.Seat.State != SeatReserved || got.Seat.User != "ann" {
		t.Fatalf("reserve reply %v (%v)", resp, err)
	}
	if code := rpc(t, a, "bob", MethodReserve, seat).GetError().GetCode(); code != CodeConflict {
		t.Fatalf("bob reserving ann's seat: code %d, want %d", code, CodeConflict)
	}
	if code := rpc(t, a, "bob", MethodCancel, seat).GetError().GetCode(); code != CodeForbidden {
		t.Fatalf("bob cancelling ann's seat: code %d, want %d", code, CodeForbidden)
	}
	if e := rpc(t, a, "ann", MethodBuy, seat).GetError(); e != nil {
		t.Fatalf("buy: %v", e)
	}
	var tickets struct{ Tickets []Ticket }
	_ = json.Unmarshal(rpc(t, a, "ann", MethodTickets, nil).GetResult().GetData(), &tickets)
	if len(tickets.Tickets) != 1 || tickets.Tickets[0].Seat.ID != free || tickets.Tickets[0].State != SeatSold {
		t.Fatalf("tickets = %+v", tickets)
	}
	if code := rpc(t, a, "", MethodTickets, nil).GetError().GetCode(); code != CodeSignIn {
		t.Fatalf("anonymous tickets: code %d", code)
	}
	if n := len(rec.all()); n != 3 { // reserved, sold, ticket.bought
		t.Fatalf("%d events published, want 3", n)
	}
}

func TestRPCReadsAndBadInput(t *testing.T) {
	_, a, _, _ := newTestApp(t)
	var sched struct{ Screenings []ScreeningInfo }
	if err := json.Unmarshal(rpc(t, a, "", MethodSchedule, nil).GetResult().GetData(), &sched); err != nil || len(sched.Screenings) != len(DefaultProgramme) {
		t.Fatalf("schedule: %+v %v", sched, err)
	}
	var scr ScreeningReply
	if err := json.Unmarshal(rpc(t, a, "", MethodScreening, map[string]string{"id": "2"}).GetResult().GetData(), &scr); err != nil ||
		scr.Screening.ID != "2" || len(scr.Seats) != DefaultRows*DefaultCols || scr.ServerTime == 0 {
		t.Fatalf("screening: %+v %v", scr.Screening, err)
	}
	cases := []struct {
		user, method, data string
		code               uint32
	}{
		{"", MethodScreening, `{"id":"77"}`, CodeNotFound},
		{"", MethodScreening, `[1,2]`, CodeBadRequest},
		{"ann", MethodReserve, `"A1"`, CodeBadRequest},
		{"ann", MethodReserve, `{"screening":"1","seat":"Q99"}`, CodeNotFound},
		{"ann", "cinema.nothing", `{}`, app.CodeMethodNotFound},
	}
	for _, tc := range cases {
		resp, err := a.RPC(context.Background(), &proxypb.RPCRequest{User: tc.user, Method: tc.method, Data: []byte(tc.data)})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetError().GetCode() != tc.code {
			t.Errorf("%s %s: error %v, want code %d", tc.method, tc.data, resp.GetError(), tc.code)
		}
	}
}

// The timing interceptor sees every event, including those the auth
// interceptor or a service refuses, and logs them at debug level.
func TestInterceptorsRunOnEveryEvent(t *testing.T) {
	d, a, _, logs := newTestApp(t)
	connectAs(t, a, "nope")
	connectAs(t, a, "{}")
	_, _ = a.Subscribe(context.Background(), &proxypb.SubscribeRequest{User: "ann", Channel: "user#bob"})
	rpc(t, a, "", MethodSchedule, nil)
	rpc(t, a, "", MethodReserve, map[string]string{"screening": "1", "seat": "A1"})
	// No refresh service: the App answers 108, still through the interceptors.
	_, _ = a.Refresh(context.Background(), &proxypb.RefreshRequest{User: "ann"})

	want := map[string]int64{"connect": 2, "subscribe": 1, "rpc": 2, "refresh": 1}
	got := d.Stats()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stats[%s] = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	for _, s := range []string{"detail=user#bob", "outcome=\"permission denied\"", "detail=cinema.reserve", "outcome=\"sign in to book seats\""} {
		if !bytes.Contains(logs.Bytes(), []byte(s)) {
			t.Errorf("debug log lacks %s:\n%s", s, logs.String())
		}
	}
}
