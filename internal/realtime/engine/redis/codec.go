package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// codecVersion leads every encoded publication so the format can change
// without old nodes misreading new payloads during a rolling upgrade.
// Version 2 is version 1 followed by a flags byte (and, for map
// publications, the key); it is written only for publications that carry
// a flag (delta, map key), so a node that knows only version 1 drops just
// those.
const (
	codecVersion  = 1
	codecVersion2 = 2
)

// Publication flags of codec version 2. flagMap says a length-prefixed map
// key follows the flags byte; flagRemoved marks a map key removal. The Lua
// scripts build expiry removals byte by byte (mapscripts.go), so these
// values are part of the stored format and must not change.
const (
	flagDelta   = 1
	flagMap     = 2
	flagRemoved = 4
	knownFlags  = flagDelta | flagMap | flagRemoved
)

// Frame kinds on a channel's PUB/SUB channel. frameWithBase is a
// publication that also carries the map key's previous value (the patch
// base of a delta-eligible map write); it is decoded into a publication
// with PrevData, so the dispatcher only ever sees framePublication.
const (
	framePublication = 'p'
	frameWithBase    = 'q'
	frameJoin        = 'j'
	frameLeave       = 'l'
)

// errMalformed reports a payload this engine did not write (or a newer
// version of it wrote); the message is dropped rather than guessed at.
var errMalformed = errors.New("malformed payload")

// appendBytes writes a uvarint length followed by the bytes.
func appendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendString is appendBytes for strings, avoiding a conversion copy.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendInfo encodes a client info (four length-prefixed fields).
func appendInfo(b []byte, info *engine.ClientInfo) []byte {
	b = appendString(b, info.User)
	b = appendString(b, info.Client)
	b = appendBytes(b, info.ConnInfo)
	return appendBytes(b, info.ChanInfo)
}

// encodePublication encodes everything of a publication except its offset,
// which the publish script assigns and carries in the frame header.
func encodePublication(pub *engine.Publication) []byte {
	size := 16 + len(pub.Data)
	if pub.Info != nil {
		size += 16 + len(pub.Info.User) + len(pub.Info.Client) + len(pub.Info.ConnInfo) + len(pub.Info.ChanInfo)
	}
	for k, v := range pub.Tags {
		size += 4 + len(k) + len(v)
	}
	size += 8 + len(pub.Key)
	b := make([]byte, 0, size)
	var flags byte
	if pub.Delta {
		flags |= flagDelta
	}
	if pub.Key != "" || pub.Removed {
		flags |= flagMap
	}
	if pub.Removed {
		flags |= flagRemoved
	}
	version := byte(codecVersion)
	if flags != 0 {
		version = codecVersion2
	}
	b = append(b, version)
	b = binary.AppendVarint(b, pub.Time)
	b = appendBytes(b, pub.Data)
	if pub.Info != nil {
		b = append(b, 1)
		b = appendInfo(b, pub.Info)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(pub.Tags)))
	for k, v := range pub.Tags {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	if version == codecVersion2 {
		b = append(b, flags)
		if flags&flagMap != 0 {
			b = appendString(b, pub.Key)
		}
	}
	return b
}

// encodeInfoFrame encodes a join or leave frame.
func encodeInfoFrame(kind byte, info *engine.ClientInfo) []byte {
	b := make([]byte, 0, 8)
	b = append(b, kind)
	if info == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return appendInfo(b, info)
}

// encodePresence encodes a presence entry's value.
func encodePresence(info *engine.ClientInfo) []byte {
	return encodeInfoFrame(codecVersion, info)
}

// decoder reads the encoding above from a string, which is what the Redis
// client hands out, so no intermediate []byte copy is made. Every read is
// bounds-checked: malformed input yields errMalformed, never a panic.
type decoder struct {
	s   string
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errMalformed
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.s) == 0 {
		d.fail()
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c := d.byte()
		if d.err != nil {
			return 0
		}
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				d.fail()
				return 0
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail()
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.fail()
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

// bytes returns a fresh copy, or nil for an empty field, so decoded values
// never alias the payload.
func (d *decoder) bytes() []byte {
	s := d.string()
	if s == "" {
		return nil
	}
	return []byte(s)
}

func (d *decoder) info() *engine.ClientInfo {
	switch d.byte() {
	case 0:
		return nil
	case 1:
		return &engine.ClientInfo{User: d.string(), Client: d.string(), ConnInfo: d.bytes(), ChanInfo: d.bytes()}
	default:
		d.fail()
		return nil
	}
}

// decodePublication is the inverse of encodePublication; offset is filled
// in by the caller.
func decodePublication(s string) (*engine.Publication, error) {
	d := decoder{s: s}
	version := d.byte()
	if version != codecVersion && version != codecVersion2 {
		return nil, fmt.Errorf("decode publication: version: %w", errMalformed)
	}
	pub := &engine.Publication{Time: d.varint()}
	pub.Data = d.bytes()
	if pub.Data == nil && d.err == nil {
		pub.Data = []byte{}
	}
	pub.Info = d.info()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)) {
		d.fail()
	}
	if d.err == nil && n > 0 {
		pub.Tags = make(map[string]string, n)
		for range n {
			k := d.string()
			pub.Tags[k] = d.string()
		}
	}
	if version == codecVersion2 {
		flags := d.byte()
		if flags&^knownFlags != 0 || (flags&flagRemoved != 0 && flags&flagMap == 0) {
			// A flag this node does not know may change what follows.
			d.fail()
		}
		pub.Delta = flags&flagDelta != 0
		if flags&flagMap != 0 {
			pub.Key = d.string()
			pub.Removed = flags&flagRemoved != 0
		}
	}
	if d.err == nil && d.s != "" {
		d.fail()
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode publication: %w", d.err)
	}
	return pub, nil
}

