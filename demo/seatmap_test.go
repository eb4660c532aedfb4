package demo

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeSeatMap stands in for the server's map channels in these unit tests:
// it keeps each channel's keys as the server would, including the version
// check, so what the cinema writes can be compared with its own seats.
type fakeSeatMap struct {
	mu       sync.Mutex
	keys     map[string]map[string]versioned
	writes   int
	countErr error
}

type versioned struct {
	seat    Seat
	version uint64
	epoch   string
}

func (f *fakeSeatMap) WriteSeat(_ context.Context, ch, key string, data []byte, version uint64, epoch string) error {
	var s Seat
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.keys == nil {
		f.keys = map[string]map[string]versioned{}
	}
	if f.keys[ch] == nil {
		f.keys[ch] = map[string]versioned{}
	}
	if cur, ok := f.keys[ch][key]; ok && cur.epoch == epoch && version <= cur.version {
		return nil
	}
	f.keys[ch][key] = versioned{s, version, epoch}
	return nil
}

func (f *fakeSeatMap) CountKeys(_ context.Context, ch string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.countErr != nil {
		return 0, f.countErr
	}
	return len(f.keys[ch]), nil
}

func (f *fakeSeatMap) seat(ch, key string) (Seat, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.keys[ch][key]
	return v.seat, ok
}

func (f *fakeSeatMap) wipe() {
	f.mu.Lock()
	f.keys = nil
	f.mu.Unlock()
}

func TestSeatMapFollowsEveryChange(t *testing.T) {
	m := &fakeSeatMap{}
	clk := &clock{t: time.Date(2026, 5, 1, 18, 20, 0, 0, time.UTC)}
	c, err := NewCinema(CinemaOptions{SeatMap: m, Now: clk.now, ReservationTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	_, seats, _ := c.Screening("1")
	if n, _ := m.CountKeys(ctx, SeatMapChannel("1")); n != len(seats) {
		t.Fatalf("seat map has %d keys, the screening %d seats", n, len(seats))
	}
	id := freeSeat(t, c, 0)
	steps := []struct {
		name string
		op   func() error
		want SeatState
	}{
		{"reserve", func() error { _, err := c.Reserve(ctx, "1", id, "alice"); return err }, SeatReserved},
		{"cancel", func() error { _, err := c.Cancel(ctx, "1", id, "alice"); return err }, SeatFree},
		{"reserve again", func() error { _, err := c.Reserve(ctx, "1", id, "bob"); return err }, SeatReserved},
		{"expire", func() error { clk.add(2 * time.Minute); c.ExpireDue(); return nil }, SeatFree},
		{"reserve and buy", func() error {
			if _, err := c.Reserve(ctx, "1", id, "carol"); err != nil {
				return err
			}
			_, err := c.Buy(ctx, "1", id, "carol")
			return err
		}, SeatSold},
	}
	for _, s := range steps {
		if err := s.op(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, _ := m.seat(SeatMapChannel("1"), id)
		_, now, _ := c.Screening("1")
		var truth Seat
		for _, x := range now {
			if x.ID == id {
				truth = x
			}
		}
		if got != truth || got.State != s.want {
			t.Fatalf("after %s the map holds %+v, the cinema %+v", s.name, got, truth)
		}
	}
}

func TestSyncSeatMapsWritesAgainWhenTheServerLostThem(t *testing.T) {
	m := &fakeSeatMap{}
	c, err := NewCinema(CinemaOptions{SeatMap: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := freeSeat(t, c, 0)
	if _, err := c.Reserve(ctx, "1", id, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	before := m.writes
	if err := c.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	if m.writes != before {
		t.Fatalf("complete maps were written again (%d writes)", m.writes-before)
	}
	m.wipe() // a server restarted with the memory map broker
	if err := c.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	got, ok := m.seat(SeatMapChannel("1"), id)
	if !ok || got.State != SeatReserved || got.User != "alice" {
		t.Fatalf("after the wipe the map holds %+v (present %v), want alice's reservation", got, ok)
	}
	m.countErr = errors.New("server down")
	if err := c.SyncSeatMaps(ctx); err == nil {
		t.Fatal("SyncSeatMaps hid the server's failure")
	}
}

func TestARestartedCinemaOverwritesItsPredecessorsSeats(t *testing.T) {
	m := &fakeSeatMap{}
	ctx := context.Background()
	old, _ := NewCinema(CinemaOptions{SeatMap: m})
	id := freeSeat(t, old, 0)
	for i := 0; i < 3; i++ {
		if _, err := old.Reserve(ctx, "1", id, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Cancel(ctx, "1", id, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Reserve(ctx, "1", id, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := old.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	// A new run of the cinema finds a complete map, from its predecessor.
	fresh, _ := NewCinema(CinemaOptions{SeatMap: m})
	if err := fresh.SyncSeatMaps(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.seat(SeatMapChannel("1"), id); got.State != SeatFree {
		t.Fatalf("the restarted cinema's free seat (rev 0) lost to the old reservation (rev 7): %+v", got)
	}
}
