package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// Each screening's seats are also kept as a map channel, "seats:<id>",
// one key per seat holding the seat as JSON. A page subscribes to it and
// gets the whole seat map from the subscription itself (a late joiner pages
// through it, a reconnecting page recovers what it missed), then every
// change as it happens: no RPC to read seats, no race between a snapshot
// and the events after it.
//
// Every write carries the seat's revision as its version, under a version
// epoch that is new each time the cinema starts, so a write never replaces
// a newer one of the same cinema, while a restarted cinema (revisions from
// zero again) still overwrites what its predecessor left. The cinema is the
// truth: the real-time server may lose the map (the memory map broker
// empties on restart), so the cinema counts the keys every few seconds and
// writes every seat again when some are missing.

// SeatMapChannel is the map channel holding a screening's seats.
func SeatMapChannel(id string) string { return "seats:" + id }

// SeatMap is where the cinema writes seats: the server API for a separate
// application, the node itself under `spindle dev`.
type SeatMap interface {
	// WriteSeat writes one key; a write whose version is not newer than
	// the key's (same versionEpoch) is dropped by the server.
	WriteSeat(ctx context.Context, channel, key string, data []byte, version uint64, versionEpoch string) error
	// CountKeys is the number of keys the map holds.
	CountKeys(ctx context.Context, channel string) (int, error)
}

// APISeatMap keeps seat maps through the server API (gRPC or HTTP).
func APISeatMap(c apiclient.Client) SeatMap { return apiSeatMap{c} }

type apiSeatMap struct{ c apiclient.Client }

func (m apiSeatMap) WriteSeat(ctx context.Context, channel, key string, data []byte, version uint64, versionEpoch string) error {
	if _, err := m.c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: channel, Key: key, Data: data, Version: version, VersionEpoch: versionEpoch}); err != nil {
		return fmt.Errorf("server API map_publish %s: %w", channel, err)
	}
	return nil
}

func (m apiSeatMap) CountKeys(ctx context.Context, channel string) (int, error) {
	res, err := m.c.MapStats(ctx, &apipb.MapStatsRequest{Channel: channel})
	if err != nil {
		return 0, fmt.Errorf("server API map_stats %s: %w", channel, err)
	}
	return int(res.GetNumKeys()), nil
}

func newVersionEpoch() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeSeatLocked writes one seat to its screening's map; the caller holds
// s.mu, so writes of one screening leave in the order its seats changed.
func (c *Cinema) writeSeatLocked(ctx context.Context, s *screening, seat Seat) {
	if c.seatMap == nil {
		return
	}
	data, err := json.Marshal(seat)
	if err != nil {
		c.log.Error("demo: encode seat", "seat", seat.ID, "error", err)
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	ch := SeatMapChannel(s.info.ID)
	if err := c.seatMap.WriteSeat(wctx, ch, seat.ID, data, seat.Rev+1, c.mapEpoch); err != nil {
		c.log.Warn("demo: write seat map", "channel", ch, "seat", seat.ID, "error", err)
	}
}

// SyncSeatMaps writes every seat of a screening the first time (the map
// may hold what a previous run of the cinema left), and again whenever its
// map lacks keys (the server lost its maps). It returns the first error
// (the server is not reachable yet, say); Run retries.
func (c *Cinema) SyncSeatMaps(ctx context.Context) error {
	if c.seatMap == nil {
		return nil
	}
	for _, id := range c.order {
		s := c.screenings[id]
		n, err := c.seatMap.CountKeys(ctx, SeatMapChannel(id))
		if err != nil {
			return err
		}
		s.mu.Lock()
		written := s.mapWritten
		s.mu.Unlock()
		if written && n >= len(s.order) {
			continue
		}
		s.mu.Lock()
		c.expireLocked(s)
		for _, sid := range s.order {
			c.writeSeatLocked(ctx, s, *s.seats[sid])
		}
		s.mapWritten = true
		s.mu.Unlock()
		c.log.Info("demo: wrote the seat map", "channel", SeatMapChannel(id), "seats", len(s.order), "found", n)
	}
	return nil
}
