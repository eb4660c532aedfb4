package worker

import (
	"time"
)

// supervise checks the soft limits every watch_tick. Offenders finish
// their current request first; exec_ttl is enforced per request instead.
func (p *Pool) supervise() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.Supervisor.WatchTick)
	defer t.Stop()
	for {
		select {
		case <-p.base.Done():
			return
		case <-t.C:
			p.inspect(time.Now())
		}
	}
}

func (p *Pool) inspect(now time.Time) {
	s := p.cfg.Supervisor
	p.mu.Lock()
	list := make([]*worker, 0, len(p.workers))
	for w := range p.workers {
		if w.inService && w.retireAs == 0 {
			list = append(list, w)
		}
	}
	p.mu.Unlock()

	memLimit := s.MaxWorkerMemory << 20
	rss := make(map[*worker]uint64, len(list))
	if memLimit > 0 {
		for _, w := range list {
			if m, err := readRSS(w.pid); err == nil {
				rss[w] = m
			}
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range list {
		if !w.inService || w.retireAs != 0 {
			continue
		}
		var reason State
		switch {
		case s.TTL > 0 && now.Sub(w.created) >= s.TTL:
			reason = StateTTLReached
		case memLimit > 0 && rss[w] >= memLimit:
			reason = StateMaxMemoryReached
		case s.IdleTTL > 0 && w.state == StateReady && !w.lastUsed.IsZero() && now.Sub(w.lastUsed) >= s.IdleTTL:
			reason = StateIdleTTLReached
		default:
			continue
		}
		p.log.Info("worker over its limit, retiring it", "pid", w.pid, "reason", reason.String(),
			"rss_bytes", rss[w], "age", now.Sub(w.created).Round(time.Millisecond))
		if w.state == StateReady {
			p.retireLocked(w, reason)
		} else {
			w.retireAs = reason
		}
	}
}
