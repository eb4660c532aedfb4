package redis

import (
	"context"
	"fmt"

	"github.com/redis/rueidis"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// Presence returns the channel's live entries keyed by client id. Expired
// entries are purged by the same script, so a crashed node's clients
// disappear after the presence TTL.
func (e *Engine) Presence(ctx context.Context, channel string) (map[string]*engine.ClientInfo, error) {
	const op = "presence"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	defer cancel()
	p := e.route(channel)
	vals, err := getPresenceScript.Exec(ctx, p.shard.client,
		[]string{p.keys.presenceExpire(channel), p.keys.presenceData(channel)}, []string{"all"}).ToArray()
	if err != nil {
		return nil, fail(ctx, op, err)
	}
	out := make(map[string]*engine.ClientInfo, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		id, err1 := vals[i].ToString()
		raw, err2 := vals[i+1].ToString()
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s of %q: %w", op, channel, errMalformed)
		}
		info, err := decodePresence(raw)
		if err != nil {
			return nil, fmt.Errorf("%s of %q, client %q: %w", op, channel, id, err)
		}
		out[id] = info
	}
	return out, nil
}

// PresenceStats counts the channel's live connections and distinct users.
func (e *Engine) PresenceStats(ctx context.Context, channel string) (engine.PresenceStats, error) {
	const op = "presence stats"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return engine.PresenceStats{}, err
	}
	defer cancel()
	p := e.route(channel)
	vals, err := getPresenceScript.Exec(ctx, p.shard.client,
		[]string{p.keys.presenceExpire(channel), p.keys.presenceData(channel)}, []string{"vals"}).ToArray()
	if err != nil {
		return engine.PresenceStats{}, fail(ctx, op, err)
	}
	users := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		raw, err := v.ToString()
		if err != nil {
			return engine.PresenceStats{}, fmt.Errorf("%s of %q: %w", op, channel, errMalformed)
		}
		u, err := presenceUser(raw)
		if err != nil {
			return engine.PresenceStats{}, fmt.Errorf("%s of %q: %w", op, channel, err)
		}
		users[u] = struct{}{}
	}
	return engine.PresenceStats{NumClients: len(vals), NumUsers: len(users)}, nil
}

// AddPresence adds or refreshes an entry for PresenceTTL.
func (e *Engine) AddPresence(ctx context.Context, channel, clientID string, info *engine.ClientInfo) error {
	const op = "add presence"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	p := e.route(channel)
	err = addPresenceScript.Exec(ctx, p.shard.client,
		[]string{p.keys.presenceExpire(channel), p.keys.presenceData(channel)},
		[]string{ms(e.opts.PresenceTTL), clientID, rueidis.BinaryString(encodePresence(info))}).Error()
	if err != nil {
		return fail(ctx, op, err)
	}
	return nil
}

// RemovePresence removes an entry at once. userID is not needed: users
// are counted from the entries themselves.
func (e *Engine) RemovePresence(ctx context.Context, channel, clientID, _ string) error {
	const op = "remove presence"
	ctx, cancel, err := e.begin(ctx, op)
	if err != nil {
		return err
	}
	defer cancel()
	p := e.route(channel)
	err = removePresenceScript.Exec(ctx, p.shard.client,
		[]string{p.keys.presenceExpire(channel), p.keys.presenceData(channel)}, []string{clientID}).Error()
	if err != nil {
		return fail(ctx, op, err)
	}
	return nil
}
