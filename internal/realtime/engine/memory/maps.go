package memory

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// idleMapTTL keeps a map channel that holds nothing (no keys, no stream
// position) after its last access, so its epoch stays the same while a
// subscriber pages through it; then it is forgotten.
const idleMapTTL = 5 * time.Minute

// mapChannel is one map channel's keyed state and change stream.
type mapChannel struct {
	epoch   string
	top     uint64
	entries map[string]*mapEntry
	// sorted caches the keys in order for paging; nil after a key is
	// added or removed.
	sorted []string
	// stream holds the newest changes, offsets contiguous and ending at
	// top; streamExpireAt drops them (not the position) stream_ttl after
	// the last change.
	stream         []*engine.Publication
	streamExpireAt time.Time
	// metaExpireAt renews the epoch when it passes; zero never.
	metaExpireAt time.Time
	idleExpireAt time.Time
	// ttlKeys counts entries with an expiry, so the sweep skips maps
	// without key TTLs; nextExpiry is no later than the earliest of them,
	// so a write or read scans the keys only once one may have expired.
	ttlKeys    int
	nextExpiry time.Time
	// opts are the settings of the last write, applied to the removals
	// that key expiry writes.
	opts engine.MapStreamOptions
	idem map[string]mapIdem
}

type mapEntry struct {
	pub          *engine.Publication
	expireAt     time.Time // zero: never
	version      uint64
	versionEpoch string
}

type mapIdem struct {
	res      engine.MapResult
	expireAt time.Time
}

var _ engine.MapBroker = (*Engine)(nil)

func newMapChannel(now time.Time, o engine.MapStreamOptions) *mapChannel {
	m := &mapChannel{epoch: newEpoch(), entries: make(map[string]*mapEntry), opts: o}
	m.touch(now, o)
	return m
}

// touch renews the lifetimes a write or read restarts.
func (m *mapChannel) touch(now time.Time, o engine.MapStreamOptions) {
	if o.MetaTTL > 0 {
		if exp := now.Add(o.MetaTTL); exp.After(m.metaExpireAt) {
			m.metaExpireAt = exp
		}
	}
	m.idleExpireAt = now.Add(idleMapTTL)
}

func (m *mapChannel) position() engine.StreamPosition {
	return engine.StreamPosition{Offset: m.top, Epoch: m.epoch}
}

// empty says the map holds nothing worth keeping.
func (m *mapChannel) empty(now time.Time) bool {
	return len(m.entries) == 0 && m.top == 0 && len(m.idem) == 0 && !now.Before(m.idleExpireAt)
}

// mapFor returns the channel's map, creating it (fresh epoch) or renewing
// an expired one. Callers hold the shard lock.
func (cs *channelState) mapFor(now time.Time, o engine.MapStreamOptions) *mapChannel {
	m := cs.m
	if m != nil && !m.metaExpireAt.IsZero() && !now.Before(m.metaExpireAt) {
		// The position is lost: a new epoch tells subscribers so.
		m.epoch, m.top, m.stream, m.metaExpireAt = newEpoch(), 0, nil, time.Time{}
	}
	if m == nil {
		m = newMapChannel(now, o)
		cs.m = m
	}
	return m
}

// expire removes keys whose TTL passed, as removals subscribers see, and
// drops stream changes past their TTL. It reports whether events were
// queued. Callers hold the shard lock.
func (cs *channelState) expireMap(now time.Time) bool {
	m := cs.m
	if m == nil {
		return false
	}
	if !m.streamExpireAt.IsZero() && !now.Before(m.streamExpireAt) {
		clear(m.stream)
		m.stream, m.streamExpireAt = nil, time.Time{}
	}
	queued := false
	if m.ttlKeys > 0 && !now.Before(m.nextExpiry) {
		var expired []string
		m.nextExpiry = time.Time{}
		for k, e := range m.entries {
			switch {
			case e.expireAt.IsZero():
			case !now.Before(e.expireAt):
				expired = append(expired, k)
			case m.nextExpiry.IsZero() || e.expireAt.Before(m.nextExpiry):
				m.nextExpiry = e.expireAt
			}
		}
		sort.Strings(expired)
		for _, k := range expired {
			if cs.removeKey(m, k, nil, now) {
				queued = true
			}
		}
	}
	if len(m.idem) > 0 {
		for k, r := range m.idem {
			if !now.Before(r.expireAt) {
				delete(m.idem, k)
			}
		}
	}
	return queued
}

