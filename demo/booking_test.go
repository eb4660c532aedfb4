package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recorder is a Publisher that keeps what was published, in order.
type recorder struct {
	mu   sync.Mutex
	pubs []published
	err  error
}

type published struct {
	Channel string
	Event   map[string]any
}

func (r *recorder) Publish(_ context.Context, ch string, data []byte) error {
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pubs = append(r.pubs, published{ch, ev})
	return r.err
}

func (r *recorder) all() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]published(nil), r.pubs...)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCinema(t *testing.T) (*Cinema, *recorder, *clock) {
	t.Helper()
	rec := &recorder{}
	clk := &clock{t: time.Date(2026, 5, 1, 18, 20, 0, 0, time.UTC)}
	c, err := NewCinema(CinemaOptions{Publisher: rec, Now: clk.now, ReservationTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec, clk
}

// freeSeat returns a seat of screening "1" that is free at start.
func freeSeat(t *testing.T, c *Cinema, skip int) string {
	t.Helper()
	_, seats, err := c.Screening("1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seats {
		if s.State == SeatFree {
			if skip == 0 {
				return s.ID
			}
			skip--
		}
	}
	t.Fatal("no free seat")
	return ""
}

func TestSeatStateMachine(t *testing.T) {
	type step struct {
		op   string // reserve, buy, cancel
		user string
		want error
		// state and holder of the seat afterwards
		state  SeatState
		holder string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"reserve then buy", []step{
			{"reserve", "ann", nil, SeatReserved, "ann"},
			{"buy", "ann", nil, SeatSold, "ann"},
		}},
		{"reserve then cancel frees the seat", []step{
			{"reserve", "ann", nil, SeatReserved, "ann"},
			{"cancel", "ann", nil, SeatFree, ""},
			{"reserve", "bob", nil, SeatReserved, "bob"},
		}},
		{"a reserved seat is taken for others", []step{
			{"reserve", "ann", nil, SeatReserved, "ann"},
			{"reserve", "bob", ErrTaken, SeatReserved, "ann"},
			{"buy", "bob", ErrTaken, SeatReserved, "ann"},
			{"cancel", "bob", ErrNotYours, SeatReserved, "ann"},
		}},
		{"reserving your own seat again", []step{
			{"reserve", "ann", nil, SeatReserved, "ann"},
			{"reserve", "ann", ErrAlreadyHeld, SeatReserved, "ann"},
		}},
		{"buying needs a reservation", []step{
			{"buy", "ann", ErrNotReserved, SeatFree, ""},
		}},
		{"cancel needs your reservation", []step{
			{"cancel", "ann", ErrNotYours, SeatFree, ""},
		}},
		{"a sold seat stays sold", []step{
			{"reserve", "ann", nil, SeatReserved, "ann"},
			{"buy", "ann", nil, SeatSold, "ann"},
			{"buy", "ann", ErrAlreadyHeld, SeatSold, "ann"},
			{"cancel", "ann", ErrNotYours, SeatSold, "ann"},
			{"reserve", "bob", ErrTaken, SeatSold, "ann"},
			{"buy", "bob", ErrTaken, SeatSold, "ann"},
		}},
		{"anonymous visitors only watch", []step{
			{"reserve", "", ErrSignInRequired, SeatFree, ""},
			{"buy", "", ErrSignInRequired, SeatFree, ""},
			{"cancel", "", ErrSignInRequired, SeatFree, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := newTestCinema(t)
			seat := freeSeat(t, c, 0)
			ops := map[string]func(context.Context, string, string, string) (Seat, error){
				"reserve": c.Reserve, "buy": c.Buy, "cancel": c.Cancel,
			}
			var lastRev uint64
			for i, st := range tc.steps {
				_, err := ops[st.op](context.Background(), "1", seat, st.user)
				if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
					t.Fatalf("step %d %s by %q: err %v, want %v", i, st.op, st.user, err, st.want)
				}
				_, seats, _ := c.Screening("1")
				got := findSeat(t, seats, seat)
				if got.State != st.state || got.User != st.holder {
					t.Fatalf("step %d: seat %s is %s/%q, want %s/%q", i, seat, got.State, got.User, st.state, st.holder)
				}
				if st.want == nil && got.Rev <= lastRev {
					t.Fatalf("step %d: rev %d did not grow past %d", i, got.Rev, lastRev)
				}
				if st.want != nil && got.Rev != lastRev {
					t.Fatalf("step %d: a refused %s changed rev %d → %d", i, st.op, lastRev, got.Rev)
				}
				lastRev = got.Rev
			}
		})
	}
}

func findSeat(t *testing.T, seats []Seat, id string) Seat {
	t.Helper()
	for _, s := range seats {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("seat %s missing", id)
	return Seat{}
}

func TestLookupErrors(t *testing.T) {
	c, _, _ := newTestCinema(t)
	cases := []struct {
		screening, seat string
		want            error
	}{
		{"99", "A1", ErrNoScreening},
		{"1", "Z9", ErrNoSeat},
		{"1", "", ErrNoSeat},
		{"", "A1", ErrNoScreening},
	}
	for _, tc := range cases {
		if _, err := c.Reserve(context.Background(), tc.screening, tc.seat, "ann"); !errors.Is(err, tc.want) {
			t.Errorf("Reserve(%q, %q) = %v, want %v", tc.screening, tc.seat, err, tc.want)
		}
	}
	if _, _, err := c.Screening("nope"); !errors.Is(err, ErrNoScreening) {
		t.Errorf("Screening(nope) = %v", err)
	}
}

func TestEventsArePublished(t *testing.T) {
	c, rec, _ := newTestCinema(t)
	seat := freeSeat(t, c, 0)
	ctx := context.Background()
	mustOK(t)(c.Reserve(ctx, "1", seat, "ann"))
	mustOK(t)(c.Buy(ctx, "1", seat, "ann"))
	other := freeSeat(t, c, 0)
	mustOK(t)(c.Reserve(ctx, "1", other, "ann"))
	mustOK(t)(c.Cancel(ctx, "1", other, "ann"))

	want := []struct{ channel, event, seat, state string }{
		{"screening.1", EventSeatReserved, seat, "reserved"},
		{"screening.1", EventSeatSold, seat, "sold"},
		{"user#ann", EventTicketBought, seat, "sold"},
		{"screening.1", EventSeatReserved, other, "reserved"},
		{"screening.1", EventSeatReleased, other, "free"},
	}
	got := rec.all()
	if len(got) != len(want) {
		t.Fatalf("published %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		p := got[i]
		s, _ := p.Event["seat"].(map[string]any)
		if p.Channel != w.channel || p.Event["event"] != w.event || s["id"] != w.seat || s["state"] != w.state || p.Event["user"] != "ann" {
			t.Errorf("event %d = %s %v, want %s %s seat %s (%s) by ann", i, p.Channel, p.Event, w.channel, w.event, w.seat, w.state)
		}
	}
	if got[4].Event["reason"] != "cancelled" {
		t.Errorf("release reason = %v, want cancelled", got[4].Event["reason"])
	}
}

func TestPublishFailureKeepsTheChange(t *testing.T) {
	c, rec, _ := newTestCinema(t)
	rec.err = errors.New("server down")
	seat := freeSeat(t, c, 0)
	if _, err := c.Reserve(context.Background(), "1", seat, "ann"); err != nil {
		t.Fatalf("reserve failed because publishing did: %v", err)
	}
	if _, err := c.Reserve(context.Background(), "1", seat, "bob"); !errors.Is(err, ErrTaken) {
		t.Fatalf("second reserve = %v, want ErrTaken", err)
	}
}

func TestReservationsExpire(t *testing.T) {
	c, rec, clk := newTestCinema(t)
	seat := freeSeat(t, c, 0)
	ctx := context.Background()
	s := mustOK(t)(c.Reserve(ctx, "1", seat, "ann"))
	if want := clk.now().Add(time.Minute).UnixMilli(); s.ExpiresAt != want {
		t.Fatalf("expires_at = %d, want %d", s.ExpiresAt, want)
	}
	clk.add(59 * time.Second)
	c.ExpireDue()
	if _, seats, _ := c.Screening("1"); findSeat(t, seats, seat).State != SeatReserved {
		t.Fatal("released before its time")
	}
	clk.add(time.Second)
	c.ExpireDue()
	_, seats, _ := c.Screening("1")
	if got := findSeat(t, seats, seat); got.State != SeatFree || got.User != "" {
		t.Fatalf("after expiry seat is %+v, want free", got)
	}
	if _, err := c.Buy(ctx, "1", seat, "ann"); !errors.Is(err, ErrNotReserved) {
		t.Fatalf("buying a lapsed reservation = %v, want ErrNotReserved", err)
	}
	pubs := rec.all()
	var released, told bool
	for _, p := range pubs {
		if p.Channel == "screening.1" && p.Event["event"] == EventSeatReleased && p.Event["reason"] == "expired" {
			released = true
		}
		if p.Channel == "user#ann" && p.Event["event"] == EventReservationExpired {
			told = true
		}
	}
	if !released || !told {
		t.Fatalf("expiry events: released=%v told=%v in %+v", released, told, pubs)
	}
}

// Operations expire lapsed reservations themselves, so the sweeper's
// timing never lets a stale reservation block someone else.
func TestOperationsSeeExpiryWithoutSweeper(t *testing.T) {
	c, _, clk := newTestCinema(t)
	seat := freeSeat(t, c, 0)
	mustOK(t)(c.Reserve(context.Background(), "1", seat, "ann"))
	clk.add(2 * time.Minute)
	if _, err := c.Reserve(context.Background(), "1", seat, "bob"); err != nil {
		t.Fatalf("bob could not take a lapsed seat: %v", err)
	}
}

func TestHoldLimit(t *testing.T) {
	c, _, _ := newTestCinema(t)
	ctx := context.Background()
	for i := 0; i < MaxHeldSeats; i++ {
		mustOK(t)(c.Reserve(ctx, "1", freeSeat(t, c, 0), "ann"))
	}
	if _, err := c.Reserve(ctx, "1", freeSeat(t, c, 0), "ann"); !errors.Is(err, ErrTooManySeats) {
		t.Fatalf("reserve past the limit = %v, want ErrTooManySeats", err)
	}
	if _, err := c.Reserve(ctx, "2", "A1", "ann"); err != nil && !errors.Is(err, ErrTaken) {
		t.Fatalf("the limit is per screening, got %v", err)
	}
}

func TestScheduleAndTickets(t *testing.T) {
	c, _, _ := newTestCinema(t)
	sched := c.Schedule()
	if len(sched) != len(DefaultProgramme) {
		t.Fatalf("%d screenings, want %d", len(sched), len(DefaultProgramme))
	}
	first := sched[0]
	if first.Total != DefaultRows*DefaultCols || first.Free <= 0 || first.Free >= first.Total {
		t.Fatalf("screening 1 counts free=%d total=%d: want some seats pre-sold", first.Free, first.Total)
	}
	ctx := context.Background()
	a, b := freeSeat(t, c, 0), freeSeat(t, c, 1)
	mustOK(t)(c.Reserve(ctx, "1", a, "ann"))
	mustOK(t)(c.Reserve(ctx, "1", b, "ann"))
	mustOK(t)(c.Buy(ctx, "1", b, "ann"))
	if got := c.Schedule()[0].Free; got != first.Free-2 {
		t.Fatalf("free after two bookings = %d, want %d", got, first.Free-2)
	}
	tickets := c.Tickets("ann")
	if len(tickets) != 2 {
		t.Fatalf("ann holds %d seats, want 2: %+v", len(tickets), tickets)
	}
	states := map[string]SeatState{tickets[0].Seat.ID: tickets[0].State, tickets[1].Seat.ID: tickets[1].State}
	if states[a] != SeatReserved || states[b] != SeatSold {
		t.Fatalf("ticket states = %v", states)
	}
	if len(c.Tickets("bob")) != 0 || len(c.Tickets("")) != 0 {
		t.Fatal("tickets leak to other users")
	}
}

// TestConcurrentReservationsOneWinner: 50 users race for one seat; exactly
// one gets it, every other gets ErrTaken, and exactly one event goes out.
func TestConcurrentReservationsOneWinner(t *testing.T) {
	for round := 0; round < 20; round++ {
		c, rec, _ := newTestCinema(t)
		seat := freeSeat(t, c, 0)
		const racers = 50
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, racers)
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = c.Reserve(context.Background(), "1", seat, fmt.Sprintf("user-%d", i))
			}(i)
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, ErrTaken):
				t.Fatalf("racer %d: %v, want nil or ErrTaken", i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want exactly 1", round, winners)
		}
		if n := len(rec.all()); n != 1 {
			t.Fatalf("round %d: %d events published, want 1", round, n)
		}
	}
}

