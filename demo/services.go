package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// RPC methods the page calls (names follow Spiral's demo where it has
// one).
const (
	MethodSchedule  = "cinema.schedule"
	MethodScreening = "cinema.screening"
	MethodReserve   = "cinema.reserve"
	MethodBuy       = "cinema.buy"
	MethodCancel    = "cinema.cancel"
	MethodTickets   = "user.tickets"
)

// Error codes the services answer with; Centrifugo passes application
// codes (400–1999) to the client unchanged.
const (
	CodeBadRequest   uint32 = 400
	CodeSignIn       uint32 = 401
	CodeForbidden    uint32 = 403
	CodeNotFound     uint32 = 404
	CodeConflict     uint32 = 409
	CodeTooManySeats uint32 = 429
)

// ConnectInfo is sent to the page in the connect reply's data: who the
// server took the visitor for, and what became of their token.
type ConnectInfo struct {
	User  string `json:"user"`
	Name  string `json:"name,omitempty"`
	State string `json:"state"`
}

// connect accepts everyone: signed-in visitors as their user, the rest
// anonymously.
func (d *Demo) connect(ctx context.Context, req *app.ConnectRequest) (*proxypb.ConnectResponse, error) {
	s, _ := sessionKey.Value(ctx)
	state, _ := authStateKey.Value(ctx)
	if state == "" {
		state = AuthAnonymous
	}
	data, err := json.Marshal(ConnectInfo{User: s.User, Name: s.Name, State: state})
	if err != nil {
		return nil, fmt.Errorf("encode connect info: %w", err)
	}
	return req.Respond(&proxypb.ConnectResult{User: s.User, Data: data}), nil
}

// subscribe lets anyone watch an existing screening and nobody into
// another user's channel. (A user's own "user#<id>" never gets here:
// allow_user_limited_channels lets the server admit it by itself.)
func (d *Demo) subscribe(ctx context.Context, req *app.SubscribeRequest) (*proxypb.SubscribeResponse, error) {
	s, _ := sessionKey.Value(ctx)
	ch := req.GetChannel()
	if id, ok := strings.CutPrefix(ch, "seats:"); ok {
		if _, found := d.Cinema.screenings[id]; !found {
			return req.Deny(CodeNotFound, "no such screening"), nil
		}
		return req.Allow(), nil
	}
	if id, ok := strings.CutPrefix(ch, "screening."); ok {
		if _, found := d.Cinema.screenings[id]; !found {
			return req.Deny(CodeNotFound, "no such screening"), nil
		}
		return req.Allow(), nil
	}
	if owner, ok := strings.CutPrefix(ch, "user#"); ok && s.User != "" && owner == s.User {
		return req.Allow(), nil
	}
	return req.Deny(CodeForbidden, "permission denied"), nil
}

// ScreeningReply answers cinema.screening: the screening, its seats and
// the server clock (so the page's reservation countdown ignores skew).
type ScreeningReply struct {
	Screening  ScreeningInfo `json:"screening"`
	Seats      []Seat        `json:"seats"`
	ServerTime int64         `json:"server_time"`
}

// SeatReply answers reserve, buy and cancel with the seat's new state.
type SeatReply struct {
	Seat       Seat  `json:"seat"`
	ServerTime int64 `json:"server_time"`
}

// seatArgs are the arguments of the seat operations.
type seatArgs struct {
	Screening string `json:"screening"`
	Seat      string `json:"seat"`
}

func (d *Demo) schedule(_ context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	return answer(req, map[string]any{"screenings": d.Cinema.Schedule(), "server_time": d.Cinema.now().UnixMilli()})
}

func (d *Demo) screening(_ context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	var args struct {
		ID string `json:"id"`
	}
	if err := decodeArgs(req, &args); err != nil {
		return nil, err
	}
	info, seats, err := d.Cinema.Screening(args.ID)
	if err != nil {
		return nil, bookingError(err)
	}
	return answer(req, ScreeningReply{Screening: info, Seats: seats, ServerTime: d.Cinema.now().UnixMilli()})
}

func (d *Demo) reserve(ctx context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	return d.seatOp(ctx, req, d.Cinema.Reserve)
}

func (d *Demo) buy(ctx context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	return d.seatOp(ctx, req, d.Cinema.Buy)
}

func (d *Demo) cancel(ctx context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	return d.seatOp(ctx, req, d.Cinema.Cancel)
}

// seatOp runs one seat operation for the signed-in caller.
func (d *Demo) seatOp(ctx context.Context, req *app.RPCRequest, op func(context.Context, string, string, string) (Seat, error)) (*proxypb.RPCResponse, error) {
	s, _ := sessionKey.Value(ctx)
	if s.User == "" {
		return nil, bookingError(ErrSignInRequired)
	}
	var args seatArgs
	if err := decodeArgs(req, &args); err != nil {
		return nil, err
	}
	seat, err := op(ctx, args.Screening, args.Seat, s.User)
	if err != nil {
		return nil, bookingError(err)
	}
	return answer(req, SeatReply{Seat: seat, ServerTime: d.Cinema.now().UnixMilli()})
}

func (d *Demo) tickets(ctx context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	s, _ := sessionKey.Value(ctx)
	if s.User == "" {
		return nil, bookingError(ErrSignInRequired)
	}
	return answer(req, map[string]any{"tickets": d.Cinema.Tickets(s.User), "server_time": d.Cinema.now().UnixMilli()})
}

// decodeArgs reads the RPC's JSON arguments; empty data is an empty
// object.
func decodeArgs(req *app.RPCRequest, v any) error {
	data := req.GetData()
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &app.Error{Code: CodeBadRequest, Message: "arguments must be a JSON object"}
	}
	return nil
}

func answer(req *app.RPCRequest, v any) (*proxypb.RPCResponse, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s reply: %w", req.GetMethod(), err)
	}
	return req.Answer(data), nil
}

// bookingError maps a booking error to the code the page sees; anything
// unexpected stays an internal error (logged by the App).
func bookingError(err error) error {
	code := uint32(0)
	switch {
	case errors.Is(err, ErrNoScreening), errors.Is(err, ErrNoSeat):
		code = CodeNotFound
	case errors.Is(err, ErrTaken), errors.Is(err, ErrAlreadyHeld), errors.Is(err, ErrNotReserved):
		code = CodeConflict
	case errors.Is(err, ErrNotYours):
		code = CodeForbidden
	case errors.Is(err, ErrTooManySeats):
		code = CodeTooManySeats
	case errors.Is(err, ErrSignInRequired):
		code = CodeSignIn
	default:
		return err
	}
	return &app.Error{Code: code, Message: err.Error()}
}
