package node

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// waitTimeout bounds every wait in the hub tests: long enough for a
// loaded 2-core machine under -race, short enough that a hang fails fast.
const waitTimeout = 5 * time.Second

// fakeTransport is the Transport hub tests attach clients to. It keeps
// what a client would receive: every frame as written (one Write is one
// frame, whatever session kind the transport stands for — a bidirectional
// socket, or later a stream or unidirectional session whose frames are
// pushes only), the same frames decoded into replies with the wire format
// the node was told, and the close code. Tests read it only through the
// wait helpers, so nothing depends on goroutine timing.
type fakeTransport struct {
	name  string
	proto protocol.Type
	// raw keeps frames undecoded: a unidirectional transport's are bare
	// pushes, not replies.
	raw bool

	mu sync.Mutex
	// block, when not nil, holds every Write until it is closed: a client
	// that stopped reading.
	block chan struct{}
	// writeErr, when set, fails every Write: a dead socket.
	writeErr    error
	changed     chan struct{} // closed and replaced on every Write and Close
	frames      [][]byte
	replies     []*clientpb.Reply
	decodeErr   error
	closed      bool
	closeCode   int
	closeReason string
}

func newFakeTransport(t protocol.Type) *fakeTransport {
	return &fakeTransport{name: "websocket", proto: t, changed: make(chan struct{})}
}

func (f *fakeTransport) Name() string            { return f.name }
func (f *fakeTransport) Protocol() protocol.Type { return f.proto }

// Write records a copy of the frame (the node reuses its buffer) and its
// decoded replies.
func (f *fakeTransport) Write(frame []byte) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	f.mu.Lock()
	werr := f.writeErr
	f.mu.Unlock()
	if werr != nil {
		return werr
	}
	b := bytes.Clone(frame)
	if f.raw {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.frames = append(f.frames, b)
		f.notifyLocked()
		return nil
	}
	replies, err := decodeFrame(f.proto, b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, b)
	f.replies = append(f.replies, replies...)
	if err != nil && f.decodeErr == nil {
		f.decodeErr = err
	}
	f.notifyLocked()
	return nil
}

// blockWrites makes Write hang, as for a client that stopped reading,
// until release is called.
func (f *fakeTransport) blockWrites() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.block = ch
	f.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// failWrites makes every later Write fail with err.
func (f *fakeTransport) failWrites(err error) {
	f.mu.Lock()
	f.writeErr = err
	f.mu.Unlock()
}

// Close records the first close code, as a real socket would send only
// one close frame.
func (f *fakeTransport) Close(code int, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed, f.closeCode, f.closeReason = true, code, reason
		f.notifyLocked()
	}
	return nil
}

func (f *fakeTransport) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// waitUntil polls cond (called with f.mu held) at every change until it
// holds or waitTimeout passes.
func (f *fakeTransport) waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if f.decodeErr != nil {
			f.mu.Unlock()
			t.Fatalf("undecodable frame from the node: %v", f.decodeErr)
		}
		ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; got %d replies: %v", what, len(f.allReplies()), f.allReplies())
		}
	}
}

// allReplies is a snapshot of every decoded reply so far.
func (f *fakeTransport) allReplies() []*clientpb.Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*clientpb.Reply(nil), f.replies...)
}

// allFrames is a snapshot of the raw frames so far.
func (f *fakeTransport) allFrames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.frames...)
}

// waitClosed returns the close code once the node closed the transport.
func (f *fakeTransport) waitClosed(t testing.TB) int {
	t.Helper()
	f.waitUntil(t, "close", func() bool { return f.closed })
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closeCode
}

// isClosed reports whether the node closed the transport (and with which
// code) without waiting.
func (f *fakeTransport) isClosed() (bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed, f.closeCode
}

// closeReasonText is the reason of the close frame (empty before a close).
func (f *fakeTransport) closeReasonText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closeReason
}

// decodeFrame splits one frame into replies: newline-separated JSON
// objects, or length-prefixed protobuf messages.
func decodeFrame(t protocol.Type, frame []byte) ([]*clientpb.Reply, error) {
	var out []*clientpb.Reply
	switch t {
	case protocol.TypeJSON:
		for _, line := range bytes.Split(frame, []byte("\n")) {
			r := &clientpb.Reply{}
			if err := jsonToMessage(line, r.ProtoReflect()); err != nil {
				return out, fmt.Errorf("json reply %q: %w", line, err)
			}
			out = append(out, r)
		}
	case protocol.TypeProtobuf:
		for len(frame) > 0 {
			size, n := binary.Uvarint(frame)
			if n <= 0 || uint64(len(frame)-n) < size {
				return out, errors.New("protobuf frame: bad length prefix")
			}
			r := &clientpb.Reply{}
			if err := proto.Unmarshal(frame[n:n+int(size)], r); err != nil {
				return out, fmt.Errorf("protobuf reply: %w", err)
			}
			out = append(out, r)
			frame = frame[n+int(size):]
		}
	default:
		return nil, fmt.Errorf("unknown protocol %q", t)
	}
	return out, nil
}