// removeKey deletes a key, appends the removal to the stream (if any) and
// queues its delivery; it reports whether a delivery was queued.
func (cs *channelState) removeKey(m *mapChannel, key string, tags map[string]string, now time.Time) bool {
	e := m.entries[key]
	if e == nil {
		return false
	}
	delete(m.entries, key)
	m.sorted = nil
	if !e.expireAt.IsZero() {
		m.ttlKeys--
	}
	pub := &engine.Publication{Key: key, Removed: true, Tags: maps.Clone(tags), Time: now.UnixMilli()}
	m.append(pub, now)
	return cs.enqueue(event{kind: eventPublication, pub: pub, sp: m.position()})
}

// append gives pub the next offset and keeps it in the stream, for
// stream-backed maps; ephemeral maps leave offsets at 0.
func (m *mapChannel) append(pub *engine.Publication, now time.Time) {
	o := m.opts
	if o.StreamSize <= 0 {
		return
	}
	m.top++
	pub.Offset = m.top
	m.stream = append(m.stream, pub)
	if n := len(m.stream) - o.StreamSize; n > 0 {
		clear(m.stream[:n])
		m.stream = m.stream[n:]
	}
	if o.StreamTTL > 0 {
		m.streamExpireAt = now.Add(o.StreamTTL)
	}
}

// MapPublish writes one key and delivers the change.
func (e *Engine) MapPublish(ctx context.Context, channel, key string, data []byte, opts engine.MapPublishOptions) (engine.MapResult, error) {
	if err := e.check(ctx, "map publish"); err != nil {
		return engine.MapResult{}, err
	}
	h := e.eventHandler()
	now := e.now()
	pub := &engine.Publication{
		Key:   key,
		Data:  slices.Clone(data),
		Info:  cloneInfo(opts.Info),
		Tags:  maps.Clone(opts.Tags),
		Delta: opts.Delta,
		Time:  now.UnixMilli(),
	}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	m := cs.mapFor(now, opts.MapStreamOptions)
	queued := cs.expireMap(now)
	res, sent := cs.mapPublishLocked(m, pub, opts, now)
	queued = queued || sent
	drain := h != nil && queued
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return res, nil
}

// mapPublishLocked applies the write's conditions and, when none
// suppresses it, stores and queues it. Callers hold the shard lock.
func (cs *channelState) mapPublishLocked(m *mapChannel, pub *engine.Publication, opts engine.MapPublishOptions, now time.Time) (engine.MapResult, bool) {
	if r, ok := m.idem[opts.IdempotencyKey]; ok && opts.IdempotencyKey != "" && now.Before(r.expireAt) {
		res := r.res
		res.Suppressed, res.SuppressReason = true, engine.SuppressIdempotency
		return res, false
	}
	m.opts = opts.MapStreamOptions
	m.touch(now, opts.MapStreamOptions)
	cur := m.entries[pub.Key]
	suppress := ""
	switch {
	case opts.KeyMode == engine.KeyModeIfNew && cur != nil:
		suppress = engine.SuppressKeyExists
	case opts.KeyMode == engine.KeyModeIfExists && cur == nil:
		suppress = engine.SuppressKeyNotFound
	case opts.Version > 0 && opts.StreamSize > 0 && cur != nil && cur.versionEpoch == opts.VersionEpoch && opts.Version <= cur.version:
		suppress = engine.SuppressVersion
	}
	if suppress != "" {
		if opts.RefreshTTLOnSuppress && cur != nil {
			m.setExpiry(cur, now, opts.KeyTTL)
		}
		return engine.MapResult{Position: m.position(), Suppressed: true, SuppressReason: suppress}, false
	}
	m.append(pub, now)
	entry := &mapEntry{pub: pub, version: opts.Version, versionEpoch: opts.VersionEpoch}
	if cur == nil {
		m.sorted = nil
	} else if !cur.expireAt.IsZero() {
		m.ttlKeys--
	}
	m.setExpiry(entry, now, opts.KeyTTL)
	m.entries[pub.Key] = entry
	res := engine.MapResult{Position: m.position()}
	if opts.IdempotencyKey != "" {
		if m.idem == nil {
			m.idem = make(map[string]mapIdem)
		}
		ttl := orDefault(opts.IdempotentResultTTL, DefaultIdempotentResultTTL)
		m.idem[opts.IdempotencyKey] = mapIdem{res: res, expireAt: now.Add(ttl)}
	}
	ev := pub
	if opts.Delta && cur != nil {
		// The stored publication stays without the base; subscribers get
		// a copy that carries it.
		cp := *pub
		cp.PrevData = cur.pub.Data
		ev = &cp
	}
	return res, cs.enqueue(event{kind: eventPublication, pub: ev, sp: m.position()})
}

