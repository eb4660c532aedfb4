package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// maxCleanupRounds bounds how many batches one cleanup tick takes from a
// shard, so a backlog (after an outage) is worked off quickly without one
// tick running for ever.
const maxCleanupRounds = 10

// mapCleanup is the background loop that turns expired map keys into
// removals. Writes and reads of a map apply due expiries themselves; the
// loop is what removes keys of maps nobody touches, within about one
// interval of their TTL.
type mapCleanup struct {
	// ctx ends when the loop is stopped, so a round waiting on an
	// unreachable Redis does not hold up Close.
	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{}
	done   chan struct{}
}

// startMapCleanup starts the loop; Run calls it once.
func (e *Engine) startMapCleanup() {
	ctx, cancel := context.WithCancel(context.Background())
	c := &mapCleanup{ctx: ctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	e.cleanup = c
	go e.runMapCleanup(c)
}

// stopMapCleanup stops the loop and waits for the round in progress,
// or for ctx.
func (e *Engine) stopMapCleanup(ctx context.Context) error {
	c := e.cleanup
	if c == nil {
		return nil
	}
	close(c.stop)
	c.cancel()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close redis engine: waiting for map cleanup: %w", ctx.Err())
	}
}

func (e *Engine) runMapCleanup(c *mapCleanup) {
	defer close(c.done)
	t := time.NewTicker(e.opts.MapCleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			e.cleanupMaps(c)
		}
	}
}

// cleanupMaps works through every shard's due maps. Failures (Redis
// down) are logged once per shard and tick; the next tick retries.
func (e *Engine) cleanupMaps(c *mapCleanup) {
	for _, sh := range e.shards {
		for range maxCleanupRounds {
			if c.ctx.Err() != nil {
				return
			}
			more, err := e.cleanupShard(c.ctx, sh)
			if err != nil {
				if c.ctx.Err() != nil {
					return // stopped, not failed
				}
				e.opts.Logger.Warn("redis engine: map key expiry", "error", err)
				break
			}
			if !more {
				break
			}
		}
	}
}

// cleanupShard runs one round on a shard: one pipelined script call per
// partition lists the maps with due keys, then one pipelined script call
// per such map removes them. It reports whether a batch came back full,
// so more may be due.
func (e *Engine) cleanupShard(parent context.Context, sh *shard) (bool, error) {
	const op = "map cleanup"
	ctx, cancel := context.WithTimeout(parent, e.opts.IOTimeout)
	defer cancel()
	batch := e.opts.MapCleanupBatchSize
	batchArg := strconv.Itoa(batch)
	scans := make([]rueidis.LuaExec, len(sh.parts))
	for i, p := range sh.parts {
		scans[i] = rueidis.LuaExec{Keys: []string{p.keys.mapExpiring()}, Args: []string{batchArg}}
	}
	more := false
	var execs []rueidis.LuaExec
	for i, r := range evalMulti(ctx, sh.client, mapDueScript, mapDueSHA, scans) {
		chans, err := r.AsStrSlice()
		if err != nil {
			return false, fail(ctx, op, err)
		}
		if len(chans) >= batch {
			more = true
		}
		p := sh.parts[i]
		for _, ch := range chans {
			execs = append(execs, rueidis.LuaExec{
				Keys: p.keys.mapKeys(ch),
				Args: []string{ch, p.keys.pubsub(ch), p.publishCommand(), batchArg, newEpoch(), ms(mapIdleTTL)},
			})
		}
	}
	if len(execs) == 0 {
		return false, nil
	}
	var firstErr error
	for _, r := range evalMulti(ctx, sh.client, mapExpireScript, mapExpireSHA, execs) {
		n, err := r.AsInt64()
		if err != nil {
			if firstErr == nil {
				firstErr = fail(ctx, op, err)
			}
			continue
		}
		if n >= int64(batch) {
			more = true
		}
	}
	return more, firstErr
}