// TestConcurrentMixedOperations hammers one screening with every
// operation at once; afterwards no seat has two holders and every seat's
// final state agrees with the last event published for it.
func TestConcurrentMixedOperations(t *testing.T) {
	c, rec, _ := newTestCinema(t)
	_, seats, _ := c.Screening("1")
	var wg sync.WaitGroup
	for u := 0; u < 8; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			user := fmt.Sprintf("u%d", u)
			ctx := context.Background()
			for i := 0; i < 200; i++ {
				seat := seats[(i*7+u*13)%len(seats)].ID
				switch i % 3 {
				case 0:
					_, _ = c.Reserve(ctx, "1", seat, user)
				case 1:
					_, _ = c.Cancel(ctx, "1", seat, user)
				case 2:
					_, _ = c.Buy(ctx, "1", seat, user)
				}
			}
		}(u)
	}
	wg.Wait()
	last := map[string]map[string]any{}
	for _, p := range rec.all() {
		if p.Channel != "screening.1" {
			continue
		}
		s := p.Event["seat"].(map[string]any)
		id := s["id"].(string)
		if prev, ok := last[id]; ok && prev["rev"].(float64) >= s["rev"].(float64) {
			t.Fatalf("seat %s: events out of order (rev %v after %v)", id, s["rev"], prev["rev"])
		}
		last[id] = s
	}
	_, final, _ := c.Screening("1")
	for _, s := range final {
		ev, ok := last[s.ID]
		if !ok {
			continue
		}
		if ev["state"] != string(s.State) || ev["rev"].(float64) != float64(s.Rev) {
			t.Fatalf("seat %s is %s rev %d, last event says %v rev %v", s.ID, s.State, s.Rev, ev["state"], ev["rev"])
		}
	}
}

// mustOK fails the test on an operation's error: mustOK(t)(c.Reserve(…)).
func mustOK(t *testing.T) func(Seat, error) Seat {
	return func(s Seat, err error) Seat {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}
