package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/proto/clientpb"
)

// CommandDecoder yields the commands of one incoming WebSocket message one
// at a time, so the server can dispatch each as soon as it is decoded
// without building a slice. It is not safe for concurrent use.
type CommandDecoder struct {
	t    Type
	data []byte
	pos  int   // byte offset of the next command in data
	n    int   // commands decoded so far
	err  error // sticky: once a frame is bad, it stays bad
}

// NewCommandDecoder returns a decoder over data, one WebSocket message in
// format t. The decoder copies what it keeps, so data may be reused once
// decoding is done.
func NewCommandDecoder(t Type, data []byte) *CommandDecoder {
	d := &CommandDecoder{}
	d.Reset(t, data)
	return d
}

// Reset points the decoder at a new message, letting a connection reuse one
// decoder for its whole life.
func (d *CommandDecoder) Reset(t Type, data []byte) {
	*d = CommandDecoder{t: t, data: data}
}

// Decode returns the next command, or io.EOF after the last one. A frame
// holding no command at all is an error (not io.EOF), and so is anything
// malformed; such errors are *DecodeError wrapping ErrMalformed, and every
// later call returns the same error.
func (d *CommandDecoder) Decode() (*clientpb.Command, error) {
	if d.err != nil {
		return nil, d.err
	}
	var cmd *clientpb.Command
	switch d.t {
	case TypeJSON:
		cmd, d.err = d.decodeJSON()
	case TypeProtobuf:
		cmd, d.err = d.decodeProtobuf()
	default:
		d.err = &DecodeError{Type: d.t, Reason: ErrUnknownType.Error() + " " + strconv.Quote(string(d.t)), Err: ErrUnknownType}
	}
	if d.err != nil {
		return nil, d.err
	}
	d.n++
	return cmd, nil
}

// DecodeCommands decodes every command of one WebSocket message, for callers
// that want the whole batch before acting.
func DecodeCommands(t Type, data []byte) ([]*clientpb.Command, error) {
	var d CommandDecoder
	d.Reset(t, data)
	cmds := make([]*clientpb.Command, 0, 2)
	for {
		cmd, err := d.Decode()
		if errors.Is(err, io.EOF) {
			return cmds, nil
		}
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, cmd)
	}
}

func (d *CommandDecoder) fail(off int, reason string) error {
	return &DecodeError{Type: d.t, Command: d.n, Offset: off, Reason: reason}
}

func (d *CommandDecoder) end() error {
	if d.n == 0 {
		return d.fail(d.pos, "frame holds no commands")
	}
	return io.EOF
}

// decodeJSON takes the next line. Lines are separated by '\n'; a trailing
// '\r' and whitespace after the last command are tolerated, a blank line
// between commands is not.
func (d *CommandDecoder) decodeJSON() (*clientpb.Command, error) {
	if d.pos >= len(d.data) {
		return nil, d.end()
	}
	rest := d.data[d.pos:]
	line, next := rest, len(d.data)
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		line, next = rest[:i], d.pos+i+1
	}
	if isBlank(line) {
		if isBlank(rest) { // only trailing whitespace left
			d.pos = len(d.data)
			return nil, d.end()
		}
		return nil, d.fail(d.pos, "empty line in frame")
	}
	cmd, err := decodeCommandJSON(line)
	if err != nil {
		return nil, d.jsonError(err)
	}
	d.pos = next
	return cmd, nil
}

func (d *CommandDecoder) jsonError(err error) error {
	le, ok := asLexError(err)
	if !ok {
		return d.fail(d.pos, err.Error())
	}
	path := slices.Clone(le.path)
	slices.Reverse(path)
	e := d.fail(d.pos+le.off, le.msg).(*DecodeError)
	var b []byte
	for i, p := range path {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, p...)
	}
	if le.dropped {
		b = append(b, ".…"...)
	}
	e.Path = string(b)
	return e
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// protoUnmarshal drops unknown fields: a command is consumed, never relayed
// as-is, so keeping them would only cost memory.
var protoUnmarshal = proto.UnmarshalOptions{DiscardUnknown: true}

func (d *CommandDecoder) decodeProtobuf() (*clientpb.Command, error) {
	if d.pos >= len(d.data) {
		return nil, d.end()
	}
	size, n := binary.Uvarint(d.data[d.pos:])
	switch {
	case n == 0:
		return nil, d.fail(d.pos, "truncated length prefix")
	case n < 0:
		return nil, d.fail(d.pos, "length prefix overflows 64 bits")
	}
	start := d.pos + n
	if size > uint64(len(d.data)-start) {
		return nil, d.fail(d.pos, "length "+strconv.FormatUint(size, 10)+" exceeds the "+strconv.Itoa(len(d.data)-start)+" bytes left")
	}
	end := start + int(size)
	cmd := &clientpb.Command{}
	if err := protoUnmarshal.Unmarshal(d.data[start:end], cmd); err != nil {
		e := d.fail(start, "unmarshal: "+err.Error()).(*DecodeError)
		e.Err = err
		return nil, e
	}
	d.pos = end
	return cmd, nil
}
