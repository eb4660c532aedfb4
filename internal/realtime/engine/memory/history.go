package memory

import (
	"context"
	"fmt"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// History returns publications selected by opts and the current top. A
// missing stream is created (offset 0, fresh epoch) so a subscriber gets
// an epoch that the first publication will keep. Since with a non-empty
// epoch that differs from the stream's fails with
// engine.ErrUnrecoverablePosition, still returning the current top so the
// caller can report it.
func (e *Engine) History(ctx context.Context, channel string, opts engine.HistoryOptions) ([]*engine.Publication, engine.StreamPosition, error) {
	if err := e.check(ctx, "history"); err != nil {
		return nil, engine.StreamPosition{}, err
	}
	metaTTL := orDefault(opts.MetaTTL, e.metaTTL)
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	cs := sh.getOrCreate(channel)
	cs.expireStream(now)
	if cs.stream == nil {
		cs.stream = newStream(now, metaTTL)
	}
	st := cs.stream
	top := st.position()
	if opts.Since != nil && opts.Since.Epoch != "" && opts.Since.Epoch != st.epoch {
		sh.mu.Unlock()
		return nil, top, fmt.Errorf("history of %q since epoch %q (stream epoch %q): %w",
			channel, opts.Since.Epoch, st.epoch, engine.ErrUnrecoverablePosition)
	}
	pubs := st.slice(opts.Since, opts.Limit, opts.Reverse)
	sh.mu.Unlock()
	return pubs, top, nil
}

// RemoveHistory drops the channel's publications but keeps its epoch and
// top offset, so clients can still detect that they missed messages.
func (e *Engine) RemoveHistory(ctx context.Context, channel string) error {
	if err := e.check(ctx, "remove history"); err != nil {
		return err
	}
	now := e.now()
	sh := e.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cs := sh.get(channel)
	if cs == nil {
		return nil
	}
	cs.expireStream(now)
	if cs.stream != nil {
		cs.stream.clear()
	}
	sh.dropIfEmpty(channel, cs)
	return nil
}