// encodeFrame puts commands into one client frame the way SDKs do.
func encodeFrame(t protocol.Type, cmds ...*clientpb.Command) []byte {
	var b []byte
	for i, c := range cmds {
		if t == protocol.TypeJSON {
			if i > 0 {
				b = append(b, '\n')
			}
			b = appendMessageJSON(b, c.ProtoReflect())
			continue
		}
		p, err := proto.Marshal(c)
		if err != nil {
			panic(fmt.Sprintf("marshal command: %v", err)) // a test bug
		}
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

// appendMessageJSON writes a message in the client protocol's JSON form:
// proto field names, bytes fields as embedded raw JSON, 64-bit integers
// as numbers. It is driven by descriptors, independent of the node's
// hand-written codec, so it cannot share that codec's mistakes.
func appendMessageJSON(b []byte, m protoreflect.Message) []byte {
	b = append(b, '{')
	first := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendQuote(b, string(fd.Name()))
		b = append(b, ':')
		switch {
		case fd.IsMap():
			b = append(b, '{')
			i := 0
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if i > 0 {
					b = append(b, ',')
				}
				i++
				b = strconv.AppendQuote(b, k.String())
				b = append(b, ':')
				b = appendValueJSON(b, fd.MapValue(), mv)
				return true
			})
			b = append(b, '}')
		case fd.IsList():
			b = append(b, '[')
			for i := 0; i < v.List().Len(); i++ {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendValueJSON(b, fd, v.List().Get(i))
			}
			b = append(b, ']')
		default:
			b = appendValueJSON(b, fd, v)
		}
		return true
	})
	return append(b, '}')
}

func appendValueJSON(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		return appendMessageJSON(b, v.Message())
	case protoreflect.BytesKind:
		return append(b, v.Bytes()...)
	case protoreflect.StringKind:
		s, _ := json.Marshal(v.String())
		return append(b, s...)
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool())
	case protoreflect.EnumKind:
		return strconv.AppendInt(b, int64(v.Enum()), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10)
	default:
		return strconv.AppendInt(b, v.Int(), 10)
	}
}

// jsonToMessage reads a reply the node wrote in JSON into m. An unknown
// key fails: it would mean the node writes something SDKs do not expect.
func jsonToMessage(data []byte, m protoreflect.Message) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	fields := m.Descriptor().Fields()
	for k, raw := range obj {
		fd := fields.ByName(protoreflect.Name(k))
		if fd == nil {
			return fmt.Errorf("unknown field %q", k)
		}
		switch {
		case fd.IsMap():
			var mm map[string]json.RawMessage
			if err := json.Unmarshal(raw, &mm); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			dst := m.Mutable(fd).Map()
			for mk, mv := range mm {
				v, err := jsonToValue(fd.MapValue(), mv, dst.NewValue)
				if err != nil {
					return fmt.Errorf("%s.%s: %w", k, mk, err)
				}
				dst.Set(protoreflect.ValueOfString(mk).MapKey(), v)
			}
		case fd.IsList():
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			dst := m.Mutable(fd).List()
			for i, el := range arr {
				v, err := jsonToValue(fd, el, dst.NewElement)
				if err != nil {
					return fmt.Errorf("%s.%d: %w", k, i, err)
				}
				dst.Append(v)
			}
		default:
			v, err := jsonToValue(fd, raw, func() protoreflect.Value { return m.NewField(fd) })
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			m.Set(fd, v)
		}
	}
	return nil
}

func jsonToValue(fd protoreflect.FieldDescriptor, raw json.RawMessage, newMsg func() protoreflect.Value) (protoreflect.Value, error) {
	var err error
	switch fd.Kind() {
	case protoreflect.MessageKind:
		v := newMsg()
		return v, jsonToMessage(raw, v.Message())
	case protoreflect.BytesKind:
		var c bytes.Buffer
		if err = json.Compact(&c, raw); err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfBytes(c.Bytes()), nil
	case protoreflect.StringKind:
		var s string
		err = json.Unmarshal(raw, &s)
		return protoreflect.ValueOfString(s), err
	case protoreflect.BoolKind:
		var x bool
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfBool(x), err
	case protoreflect.EnumKind:
		var x int32
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(x)), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		var x uint32
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfUint32(x), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		var x uint64
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfUint64(x), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		var x int32
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfInt32(x), err
	default:
		var x int64
		err = json.Unmarshal(raw, &x)
		return protoreflect.ValueOfInt64(x), err
	}
}