// decodeInfoBody decodes what follows the kind byte of a join/leave frame
// or the version byte of a presence value.
func decodeInfoBody(s string) (*engine.ClientInfo, error) {
	d := decoder{s: s}
	info := d.info()
	if d.err == nil && d.s != "" {
		d.fail()
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode client info: %w", d.err)
	}
	return info, nil
}

// decodePresence is the inverse of encodePresence.
func decodePresence(s string) (*engine.ClientInfo, error) {
	if s == "" || s[0] != codecVersion {
		return nil, fmt.Errorf("decode presence: version: %w", errMalformed)
	}
	return decodeInfoBody(s[1:])
}

// presenceUser extracts only the user of an encoded presence value, which
// is all PresenceStats needs.
func presenceUser(s string) (string, error) {
	if s == "" || s[0] != codecVersion {
		return "", fmt.Errorf("decode presence user: %w", errMalformed)
	}
	d := decoder{s: s[1:]}
	switch d.byte() {
	case 0:
		return "", d.err
	case 1:
		u := d.string()
		if d.err != nil {
			return "", fmt.Errorf("decode presence user: %w", d.err)
		}
		return u, nil
	default:
		return "", fmt.Errorf("decode presence user: %w", errMalformed)
	}
}

// publicationHeader builds the frame header the Lua script would build,
// for publications sent without history.
func publicationHeader(offset uint64, epoch string) []byte {
	b := make([]byte, 0, 24+len(epoch))
	b = append(b, framePublication)
	b = strconv.AppendUint(b, offset, 10)
	b = append(b, ':')
	b = append(b, epoch...)
	return append(b, ':')
}

// frame is a decoded PUB/SUB message of a Spindle channel.
type frame struct {
	kind byte
	pub  *engine.Publication
	sp   engine.StreamPosition
	info *engine.ClientInfo
}

// decodeFrame parses a channel's PUB/SUB message.
func decodeFrame(s string) (frame, error) {
	if s == "" {
		return frame{}, fmt.Errorf("decode frame: empty: %w", errMalformed)
	}
	f := frame{kind: s[0]}
	switch f.kind {
	case framePublication, frameWithBase:
		rest := s[1:]
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			return frame{}, fmt.Errorf("decode frame: offset: %w", errMalformed)
		}
		off, err := strconv.ParseUint(rest[:i], 10, 64)
		if err != nil {
			return frame{}, fmt.Errorf("decode frame offset: %w", errors.Join(errMalformed, err))
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return frame{}, fmt.Errorf("decode frame: epoch: %w", errMalformed)
		}
		f.sp = engine.StreamPosition{Offset: off, Epoch: rest[:j]}
		rest = rest[j+1:]
		withBase := f.kind == frameWithBase
		var base string
		if withBase {
			if base, rest, err = cutCounted(rest); err != nil {
				return frame{}, fmt.Errorf("decode frame base: %w", err)
			}
			f.kind = framePublication
		}
		f.pub, err = decodePublication(rest)
		if err != nil {
			return frame{}, err
		}
		f.pub.Offset = off
		if withBase {
			// Non-nil even when the previous value was empty: an empty
			// base is still a base.
			f.pub.PrevData = []byte(base)
		}
	case frameJoin, frameLeave:
		info, err := decodeInfoBody(s[1:])
		if err != nil {
			return frame{}, err
		}
		f.info = info
	default:
		return frame{}, fmt.Errorf("decode frame: kind %q: %w", f.kind, errMalformed)
	}
	return f, nil
}

// cutCounted splits "<n>:<n bytes>rest" — the decimal-counted field the
// Lua scripts can write without varint arithmetic.
func cutCounted(s string) (field, rest string, err error) {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > 20 {
		return "", "", errMalformed
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || n > uint64(len(s)-i-1) {
		return "", "", errMalformed
	}
	return s[i+1 : i+1+int(n)], s[i+1+int(n):], nil
}

// decodeMapEntry reads a map state value as the map scripts store it:
// "<offset>:<version>:" then the counted version epoch, then the encoded
// publication. The version is the scripts' business; only the
// publication (with its offset) is returned.
func decodeMapEntry(s string) (*engine.Publication, error) {
	i := strings.IndexByte(s, ':')
	if i < 1 {
		return nil, fmt.Errorf("decode map entry: offset: %w", errMalformed)
	}
	off, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("decode map entry offset: %w", errors.Join(errMalformed, err))
	}
	rest := s[i+1:]
	j := strings.IndexByte(rest, ':')
	if j < 1 {
		return nil, fmt.Errorf("decode map entry: version: %w", errMalformed)
	}
	if _, err := strconv.ParseUint(rest[:j], 10, 64); err != nil {
		return nil, fmt.Errorf("decode map entry version: %w", errors.Join(errMalformed, err))
	}
	if _, rest, err = cutCounted(rest[j+1:]); err != nil {
		return nil, fmt.Errorf("decode map entry version epoch: %w", err)
	}
	pub, err := decodePublication(rest)
	if err != nil {
		return nil, fmt.Errorf("decode map entry: %w", err)
	}
	pub.Offset = off
	return pub, nil
}
