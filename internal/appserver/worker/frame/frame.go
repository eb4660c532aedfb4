// Package frame is the goridge v1 wire frame that RoadRunner-compatible
// workers (PHP roadrunner-worker, Node, …) read and write on their relay.
// Keeping it byte-for-byte identical to goridge is what lets an unmodified
// PHP worker talk to Spindle; the worker-RPC endpoint reuses it too.
package frame

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// Version is the only protocol version goridge has ever shipped; a frame
// with any other version nibble is not a goridge frame.
const Version = 1

// HeaderSize is the fixed part of every frame (HL = 3 words).
const HeaderSize = 12

// MaxOptions caps the uint32 options after the header, as goridge does.
const MaxOptions = 10

// DefaultMaxPayload bounds a frame's payload when the reader is given no
// limit, so a garbled length field cannot make us allocate gigabytes.
const DefaultMaxPayload = 64 << 20

// Flags carried in header byte 1. Codec bits tell the peer how the payload
// is encoded; FlagControl marks handshake/stop frames and FlagError turns a
// reply into an error message.
const (
	FlagControl  byte = 0x01
	CodecRaw     byte = 0x04
	CodecJSON    byte = 0x08
	CodecMsgpack byte = 0x10
	CodecGob     byte = 0x20
	FlagError    byte = 0x40
	CodecProto   byte = 0x80
)

// Bits of header byte 10, used by goridge streaming and liveness probes.
const (
	BitStream byte = 0x01
	BitStop   byte = 0x02
	BitPing   byte = 0x04
	BitPong   byte = 0x08
)

// Frame is one decoded goridge message.
type Frame struct {
	// Flags is header byte 1 (FlagControl, FlagError, Codec*).
	Flags byte
	// Byte10 is header byte 10 (BitStream, BitStop, BitPing, BitPong).
	Byte10 byte
	// Options are the uint32 words between the header and the payload;
	// worker payload frames carry the context length here.
	Options []uint32
	// Payload is everything after the options.
	Payload []byte
}

// Append encodes f onto dst, so callers can reuse one write buffer and hand
// the relay a single write (no interleaving on shared pipes).
func Append(dst []byte, f Frame) ([]byte, error) {
	dst, err := AppendHeader(dst, f.Flags, f.Byte10, f.Options, len(f.Payload))
	if err != nil {
		return dst, err
	}
	return append(dst, f.Payload...), nil
}

// AppendHeader encodes the header and options of a frame whose payload of
// payloadLen bytes the caller appends itself — typically straight from
// several slices, saving a copy.
func AppendHeader(dst []byte, flags, byte10 byte, options []uint32, payloadLen int) ([]byte, error) {
	if len(options) > MaxOptions {
		return dst, fmt.Errorf("encoding frame: %w: %d (max %d)", ErrTooManyOptions, len(options), MaxOptions)
	}
	if payloadLen < 0 || uint64(payloadLen) > math.MaxUint32 {
		return dst, fmt.Errorf("encoding frame: %w: %d bytes does not fit the 32-bit length field", ErrPayloadTooLarge, payloadLen)
	}
	start := len(dst)
	hl := byte(3 + len(options))
	dst = append(dst, Version<<4|hl, flags, 0, 0, 0, 0, 0, 0, 0, 0, byte10, 0)
	h := dst[start:]
	binary.LittleEndian.PutUint32(h[2:6], uint32(payloadLen))
	binary.LittleEndian.PutUint32(h[6:10], crc32.ChecksumIEEE(h[:6]))
	for _, o := range options {
		dst = binary.LittleEndian.AppendUint32(dst, o)
	}
	return dst, nil
}

// Write encodes f and writes it with one Write call.
func Write(w io.Writer, f Frame) error {
	buf, err := Append(make([]byte, 0, HeaderSize+4*len(f.Options)+len(f.Payload)), f)
	if err != nil {
		return err
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	return nil
}
