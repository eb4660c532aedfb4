package demo

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// SeatState is where a seat is in its life: free → reserved → sold, with
// reserved → free when the holder cancels or the reservation expires.
type SeatState string

// The seat states, as the page and the events spell them.
const (
	SeatFree     SeatState = "free"
	SeatReserved SeatState = "reserved"
	SeatSold     SeatState = "sold"
)

// Seat is one seat as clients see it. Rev grows with every change of the
// seat, so a client that gets the same seat from a snapshot and from an
// event keeps whichever is newer.
type Seat struct {
	ID     string    `json:"id"`
	Row    string    `json:"row"`
	Number int       `json:"number"`
	State  SeatState `json:"state"`
	// User holds the seat (reserved or sold); "" when free or sold at the
	// box office.
	User string `json:"user,omitempty"`
	// ExpiresAt is when a reservation lapses, in Unix milliseconds.
	ExpiresAt int64  `json:"expires_at,omitempty"`
	Rev       uint64 `json:"rev"`
}

// ScreeningInfo describes a screening without its seats.
type ScreeningInfo struct {
	ID       string `json:"id"`
	Movie    string `json:"movie"`
	Genre    string `json:"genre"`
	Minutes  int    `json:"minutes"`
	Hall     string `json:"hall"`
	StartsAt int64  `json:"starts_at"` // Unix milliseconds
	Price    int    `json:"price"`     // cents
	Rows     int    `json:"rows"`
	Cols     int    `json:"cols"`
	Free     int    `json:"free"`
	Total    int    `json:"total"`
}

// screening is one show with its seat map; mu guards seats and is the
// only lock an operation on the screening takes.
type screening struct {
	info  ScreeningInfo
	mu    sync.Mutex
	seats map[string]*Seat
	order []string // seat ids in row-major order
	// mapWritten: every seat went to the seat map once (SyncSeatMaps).
	mapWritten bool
}

// Movie is one entry of the programme used to build screenings.
type Movie struct {
	Title   string
	Genre   string
	Minutes int
	Hall    string
	// StartsIn is the offset from the catalogue's start time.
	StartsIn time.Duration
	Price    int // cents
}

// DefaultProgramme is what `spindle dev` shows: four invented films, the
// first starting at the next full hour.
var DefaultProgramme = []Movie{
	{Title: "The Quiet Orbit", Genre: "Sci-fi", Minutes: 118, Hall: "Hall 1", StartsIn: time.Hour, Price: 1200},
	{Title: "Paper Lanterns", Genre: "Drama", Minutes: 104, Hall: "Hall 2", StartsIn: 2*time.Hour + 30*time.Minute, Price: 1100},
	{Title: "Salt & Thunder", Genre: "Adventure", Minutes: 131, Hall: "Hall 1", StartsIn: 4 * time.Hour, Price: 1300},
	{Title: "A Small Hour", Genre: "Thriller", Minutes: 97, Hall: "Hall 3", StartsIn: 5*time.Hour + 30*time.Minute, Price: 1000},
}

// Default seat map size: 6 rows (A–F) of 8 seats.
const (
	DefaultRows = 6
	DefaultCols = 8
)

// newScreening builds a screening whose seats are all free except those
// in sold, which the box office sold before the demo started.
func newScreening(id string, m Movie, start time.Time, rows, cols int, sold []string) (*screening, error) {
	if rows < 1 || rows > 26 || cols < 1 || cols > 40 {
		return nil, fmt.Errorf("screening %s: seat map %dx%d out of range (1-26 rows, 1-40 seats)", id, rows, cols)
	}
	s := &screening{
		info: ScreeningInfo{
			ID: id, Movie: m.Title, Genre: m.Genre, Minutes: m.Minutes, Hall: m.Hall,
			StartsAt: start.Add(m.StartsIn).UnixMilli(), Price: m.Price, Rows: rows, Cols: cols,
		},
		seats: make(map[string]*Seat, rows*cols),
	}
	for r := 0; r < rows; r++ {
		row := string(rune('A' + r))
		for c := 1; c <= cols; c++ {
			seat := &Seat{ID: row + strconv.Itoa(c), Row: row, Number: c, State: SeatFree}
			s.seats[seat.ID] = seat
			s.order = append(s.order, seat.ID)
		}
	}
	for _, id := range sold {
		seat, ok := s.seats[id]
		if !ok {
			return nil, fmt.Errorf("screening %s: pre-sold seat %q does not exist", s.info.ID, id)
		}
		seat.State = SeatSold
		seat.Rev = 1
	}
	return s, nil
}

// snapshotLocked copies the seats in map order; the caller holds s.mu.
func (s *screening) snapshotLocked() []Seat {
	out := make([]Seat, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.seats[id])
	}
	return out
}

// infoLocked is the screening's info with live counts; the caller holds
// s.mu.
func (s *screening) infoLocked() ScreeningInfo {
	info := s.info
	info.Total = len(s.order)
	for _, seat := range s.seats {
		if seat.State == SeatFree {
			info.Free++
		}
	}
	return info
}

// presold picks about a fifth of the seats per screening, favouring the
// middle of the hall as real audiences do, so the maps look lived in. It
// is deterministic, so screenshots and tests see the same hall.
func presold(i, rows, cols int) []string {
	var out []string
	x := uint32(2166136261 + i*16777619)
	for r := 0; r < rows; r++ {
		for c := 1; c <= cols; c++ {
			x ^= uint32(r*31 + c)
			x *= 16777619
			odds := uint32(12)
			if 2*c > cols/2 && 2*c <= cols*3/2+1 && r >= 1 && r < rows-1 {
				odds = 30 // centre seats go first
			}
			if x%100 < odds {
				out = append(out, string(rune('A'+r))+strconv.Itoa(c))
			}
		}
	}
	sort.Strings(out)
	return out
}
