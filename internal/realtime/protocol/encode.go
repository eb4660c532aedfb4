package protocol

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// AppendReplyProtobuf appends r to dst as one length-delimited protobuf
// message (uvarint size, then the proto3 bytes), the unit a protobuf frame
// is built from. On error dst is returned unchanged.
func AppendReplyProtobuf(dst []byte, r *clientpb.Reply) ([]byte, error) {
	return appendProtobufSized(dst, r, proto.Size(r))
}

// appendProtobufSized is AppendReplyProtobuf with size = proto.Size(r)
// already computed.
func appendProtobufSized(dst []byte, r *clientpb.Reply, size int) ([]byte, error) {
	orig := len(dst)
	dst = binary.AppendUvarint(dst, uint64(size))
	// The sizes just computed are cached in the messages; reusing them
	// saves a second walk.
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(dst, r)
	if err != nil {
		return dst[:orig], fmt.Errorf("protocol: marshal protobuf reply: %w", err)
	}
	if len(out) != len(dst)+size {
		// The reply changed between Size and Marshal (a caller bug); the
		// length prefix would lie, so refuse rather than corrupt the stream.
		return dst[:orig], fmt.Errorf("protocol: marshal protobuf reply: size changed from %d to %d during encoding", size, len(out)-len(dst))
	}
	return out, nil
}

// AppendReply appends r in format t; the result is one self-contained item
// that Batch can join with others.
func AppendReply(t Type, dst []byte, r *clientpb.Reply) ([]byte, error) {
	switch t {
	case TypeJSON:
		return AppendReplyJSON(dst, r)
	case TypeProtobuf:
		return AppendReplyProtobuf(dst, r)
	}
	return dst, fmt.Errorf("protocol: encode reply as %s: %w", strconv.Quote(string(t)), ErrUnknownType)
}

// scratchPool holds buffers for EncodeReply so that encoding costs one
// exact-size allocation for the result regardless of its size.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledScratch keeps one huge reply from pinning memory in the pool.
const maxPooledScratch = 64 << 10

// EncodeReply returns the standalone encoding of r in format t in a fresh
// slice the caller owns. It exists so a push can be encoded once per format
// and the same bytes handed to every subscriber's Batch.
func EncodeReply(t Type, r *clientpb.Reply) ([]byte, error) {
	if t == TypeProtobuf {
		// The size is known up front, so encode straight into an exact slice.
		size := proto.Size(r)
		return appendProtobufSized(make([]byte, 0, size+binary.MaxVarintLen64), r, size)
	}
	bp := scratchPool.Get().(*[]byte)
	b, err := AppendReply(t, (*bp)[:0], r)
	var out []byte
	if err == nil {
		out = append([]byte(nil), b...)
	}
	if cap(b) <= maxPooledScratch {
		*bp = b
		scratchPool.Put(bp)
	}
	return out, err
}
