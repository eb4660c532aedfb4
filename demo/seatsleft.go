package demo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// The schedule's "N free" per screening is a shared-poll channel,
// "seatsleft:schedule", keyed by screening id: the page tracks every
// screening of the programme, the real-time server asks the cinema for
// their counts (SharedPollRefresh) once per interval however many pages
// are open, and pushes only the counts that changed. The page gets its
// track signature from the cinema (RPC cinema.seats_left_signature), as
// an application signs what a user may track.

// SeatsLeftChannel is the shared-poll channel of the schedule's counts.
const SeatsLeftChannel = "seatsleft:schedule"

// MethodSeatsLeftSignature signs the screening ids a page tracks.
const MethodSeatsLeftSignature = "cinema.seats_left_signature"

// seatsLeftSignatureTTL is how long a page's track signature lasts; the
// SDK asks for a new one when it lapses.
const seatsLeftSignatureTTL = time.Hour

// SeatsLeft is one screening's count as the channel carries it.
type SeatsLeft struct {
	Free  int `json:"free"`
	Total int `json:"total"`
}

// seatsLeft answers the server's poll: the current counts of the tracked
// screenings (unknown ids are left out, which the server ignores).
func (d *Demo) seatsLeft(_ context.Context, req *app.SharedPollRefreshRequest) (*proxypb.SharedPollRefreshResponse, error) {
	if req.GetChannel() != SeatsLeftChannel {
		return req.Unchanged(), nil
	}
	counts := make(map[string]SeatsLeft, len(d.Cinema.order))
	for _, s := range d.Cinema.Schedule() {
		counts[s.ID] = SeatsLeft{Free: s.Free, Total: s.Total}
	}
	res := &proxypb.SharedPollRefreshResult{}
	for _, it := range req.GetItems() {
		c, ok := counts[it.GetKey()]
		if !ok {
			continue
		}
		data, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, &proxypb.SharedPollRefreshResultItem{Key: it.GetKey(), Data: data})
	}
	return req.Respond(res), nil
}

// seatsLeftSignature signs the screening ids the page asks for (unknown
// ones are dropped, which the SDK takes as "not allowed") for the
// connection's user.
func (d *Demo) seatsLeftSignature(_ context.Context, req *app.RPCRequest) (*proxypb.RPCResponse, error) {
	var args struct {
		Keys []string `json:"keys"`
	}
	if err := decodeArgs(req, &args); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(args.Keys))
	for _, k := range args.Keys {
		if _, ok := d.Cinema.screenings[k]; ok {
			keys = append(keys, k)
		}
	}
	if len(d.pollSecret) == 0 {
		return req.Deny(CodeForbidden, "seat counts are not configured"), nil
	}
	now := d.Cinema.now()
	sig := app.SignSharedPollTrack(string(d.pollSecret), req.GetUser(), SeatsLeftChannel, keys, now, now.Add(seatsLeftSignatureTTL))
	return answer(req, map[string]any{"keys": keys, "signature": sig})
}
