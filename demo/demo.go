package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spindle-rt/spindle/app"
)

// Options configure New; the zero value (plus a Publisher) is a working
// demo.
type Options struct {
	// Publisher delivers seat and user events; nil drops them (tests).
	Publisher Publisher
	// SeatMap keeps each screening's seats as a map channel; nil keeps
	// none (the page then has no seats to show).
	SeatMap SeatMap
	// PollSecret is the server's shared_poll.hmac_secret_key: the demo
	// signs the schedule counts a page tracks with it (SeatsLeftChannel).
	PollSecret []byte
	// Secret signs session tokens; empty means a random per-process key.
	Secret []byte
	// ReservationTTL is how long a reservation holds a seat;
	// DefaultReservationTTL when zero.
	ReservationTTL time.Duration
	// WebSocketURL tells the page where the real-time server is when it
	// is not the page's own origin (separate processes); "" means the
	// page's origin.
	WebSocketURL string
	Logger       *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Demo is the ticket-booking application: a cinema, session tokens, the
// services and interceptors that answer proxied events, and the page.
type Demo struct {
	Cinema *Cinema
	Tokens *Tokens
	log    *slog.Logger
	// pollSecret signs track batches of SeatsLeftChannel.
	pollSecret []byte
	wsURL      string
	stats      *Stats
}

// New builds the demo's state; Register wires its services into an App.
func New(o Options) (*Demo, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	cinema, err := NewCinema(CinemaOptions{Publisher: o.Publisher, SeatMap: o.SeatMap, ReservationTTL: o.ReservationTTL, Now: o.Now, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("demo cinema: %w", err)
	}
	tokens, err := NewTokens(o.Secret, DefaultSessionTTL, o.Now)
	if err != nil {
		return nil, fmt.Errorf("demo tokens: %w", err)
	}
	return &Demo{Cinema: cinema, Tokens: tokens, log: log, wsURL: o.WebSocketURL, stats: newStats(), pollSecret: o.PollSecret}, nil
}

// Register installs the demo's interceptors (timing outermost, then auth,
// on every event type) and its connect, subscribe, RPC and shared-poll
// services.
func (d *Demo) Register(a *app.App) {
	a.InterceptAll(d.timing, d.auth)
	a.HandleConnect(d.connect)
	a.HandleSubscribe(d.subscribe)
	a.HandleRPC(MethodSchedule, d.schedule)
	a.HandleRPC(MethodScreening, d.screening)
	a.HandleRPC(MethodReserve, d.reserve)
	a.HandleRPC(MethodBuy, d.buy)
	a.HandleRPC(MethodCancel, d.cancel)
	a.HandleRPC(MethodTickets, d.tickets)
	a.HandleRPC(MethodSeatsLeftSignature, d.seatsLeftSignature)
	a.HandleSharedPollRefresh(d.seatsLeft)
}

// Run releases lapsed reservations until ctx ends.
func (d *Demo) Run(ctx context.Context) { d.Cinema.Run(ctx) }

// Stats reports how many events the timing interceptor saw, per type.
func (d *Demo) Stats() map[string]int64 { return d.stats.snapshot() }
