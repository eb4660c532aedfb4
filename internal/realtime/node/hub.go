package node

import (
	"hash/fnv"
	"sync"
)

const hubShards = 64

// hub indexes this node's connections by id and user, and subscribers by
// channel. Channels are sharded so fan-out on one channel does not block
// subscribes on another.
type hub struct {
	mu      sync.RWMutex
	clients map[string]*Client
	users   map[string]map[string]*Client

	shards [hubShards]hubShard
}

type hubShard struct {
	mu   sync.RWMutex
	subs map[string]map[string]*Client // channel → client id → client
}

func newHub() *hub {
	h := &hub{
		clients: make(map[string]*Client),
		users:   make(map[string]map[string]*Client),
	}
	for i := range h.shards {
		h.shards[i].subs = make(map[string]map[string]*Client)
	}
	return h
}

func (h *hub) shard(ch string) *hubShard {
	return &h.shards[shardIndex(ch)]
}

// shardIndex spreads channels over the hub's shards.
func shardIndex(ch string) int {
	f := fnv.New32a()
	_, _ = f.Write([]byte(ch))
	return int(f.Sum32() % hubShards)
}

// addClient registers an authenticated connection unless its user already
// has limit connections (limit 0: no limit; anonymous connections are not
// counted per user). The caller holds c.mu.
func (h *hub) addClient(c *Client, limit int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[c.user]
	if limit > 0 && c.user != "" && len(u) >= limit {
		return false
	}
	h.clients[c.id] = c
	if u == nil {
		u = make(map[string]*Client)
		h.users[c.user] = u
	}
	u[c.id] = c
	return true
}

func (h *hub) removeClient(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c.id]; !ok {
		return
	}
	delete(h.clients, c.id)
	if u := h.users[c.user]; u != nil {
		delete(u, c.id)
		if len(u) == 0 {
			delete(h.users, c.user)
		}
	}
}

func (h *hub) userConnections(user string) []*Client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	u := h.users[user]
	out := make([]*Client, 0, len(u))
	for _, c := range u {
		out = append(out, c)
	}
	return out
}

func (h *hub) allClients() []*Client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Client, 0, len(h.clients))
	for _, c := range h.clients {
		out = append(out, c)
	}
	return out
}

func (h *hub) numClients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

func (h *hub) numUsers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.users)
}

// addSub adds a subscriber; first is true when the channel had none on
// this node (the caller then subscribes the broker).
func (h *hub) addSub(ch string, c *Client) (first bool) {
	s := h.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.subs[ch]
	if m == nil {
		m = make(map[string]*Client)
		s.subs[ch] = m
		first = true
	}
	m[c.id] = c
	return first
}

// removeSub removes a subscriber; removed is false when it was not one,
// last is true when the channel has none left on this node.
func (h *hub) removeSub(ch string, c *Client) (removed, last bool) {
	s := h.shard(ch)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.subs[ch]
	if m == nil {
		return false, false
	}
	if _, ok := m[c.id]; !ok {
		return false, false
	}
	delete(m, c.id)
	if len(m) == 0 {
		delete(s.subs, ch)
		return true, true
	}
	return true, false
}

// subscribers copies the channel's subscribers into dst, so fan-out runs
// without holding the shard lock while writing.
func (h *hub) subscribers(ch string, dst []*Client) []*Client {
	s := h.shard(ch)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.subs[ch] {
		dst = append(dst, c)
	}
	return dst
}

// channels returns every channel with subscribers on this node and their
// subscriber counts.
func (h *hub) channels() map[string]int {
	out := make(map[string]int)
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for ch, m := range s.subs {
			out[ch] = len(m)
		}
		s.mu.RUnlock()
	}
	return out
}

func (h *hub) numChannels() int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		n += len(s.subs)
		s.mu.RUnlock()
	}
	return n
}

func (h *hub) numSubscriptions() int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for _, m := range s.subs {
			n += len(m)
		}
		s.mu.RUnlock()
	}
	return n
}