// setExpiry gives an entry its TTL (0: none), keeping ttlKeys right.
func (m *mapChannel) setExpiry(e *mapEntry, now time.Time, ttl time.Duration) {
	had := !e.expireAt.IsZero()
	if ttl > 0 {
		e.expireAt = now.Add(ttl)
	} else {
		e.expireAt = time.Time{}
	}
	switch has := !e.expireAt.IsZero(); {
	case has && !had:
		m.ttlKeys++
	case !has && had:
		m.ttlKeys--
	}
	if !e.expireAt.IsZero() && (m.nextExpiry.IsZero() || e.expireAt.Before(m.nextExpiry)) {
		m.nextExpiry = e.expireAt
	}
}

// MapRemove removes one key and delivers the removal.
func (e *Engine) MapRemove(ctx context.Context, channel, key string, opts engine.MapRemoveOptions) (engine.MapResult, error) {
	if err := e.check(ctx, "map remove"); err != nil {
		return engine.MapResult{}, err
	}
	h := e.eventHandler()
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	m := cs.mapFor(now, opts.MapStreamOptions)
	queued := cs.expireMap(now)
	var res engine.MapResult
	if r, ok := m.idem[opts.IdempotencyKey]; ok && opts.IdempotencyKey != "" && now.Before(r.expireAt) {
		res = r.res
		res.Suppressed, res.SuppressReason = true, engine.SuppressIdempotency
	} else if m.entries[key] == nil {
		res = engine.MapResult{Position: m.position(), Suppressed: true, SuppressReason: engine.SuppressKeyNotFound}
	} else {
		m.opts = opts.MapStreamOptions
		m.touch(now, opts.MapStreamOptions)
		if cs.removeKey(m, key, opts.Tags, now) {
			queued = true
		}
		res = engine.MapResult{Position: m.position()}
		if opts.IdempotencyKey != "" {
			if m.idem == nil {
				m.idem = make(map[string]mapIdem)
			}
			ttl := orDefault(opts.IdempotentResultTTL, DefaultIdempotentResultTTL)
			m.idem[opts.IdempotencyKey] = mapIdem{res: res, expireAt: now.Add(ttl)}
		}
	}
	drain := h != nil && queued
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return res, nil
}

// MapState reads one page of the map's keys in key order.
func (e *Engine) MapState(ctx context.Context, channel string, opts engine.MapStateOptions) (engine.MapState, error) {
	if err := e.check(ctx, "map state"); err != nil {
		return engine.MapState{}, err
	}
	h := e.eventHandler()
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	m := cs.mapFor(now, opts.MapStreamOptions)
	drain := cs.expireMap(now) && h != nil
	m.touch(now, opts.MapStreamOptions)
	st, err := m.page(opts)
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return st, err
}

