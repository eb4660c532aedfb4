package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Booking errors; services turn them into client-protocol error codes
// (see errorCode), so the page can tell "taken" from "not signed in".
var (
	ErrNoScreening    = errors.New("no such screening")
	ErrNoSeat         = errors.New("no such seat")
	ErrTaken          = errors.New("seat is already taken")
	ErrAlreadyHeld    = errors.New("you already hold this seat")
	ErrNotReserved    = errors.New("reserve the seat first")
	ErrNotYours       = errors.New("this seat is not reserved by you")
	ErrTooManySeats   = errors.New("you can hold at most " + strconv.Itoa(MaxHeldSeats) + " seats per screening")
	ErrSignInRequired = errors.New("sign in to book seats")
)

// MaxHeldSeats caps the seats one user may reserve in one screening, so a
// single visitor cannot empty the hall.
const MaxHeldSeats = 6

// DefaultReservationTTL is how long a reservation holds a seat before it
// is released unless bought.
const DefaultReservationTTL = 2 * time.Minute

// publishTimeout bounds one publication; the seat change has happened
// either way, so a slow server must not hold the screening's lock long.
const publishTimeout = 3 * time.Second

// Event names published on screening and user channels.
const (
	EventSeatReserved       = "seat.reserved"
	EventSeatSold           = "seat.sold"
	EventSeatReleased       = "seat.released"
	EventTicketBought       = "ticket.bought"
	EventReservationExpired = "reservation.expired"
)

// SeatEvent is published to "screening.<id>" on every seat change. Seat
// is the seat's new state (with its Rev), User the user who caused the
// change (the former holder for a release).
type SeatEvent struct {
	Event     string `json:"event"`
	Screening string `json:"screening"`
	Seat      Seat   `json:"seat"`
	User      string `json:"user"`
	// Reason says why a seat was released: "cancelled" or "expired".
	Reason string `json:"reason,omitempty"`
}

// UserEvent is published to "user#<id>": a purchase confirmation or a
// lapsed reservation.
type UserEvent struct {
	Event     string `json:"event"`
	Screening string `json:"screening"`
	Movie     string `json:"movie"`
	Hall      string `json:"hall"`
	StartsAt  int64  `json:"starts_at"`
	Seat      Seat   `json:"seat"`
	User      string `json:"user"`
}

// Ticket is a seat a user holds, for the "my tickets" list.
type Ticket struct {
	Screening string    `json:"screening"`
	Movie     string    `json:"movie"`
	Hall      string    `json:"hall"`
	StartsAt  int64     `json:"starts_at"`
	Seat      Seat      `json:"seat"`
	State     SeatState `json:"state"`
}

// ScreeningChannel is the channel a screening's seat events go to.
func ScreeningChannel(id string) string { return "screening." + id }

// UserChannel is a user's own channel (Centrifugo's user-limited syntax:
// only that user may subscribe without the backend's say-so).
func UserChannel(user string) string { return "user#" + user }

// Cinema holds the screenings and is the only place seats change.
type Cinema struct {
	screenings map[string]*screening
	order      []string
	pub        Publisher
	seatMap    SeatMap
	mapEpoch   string
	ttl        time.Duration
	now        func() time.Time
	log        *slog.Logger
}

// CinemaOptions configure NewCinema; zero values pick the defaults.
type CinemaOptions struct {
	Publisher Publisher
	// SeatMap keeps the "seats:<id>" map channels; nil keeps none.
	SeatMap        SeatMap
	ReservationTTL time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
	Programme      []Movie
	Rows, Cols     int
}

