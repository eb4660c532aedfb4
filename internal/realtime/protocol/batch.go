package protocol

import (
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Batch joins already-encoded replies into one WebSocket message: JSON items
// separated by a single '\n' (no blank lines, no trailing newline), protobuf
// items simply concatenated since each carries its own length prefix. It
// lets a connection's writer coalesce queued replies and shared push bytes
// into one frame. The zero Batch is unusable; create one with NewBatch. It is
// not safe for concurrent use.
type Batch struct {
	t   Type
	buf []byte
	n   int
}

// NewBatch returns an empty batch for format t.
func NewBatch(t Type) *Batch { return &Batch{t: t} }

// Append adds one item as returned by EncodeReply or AppendReply. Empty
// items are ignored: in JSON they would produce a blank line, which clients
// reject, and in protobuf even an empty reply is one byte long.
func (b *Batch) Append(item []byte) {
	if len(item) == 0 {
		return
	}
	b.sep()
	b.buf = append(b.buf, item...)
	b.n++
}

// AppendReply encodes r directly into the batch, saving a copy for replies
// that go to one connection only. On error the batch is unchanged.
func (b *Batch) AppendReply(r *clientpb.Reply) error {
	mark := len(b.buf)
	b.sep()
	out, err := AppendReply(b.t, b.buf, r)
	if err != nil {
		b.buf = b.buf[:mark]
		return err
	}
	b.buf = out
	b.n++
	return nil
}

func (b *Batch) sep() {
	if b.t == TypeJSON && b.n > 0 {
		b.buf = append(b.buf, '\n')
	}
}

// Bytes returns the message to write. It aliases the batch's buffer and is
// valid until the next Append or Reset.
func (b *Batch) Bytes() []byte { return b.buf }

// Len is the number of items in the batch.
func (b *Batch) Len() int { return b.n }

// Size is the message size in bytes, for callers that cap frame sizes.
func (b *Batch) Size() int { return len(b.buf) }

// Type is the format the batch was created for.
func (b *Batch) Type() Type { return b.t }

// Reset empties the batch, keeping its buffer for the next message.
func (b *Batch) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
}
