package memory

import (
	"context"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// AddPresence adds the client or refreshes its entry for another
// PresenceTTL. The info is copied, so the caller may reuse its value.
func (e *Engine) AddPresence(ctx context.Context, channel, clientID string, info *engine.ClientInfo) error {
	if err := e.check(ctx, "add presence"); err != nil {
		return err
	}
	stored := cloneInfo(info)
	if stored == nil {
		stored = &engine.ClientInfo{Client: clientID}
	}
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	if cs.presence == nil {
		cs.presence = make(map[string]presenceEntry)
	}
	cs.presence[clientID] = presenceEntry{info: stored, expireAt: now.Add(e.presenceTTL)}
	sh.mu.Unlock()
	return nil
}

// RemovePresence drops the client's entry. userID is not needed here: the
// memory engine counts users from the entries themselves.
func (e *Engine) RemovePresence(ctx context.Context, channel, clientID, _ string) error {
	if err := e.check(ctx, "remove presence"); err != nil {
		return err
	}
	sh := e.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs := sh.get(channel)
	if cs == nil {
		return nil
	}
	delete(cs.presence, clientID)
	sh.dropIfEmpty(channel, cs)
	return nil
}

// Presence returns the live entries keyed by client id. The map is fresh;
// the ClientInfo values are shared and must be treated as read-only.
func (e *Engine) Presence(ctx context.Context, channel string) (map[string]*engine.ClientInfo, error) {
	if err := e.check(ctx, "presence"); err != nil {
		return nil, err
	}
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs := sh.get(channel)
	if cs == nil {
		return map[string]*engine.ClientInfo{}, nil
	}
	out := make(map[string]*engine.ClientInfo, len(cs.presence))
	for id, p := range cs.presence {
		if !now.Before(p.expireAt) {
			delete(cs.presence, id)
			continue
		}
		out[id] = p.info
	}
	sh.dropIfEmpty(channel, cs)
	return out, nil
}

// PresenceStats counts live connections and distinct users.
func (e *Engine) PresenceStats(ctx context.Context, channel string) (engine.PresenceStats, error) {
	if err := e.check(ctx, "presence stats"); err != nil {
		return engine.PresenceStats{}, err
	}
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs := sh.get(channel)
	if cs == nil {
		return engine.PresenceStats{}, nil
	}
	users := make(map[string]struct{}, len(cs.presence))
	for id, p := range cs.presence {
		if !now.Before(p.expireAt) {
			delete(cs.presence, id)
			continue
		}
		users[p.info.User] = struct{}{}
	}
	sh.dropIfEmpty(channel, cs)
	return engine.PresenceStats{NumClients: len(cs.presence), NumUsers: len(users)}, nil
}

// cloneInfo copies the struct so later changes by the caller do not leak
// into stored state; the byte slices are shared, being treated as
// immutable throughout the node.
func cloneInfo(info *engine.ClientInfo) *engine.ClientInfo {
	if info == nil {
		return nil
	}
	c := *info
	return &c
}
