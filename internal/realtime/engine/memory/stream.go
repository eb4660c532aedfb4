package memory

import (
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// stream is one channel's history: the top offset and epoch (its "meta")
// plus the newest publications. Offsets of kept publications are
// contiguous, so a publication is found by arithmetic, not by search.
type stream struct {
	epoch        string
	top          uint64
	pubs         []*engine.Publication
	pubsExpireAt time.Time
	metaExpireAt time.Time
}

func newStream(now time.Time, metaTTL time.Duration) *stream {
	return &stream{epoch: newEpoch(), metaExpireAt: now.Add(metaTTL)}
}

func (s *stream) position() engine.StreamPosition {
	return engine.StreamPosition{Offset: s.top, Epoch: s.epoch}
}

// add appends pub with the next offset, trims to size and restarts both
// lifetimes, since history and meta TTLs count from the last publication.
func (s *stream) add(pub *engine.Publication, size int, ttl, metaTTL time.Duration, now time.Time) {
	s.top++
	pub.Offset = s.top
	s.pubs = append(s.pubs, pub)
	if n := len(s.pubs) - size; n > 0 {
		clear(s.pubs[:n]) // let trimmed publications be collected
		s.pubs = s.pubs[n:]
	}
	s.pubsExpireAt = now.Add(ttl)
	s.metaExpireAt = now.Add(metaTTL)
}

// clear drops the publications but keeps the position.
func (s *stream) clear() {
	clear(s.pubs)
	s.pubs = nil
}

// slice selects publications as HistoryOptions describes: forward after
// since (or from the oldest), or newest first before since (or from the
// newest), at most limit of them (-1: no limit, 0: none). The returned
// slice is fresh; the publications are shared and must be treated as
// read-only.
func (s *stream) slice(since *engine.StreamPosition, limit int, reverse bool) []*engine.Publication {
	n := len(s.pubs)
	if limit == 0 || n == 0 {
		return nil
	}
	first := s.pubs[0].Offset
	if !reverse {
		start := 0
		if since != nil {
			if since.Offset >= s.top {
				return nil
			}
			if since.Offset+1 > first {
				start = int(since.Offset + 1 - first)
			}
		}
		end := n
		if limit > 0 && end-start > limit {
			end = start + limit
		}
		out := make([]*engine.Publication, end-start)
		copy(out, s.pubs[start:end])
		return out
	}
	end := n // exclusive
	if since != nil {
		if since.Offset <= first {
			return nil
		}
		if d := since.Offset - first; d < uint64(n) {
			end = int(d)
		}
	}
	start := 0
	if limit > 0 && end-start > limit {
		start = end - limit
	}
	out := make([]*engine.Publication, 0, end-start)
	for i := end - 1; i >= start; i-- {
		out = append(out, s.pubs[i])
	}
	return out
}