// page selects the entries MapStateOptions describe. Callers hold the
// shard lock.
func (m *mapChannel) page(opts engine.MapStateOptions) (engine.MapState, error) {
	st := engine.MapState{Position: m.position()}
	if opts.Revision != nil {
		if opts.Revision.Epoch != "" && opts.Revision.Epoch != m.epoch {
			return st, engine.ErrUnrecoverablePosition
		}
		st.Position = engine.StreamPosition{Offset: opts.Revision.Offset, Epoch: m.epoch}
	}
	keep := func(en *mapEntry) bool {
		return opts.Revision == nil || en.pub.Offset <= opts.Revision.Offset
	}
	if opts.Key != "" {
		if en := m.entries[opts.Key]; en != nil && keep(en) {
			st.Entries = []*engine.Publication{en.pub}
		}
		return st, nil
	}
	if m.sorted == nil {
		m.sorted = slices.Sorted(maps.Keys(m.entries))
	}
	i := 0
	if opts.Cursor != "" {
		i = sort.SearchStrings(m.sorted, opts.Cursor)
		if i < len(m.sorted) && m.sorted[i] == opts.Cursor {
			i++
		}
	}
	for ; i < len(m.sorted); i++ {
		if opts.Limit > 0 && len(st.Entries) == opts.Limit {
			st.Cursor = m.sorted[i-1]
			break
		}
		if en := m.entries[m.sorted[i]]; keep(en) {
			st.Entries = append(st.Entries, en.pub)
		}
	}
	return st, nil
}

// MapStream reads changes from the map's stream.
func (e *Engine) MapStream(ctx context.Context, channel string, opts engine.MapReadOptions) ([]*engine.Publication, engine.StreamPosition, error) {
	if err := e.check(ctx, "map stream"); err != nil {
		return nil, engine.StreamPosition{}, err
	}
	h := e.eventHandler()
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	m := cs.mapFor(now, opts.MapStreamOptions)
	drain := cs.expireMap(now) && h != nil
	m.touch(now, opts.MapStreamOptions)
	pubs, err := m.read(opts)
	pos := m.position()
	sh.mu.Unlock()
	if drain {
		e.drain(h, sh, channel, cs)
	}
	return pubs, pos, err
}

// read selects changes after opts.Since. Callers hold the shard lock.
func (m *mapChannel) read(opts engine.MapReadOptions) ([]*engine.Publication, error) {
	start := 0
	if since := opts.Since; since != nil {
		if since.Epoch != "" && since.Epoch != m.epoch {
			return nil, engine.ErrUnrecoverablePosition
		}
		if since.Offset > m.top {
			return nil, engine.ErrUnrecoverablePosition
		}
		if since.Offset == m.top {
			return nil, nil
		}
		if len(m.stream) == 0 || m.stream[0].Offset > since.Offset+1 {
			return nil, engine.ErrUnrecoverablePosition
		}
		start = int(since.Offset + 1 - m.stream[0].Offset)
	}
	sel := m.stream[start:]
	if opts.Reverse {
		out := slices.Clone(sel)
		slices.Reverse(out)
		sel = out
	}
	if opts.Limit > 0 && len(sel) > opts.Limit {
		sel = sel[:opts.Limit]
	}
	return slices.Clone(sel), nil
}

// MapStats counts the map's keys.
func (e *Engine) MapStats(ctx context.Context, channel string) (int, error) {
	if err := e.check(ctx, "map stats"); err != nil {
		return 0, err
	}
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs := sh.get(channel)
	if cs == nil || cs.m == nil {
		return 0, nil
	}
	n := 0
	for _, en := range cs.m.entries {
		if en.expireAt.IsZero() || now.Before(en.expireAt) {
			n++
		}
	}
	return n, nil
}

// MapClear forgets the map; the next access starts a new epoch.
func (e *Engine) MapClear(ctx context.Context, channel string) error {
	if err := e.check(ctx, "map clear"); err != nil {
		return err
	}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	if cs := sh.get(channel); cs != nil {
		cs.m = nil
		sh.dropIfEmpty(channel, cs)
	}
	sh.mu.Unlock()
	return nil
}
