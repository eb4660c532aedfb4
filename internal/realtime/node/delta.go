package node

import (
	"sync"
	"unicode/utf8"

	"github.com/spindle-rt/spindle/internal/fossil"
	"github.com/spindle-rt/spindle/internal/jsonwire"
	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Delta compression (Fossil), negotiated per subscription with
// `delta: "fossil"` in a namespace whose allowed_delta_types has it.
//
// A subscriber that negotiated delta gets every publication in one of two
// forms: whole, or as a patch against the publication before it. A patch
// is sent only when it can be applied: the publisher allowed deltas
// (Publication.Delta), the publication before it in the stream is the one
// this client got last (same epoch, offset one less), and the patch is
// shorter than the payload. Otherwise the payload goes whole, and the
// client takes it as its new base. The patch is computed once per
// publication, not per subscriber: the base is the previous publication
// this node delivered on the channel (deltaBases), which is what every
// subscriber that got it holds.
//
// On JSON connections a delta subscription carries every payload as a JSON
// string of its bytes (whole or patch), as the SDKs expect; a patch that is
// not valid UTF-8 (an insert cutting a multi-byte character) would not
// survive that, so the payload then goes whole.

// deltaBases keeps, per channel, the last publication with an offset this
// node delivered: the base of the next one's patch, whether or not that
// one allowed deltas. Sharded like the hub; each shard's mu is a leaf.
// The cost is one payload reference per channel with local subscribers
// (the bytes the memory engine's history holds anyway; with Redis, one
// payload per channel); keeping it only for fossil namespaces would cost a
// namespace lookup per publication instead.
type deltaBases struct {
	shards [hubShards]deltaShard
}

type deltaShard struct {
	mu sync.Mutex
	m  map[string]deltaBase
}

type deltaBase struct {
	epoch  string
	offset uint64
	data   []byte
}

// swap records pub as the channel's base and returns the previous base's
// data when it is the publication right before pub in the same stream.
func (d *deltaBases) swap(ch, epoch string, pub *engine.Publication) []byte {
	sh := &d.shards[shardIndex(ch)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = make(map[string]deltaBase)
	}
	prev, ok := sh.m[ch]
	sh.m[ch] = deltaBase{epoch: epoch, offset: pub.Offset, data: pub.Data}
	if ok && prev.epoch == epoch && prev.offset+1 == pub.Offset {
		return prev.data
	}
	return nil
}

// offer makes pub the channel's base unless a newer one of the same
// stream is there already. A recovery offers the last publication it read,
// so that when this node had no subscriber on the channel (and so saw
// nothing since) the next live publication can still be a patch.
func (d *deltaBases) offer(ch, epoch string, pub *engine.Publication) {
	sh := &d.shards[shardIndex(ch)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = make(map[string]deltaBase)
	}
	if cur, ok := sh.m[ch]; ok && cur.epoch == epoch && cur.offset >= pub.Offset {
		return
	}
	sh.m[ch] = deltaBase{epoch: epoch, offset: pub.Offset, data: pub.Data}
}

// drop forgets a channel this node no longer has subscribers for.
func (d *deltaBases) drop(ch string) {
	sh := &d.shards[shardIndex(ch)]
	sh.mu.Lock()
	delete(sh.m, ch)
	sh.mu.Unlock()
}

// pushForm is how one subscriber gets a publication push.
type pushForm uint8

const (
	formPlain      pushForm = iota // no delta negotiated: the usual push
	formDeltaWhole                 // delta negotiated, payload whole (a JSON string on JSON)
	formDeltaPatch                 // a patch against the previous publication
)

// deltaPush holds a publication's delta-subscriber encodings, each made at
// most once.
type deltaPush struct {
	base      []byte // the previous publication's payload; nil: none usable
	patchOnce sync.Once
	patch     []byte        // nil: no patch worth sending
	forms     [2][2]encoded // [whole|patch][json|protobuf]
}

type encoded struct {
	once sync.Once
	b    []byte
	err  error
}

// patchFor is the Fossil patch of data against the base, when it is
// shorter than data.
func (d *deltaPush) patchFor(data []byte) []byte {
	d.patchOnce.Do(func() {
		if d.base == nil {
			return
		}
		if p := fossil.Delta(d.base, data); len(p) < len(data) {
			d.patch = p
		}
	})
	return d.patch
}

// deltaData is a payload as a delta subscription carries it: the bytes on
// Protobuf, a JSON string of them on JSON.
func deltaData(t protocol.Type, b []byte) []byte {
	if t == protocol.TypeProtobuf {
		return b
	}
	return jsonwire.AppendString(make([]byte, 0, len(b)+8), string(b))
}

// deltaPublication is pub in a delta subscription's form: whole, or as a
// patch (delta true).
func deltaPublication(t protocol.Type, pub *clientpb.Publication, data []byte, patch bool) *clientpb.Publication {
	out := &clientpb.Publication{Data: deltaData(t, data), Info: pub.Info, Offset: pub.Offset, Tags: pub.Tags, Delta: patch, Key: pub.Key, Epoch: pub.Epoch, Version: pub.Version}
	if !patch {
		out.Time = pub.Time
	}
	return out
}

// formLocked picks the form of pub for subscription s and advances its
// delta state. Callers hold c.mu.
func (c *Client) formLocked(s *subscription, p *preparedPush, pub *engine.Publication, sp engine.StreamPosition) pushForm {
	if !s.delta {
		return formPlain
	}
	if s.mapType != subTypeStream {
		return c.mapFormLocked(s, p, pub)
	}
	form := formDeltaWhole
	if s.deltaReady && pub.Offset > 0 && s.deltaOffset+1 == pub.Offset && s.deltaEpoch == sp.Epoch {
		if patch := p.delta.patchFor(pub.Data); patch != nil && (c.proto == protocol.TypeProtobuf || utf8.Valid(patch)) {
			form = formDeltaPatch
		}
	}
	// Whatever went, the client now holds this payload as its base; a
	// stream without offsets cannot chain, so it stays whole.
	s.deltaReady = pub.Offset > 0
	s.deltaOffset, s.deltaEpoch = pub.Offset, sp.Epoch
	return form
}

// mapFormLocked picks the form of a map change: a patch against the key's
// previous value when the subscription is positioned (it then holds every
// key's current value: state, catch-up and every change since, in order)
// and the patch pays; a removal carries no value to patch. Callers hold
// c.mu.
func (c *Client) mapFormLocked(s *subscription, p *preparedPush, pub *engine.Publication) pushForm {
	if pub.Removed {
		return formPlain
	}
	if s.positioned && p.delta.base != nil {
		if patch := p.delta.patchFor(pub.Data); patch != nil && (c.proto == protocol.TypeProtobuf || utf8.Valid(patch)) {
			return formDeltaPatch
		}
	}
	return formDeltaWhole
}

// bytesFor encodes p for a client of wire format t in the given form.
func (p *preparedPush) bytesFor(t protocol.Type, form pushForm) ([]byte, error) {
	if form == formPlain || (form == formDeltaWhole && t == protocol.TypeProtobuf) {
		return p.bytes(t)
	}
	i, j := 0, 0
	if form == formDeltaPatch {
		i = 1
	}
	if t == protocol.TypeProtobuf {
		j = 1
	}
	e := &p.delta.forms[i][j]
	e.once.Do(func() {
		pub := p.reply.Push.Pub
		data := pub.Data
		if form == formDeltaPatch {
			data = p.delta.patchFor(pub.Data)
		}
		r := &clientpb.Reply{Push: &clientpb.Push{Channel: p.reply.Push.Channel, Pub: deltaPublication(t, pub, data, form == formDeltaPatch)}}
		e.b, e.err = protocol.EncodeReply(t, r)
	})
	return e.b, e.err
}

// recoveredForDelta turns recovered publications into a delta
// subscription's form: the first whole, each next one a patch against its
// predecessor where that is shorter (and, on JSON, valid UTF-8). It sets
// the subscription's delta state to the last one. Callers own s (it is
// still syncing).
func (c *Client) recoveredForDelta(s *subscription, pubs []*engine.Publication, epoch string) []*clientpb.Publication {
	out := make([]*clientpb.Publication, len(pubs))
	for i, p := range pubs {
		base := toProtoPub(p)
		if i > 0 {
			if patch := fossil.Delta(pubs[i-1].Data, p.Data); len(patch) < len(p.Data) && (c.proto == protocol.TypeProtobuf || utf8.Valid(patch)) {
				out[i] = deltaPublication(c.proto, base, patch, true)
				continue
			}
		}
		out[i] = deltaPublication(c.proto, base, p.Data, false)
	}
	if n := len(pubs); n > 0 {
		s.deltaReady = true
		s.deltaOffset, s.deltaEpoch = pubs[n-1].Offset, epoch
		c.n.deltaBases.offer(s.channel, epoch, pubs[n-1])
	}
	return out
}
