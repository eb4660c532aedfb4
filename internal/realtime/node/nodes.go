package node

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

// NodeInfo is one node as the info API reports it.
type NodeInfo struct {
	UID         string `json:"uid"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	NumClients  int    `json:"num_clients"`
	NumUsers    int    `json:"num_users"`
	NumChannels int    `json:"num_channels"`
	NumSubs     int    `json:"num_subs"`
	Uptime      int64  `json:"uptime"`
}

// nodeInfoInterval is how often each node announces itself; entries not
// refreshed for three intervals are dropped.
const nodeInfoInterval = 3 * time.Second

// nodeRegistry tracks the nodes that share this node's engine.
type nodeRegistry struct {
	n     *Node
	mu    sync.Mutex
	nodes map[string]nodeEntry
}

type nodeEntry struct {
	info NodeInfo
	seen time.Time
}

func newNodeRegistry(n *Node) *nodeRegistry {
	return &nodeRegistry{n: n, nodes: make(map[string]nodeEntry)}
}

func (r *nodeRegistry) self() NodeInfo {
	n := r.n
	return NodeInfo{
		UID: n.id, Name: n.name, Version: Version,
		NumClients: n.NumClients(), NumUsers: n.NumUsers(), NumChannels: n.NumChannels(), NumSubs: n.NumSubscriptions(),
		Uptime: int64(time.Since(n.started) / time.Second),
	}
}

func (r *nodeRegistry) update(info NodeInfo) {
	r.mu.Lock()
	r.nodes[info.UID] = nodeEntry{info: info, seen: time.Now()}
	r.mu.Unlock()
}

// remove forgets a node that said it is shutting down. Its last
// announcement cannot arrive afterwards and re-add it: a node stops
// announcing, and waits for the announcer to return, before it says so.
func (r *nodeRegistry) remove(uid string) {
	r.mu.Lock()
	delete(r.nodes, uid)
	r.mu.Unlock()
}

// run announces this node periodically until done is closed, then
// closes stopped.
func (r *nodeRegistry) run(done <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(nodeInfoInterval)
	defer t.Stop()
	for {
		r.announce()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func (r *nodeRegistry) announce() {
	info := r.self()
	ctx, cancel := context.WithTimeout(context.Background(), nodeInfoInterval)
	defer cancel()
	if err := r.publish(ctx, opNode, info); err != nil {
		r.n.log.Warn("announce node", "error", err)
	}
}

// leave tells the other nodes this one is shutting down.
func (r *nodeRegistry) leave(ctx context.Context) error {
	return r.publish(ctx, opShutdown, NodeInfo{UID: r.n.id, Name: r.n.name})
}

func (r *nodeRegistry) publish(ctx context.Context, op string, info NodeInfo) error {
	data, err := json.Marshal(controlMessage{Op: op, Node: &info})
	if err != nil {
		return fmt.Errorf("encode %s control message: %w", op, err)
	}
	return r.n.engine.PublishControl(ctx, data, "")
}

// known reports whether uid is this node or a live one it has heard from.
func (r *nodeRegistry) known(uid string) bool {
	if uid == r.n.id {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.nodes[uid]
	return ok && time.Since(e.seen) <= 3*nodeInfoInterval
}

// list returns the live nodes, this one always included and fresh.
func (r *nodeRegistry) list() []NodeInfo {
	self := r.self()
	r.mu.Lock()
	out := []NodeInfo{self}
	for id, e := range r.nodes {
		if time.Since(e.seen) > 3*nodeInfoInterval {
			delete(r.nodes, id)
			continue
		}
		if id != self.UID {
			out = append(out, e.info)
		}
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Info lists the nodes running on this engine.
func (n *Node) Info(context.Context) ([]NodeInfo, error) {
	return n.nodes.list(), nil
}