// NewCinema builds the screenings of the programme, starting at the next
// full hour after Now.
func NewCinema(o CinemaOptions) (*Cinema, error) {
	c := &Cinema{pub: o.Publisher, seatMap: o.SeatMap, mapEpoch: newVersionEpoch(), ttl: o.ReservationTTL, now: o.Now, log: o.Logger, screenings: map[string]*screening{}}
	if c.pub == nil {
		c.pub = PublisherFunc(func(context.Context, string, []byte) error { return nil })
	}
	if c.ttl <= 0 {
		c.ttl = DefaultReservationTTL
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	prog := o.Programme
	if prog == nil {
		prog = DefaultProgramme
	}
	rows, cols := o.Rows, o.Cols
	if rows == 0 {
		rows = DefaultRows
	}
	if cols == 0 {
		cols = DefaultCols
	}
	start := c.now().Truncate(time.Hour)
	for i, m := range prog {
		id := strconv.Itoa(i + 1)
		s, err := newScreening(id, m, start, rows, cols, presold(i, rows, cols))
		if err != nil {
			return nil, err
		}
		c.screenings[id] = s
		c.order = append(c.order, id)
	}
	return c, nil
}

// Schedule lists the screenings with their live free-seat counts.
func (c *Cinema) Schedule() []ScreeningInfo {
	out := make([]ScreeningInfo, 0, len(c.order))
	for _, id := range c.order {
		s := c.screenings[id]
		s.mu.Lock()
		c.expireLocked(s)
		out = append(out, s.infoLocked())
		s.mu.Unlock()
	}
	return out
}

// Screening returns one screening and a consistent copy of its seats.
func (c *Cinema) Screening(id string) (ScreeningInfo, []Seat, error) {
	s, ok := c.screenings[id]
	if !ok {
		return ScreeningInfo{}, nil, ErrNoScreening
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.expireLocked(s)
	return s.infoLocked(), s.snapshotLocked(), nil
}

// lookup finds a screening and one of its seats.
func (c *Cinema) lookup(screeningID, seatID string) (*screening, error) {
	s, ok := c.screenings[screeningID]
	if !ok {
		return nil, ErrNoScreening
	}
	if _, ok := s.seats[seatID]; !ok {
		return nil, ErrNoSeat
	}
	return s, nil
}

// withSeat runs op on one seat of one screening for a signed-in user, with
// the screening locked and expired reservations already released: the
// part every seat action shares.
func (c *Cinema) withSeat(screeningID, seatID, user string, op func(s *screening, seat *Seat) (Seat, error)) (Seat, error) {
	if user == "" {
		return Seat{}, ErrSignInRequired
	}
	s, err := c.lookup(screeningID, seatID)
	if err != nil {
		return Seat{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.expireLocked(s)
	return op(s, s.seats[seatID])
}

// Reserve holds a free seat for user for the reservation TTL. Of any
// number of concurrent calls for one seat exactly one succeeds; the rest
// get ErrTaken.
func (c *Cinema) Reserve(ctx context.Context, screeningID, seatID, user string) (Seat, error) {
	return c.withSeat(screeningID, seatID, user, func(s *screening, seat *Seat) (Seat, error) {
		switch {
		case seat.State == SeatReserved && seat.User == user:
			return *seat, ErrAlreadyHeld
		case seat.State != SeatFree:
			return *seat, ErrTaken
		case heldBy(s, user) >= MaxHeldSeats:
			return *seat, ErrTooManySeats
		}
		seat.State, seat.User = SeatReserved, user
		seat.ExpiresAt = c.now().Add(c.ttl).UnixMilli()
		seat.Rev++
		c.writeSeatLocked(ctx, s, *seat)
		c.publish(ctx, ScreeningChannel(s.info.ID), SeatEvent{Event: EventSeatReserved, Screening: s.info.ID, Seat: *seat, User: user})
		return *seat, nil
	})
}

// Buy turns the user's reservation into a sale and confirms it on the
// user's channel.
func (c *Cinema) Buy(ctx context.Context, screeningID, seatID, user string) (Seat, error) {
	return c.withSeat(screeningID, seatID, user, func(s *screening, seat *Seat) (Seat, error) {
		switch {
		case seat.State == SeatFree:
			return *seat, ErrNotReserved
		case seat.User != user:
			return *seat, ErrTaken
		case seat.State == SeatSold:
			return *seat, ErrAlreadyHeld
		}
		seat.State, seat.ExpiresAt = SeatSold, 0
		seat.Rev++
		c.writeSeatLocked(ctx, s, *seat)
		c.publish(ctx, ScreeningChannel(s.info.ID), SeatEvent{Event: EventSeatSold, Screening: s.info.ID, Seat: *seat, User: user})
		c.publish(ctx, UserChannel(user), c.userEvent(s, EventTicketBought, *seat, user))
		return *seat, nil
	})
}

// Cancel releases the user's own reservation.
func (c *Cinema) Cancel(ctx context.Context, screeningID, seatID, user string) (Seat, error) {
	return c.withSeat(screeningID, seatID, user, func(s *screening, seat *Seat) (Seat, error) {
		if seat.State != SeatReserved || seat.User != user {
			return *seat, ErrNotYours
		}
		c.releaseLocked(ctx, s, seat, "cancelled")
		return *seat, nil
	})
}

// Tickets lists the seats user holds, reserved or sold, in schedule
// order.
func (c *Cinema) Tickets(user string) []Ticket {
	out := []Ticket{}
	if user == "" {
		return out
	}
	for _, id := range c.order {
		s := c.screenings[id]
		s.mu.Lock()
		c.expireLocked(s)
		for _, sid := range s.order {
			seat := s.seats[sid]
			if seat.User == user && seat.State != SeatFree {
				out = append(out, Ticket{Screening: s.info.ID, Movie: s.info.Movie, Hall: s.info.Hall,
					StartsAt: s.info.StartsAt, Seat: *seat, State: seat.State})
			}
		}
		s.mu.Unlock()
	}
	return out
}

// ExpireDue releases every lapsed reservation now; Run calls it every
// second, and every operation does it for its own screening first, so a
// seat is never held past its ExpiresAt.
func (c *Cinema) ExpireDue() {
	for _, id := range c.order {
		s := c.screenings[id]
		s.mu.Lock()
		c.expireLocked(s)
		s.mu.Unlock()
	}
}

// seatMapCheckEvery is how often Run makes sure the server still has
// every seat map (see SyncSeatMaps).
const seatMapCheckEvery = 2 * time.Second

// Run releases lapsed reservations every second and keeps the seat maps
// complete until ctx ends.
func (c *Cinema) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastCheck time.Time
	var lastErr string
	for {
		if c.seatMap != nil && time.Since(lastCheck) >= seatMapCheckEvery {
			lastCheck = time.Now()
			// Reported once per kind of failure, not every round while
			// the server is away.
			if err := c.SyncSeatMaps(ctx); err != nil && err.Error() != lastErr {
				lastErr = err.Error()
				c.log.Warn("demo: seat maps not written yet", "error", err)
			} else if err == nil {
				lastErr = ""
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.ExpireDue()
		}
	}
}

// expireLocked releases the screening's lapsed reservations and tells
// the holders; the caller holds s.mu.
func (c *Cinema) expireLocked(s *screening) {
	now := c.now().UnixMilli()
	for _, id := range s.order {
		seat := s.seats[id]
		if seat.State == SeatReserved && seat.ExpiresAt <= now {
			user := seat.User
			c.releaseLocked(context.Background(), s, seat, "expired")
			c.publish(context.Background(), UserChannel(user), c.userEvent(s, EventReservationExpired, *seat, user))
		}
	}
}

// releaseLocked frees a reserved seat and announces it; the caller holds
// s.mu.
func (c *Cinema) releaseLocked(ctx context.Context, s *screening, seat *Seat, reason string) {
	user := seat.User
	seat.State, seat.User, seat.ExpiresAt = SeatFree, "", 0
	seat.Rev++
	c.writeSeatLocked(ctx, s, *seat)
	c.publish(ctx, ScreeningChannel(s.info.ID), SeatEvent{Event: EventSeatReleased, Screening: s.info.ID, Seat: *seat, User: user, Reason: reason})
}

func (c *Cinema) userEvent(s *screening, event string, seat Seat, user string) UserEvent {
	return UserEvent{Event: event, Screening: s.info.ID, Movie: s.info.Movie, Hall: s.info.Hall,
		StartsAt: s.info.StartsAt, Seat: seat, User: user}
}

// heldBy counts the seats user has reserved in s; the caller holds s.mu.
func heldBy(s *screening, user string) int {
	n := 0
	for _, seat := range s.seats {
		if seat.State == SeatReserved && seat.User == user {
			n++
		}
	}
	return n
}

// publish sends one event. It runs under the screening's lock, so events
// of one screening leave in the order the seats changed; a failure is
// logged, not returned, because the change itself has happened (pages
// that miss an event re-read the seat map when they resubscribe).
func (c *Cinema) publish(ctx context.Context, channel string, ev any) {
	data, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("demo: encode event", "channel", channel, "error", err)
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := c.pub.Publish(pctx, channel, data); err != nil {
		c.log.Warn("demo: publish event", "channel", channel, "error", fmt.Errorf("publish to %s: %w", channel, err))
	}
}
