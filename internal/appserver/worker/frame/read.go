package frame

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// phpNotFound is the first HeaderSize bytes PHP prints to stdout when the
// script given on its command line does not exist.
const phpNotFound = "Could not op"

// maxDiagnostic bounds how much of a bad stream is quoted in an error.
const maxDiagnostic = 128

// exactAllocLimit is the payload size up to which the buffer is allocated
// in one go; larger payloads grow as bytes actually arrive.
const exactAllocLimit = 1 << 20

// Reader decodes consecutive frames from a stream.
type Reader struct {
	src        io.Reader
	br         *bufio.Reader // nil when reading unbuffered
	maxPayload uint32
	hdr        [HeaderSize + 4*15]byte
}

// NewReader buffers r (reusing it if it already is a *bufio.Reader) and
// rejects payloads above maxPayload bytes (0 means DefaultMaxPayload).
func NewReader(r io.Reader, maxPayload uint32) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{src: br, br: br, maxPayload: limit(maxPayload)}
}

// Read decodes exactly one frame from r without reading past it.
func Read(r io.Reader, maxPayload uint32) (Frame, error) {
	rd := Reader{src: r, maxPayload: limit(maxPayload)}
	return rd.ReadFrame()
}

func limit(maxPayload uint32) uint32 {
	if maxPayload == 0 {
		return DefaultMaxPayload
	}
	return maxPayload
}

// ReadFrame returns the next frame. A stream closed cleanly between frames
// gives io.EOF; anything that is not a frame gives an error wrapping one of
// this package's sentinels with the offending bytes quoted.
func (r *Reader) ReadFrame() (Frame, error) {
	h := r.hdr[:HeaderSize]
	if n, err := io.ReadFull(r.src, h); err != nil {
		if err == io.EOF {
			return Frame{}, io.EOF
		}
		if n > 0 {
			return Frame{}, fmt.Errorf("reading frame header: got %d of %d bytes %q: %w", n, HeaderSize, h[:n], err)
		}
		return Frame{}, fmt.Errorf("reading frame header: %w", err)
	}
	if string(h) == phpNotFound {
		return Frame{}, fmt.Errorf("%w: the worker printed %q instead of a frame; check the worker command", ErrFileNotFound, r.restOfLine(h))
	}
	stored := binary.LittleEndian.Uint32(h[6:10])
	if computed := crc32.ChecksumIEEE(h[:6]); stored != computed {
		return Frame{}, fmt.Errorf("%w: stored %08x, computed %08x; the peer wrote something that is not a goridge frame (workers must keep stdout for frames and log to stderr): %q",
			ErrCRCMismatch, stored, computed, r.diagnostic(h))
	}
	if v := h[0] >> 4; v != Version {
		return Frame{}, fmt.Errorf("%w %d (want %d): header % x", ErrVersion, v, Version, h)
	}
	hl := int(h[0] & 0x0f)
	if hl < 3 {
		return Frame{}, fmt.Errorf("%w: %d words (minimum 3): header % x", ErrHeaderLength, hl, h)
	}
	if hl-3 > MaxOptions {
		return Frame{}, fmt.Errorf("%w: %d (max %d)", ErrTooManyOptions, hl-3, MaxOptions)
	}
	size := binary.LittleEndian.Uint32(h[2:6])
	if size > r.maxPayload {
		return Frame{}, fmt.Errorf("%w: %d bytes (max %d)", ErrPayloadTooLarge, size, r.maxPayload)
	}
	f := Frame{Flags: h[1], Byte10: h[10]}
	if n := hl - 3; n > 0 {
		ob := r.hdr[HeaderSize : HeaderSize+4*n]
		if _, err := io.ReadFull(r.src, ob); err != nil {
			return Frame{}, fmt.Errorf("reading %d frame options: %w", n, unexpected(err))
		}
		f.Options = make([]uint32, n)
		for i := range f.Options {
			f.Options[i] = binary.LittleEndian.Uint32(ob[4*i:])
		}
	}
	p, err := readPayload(r.src, size)
	if err != nil {
		return Frame{}, fmt.Errorf("reading %d-byte frame payload: %w", size, unexpected(err))
	}
	f.Payload = p
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readPayload(src io.Reader, n uint32) ([]byte, error) {
	if n <= exactAllocLimit {
		p := make([]byte, n)
		_, err := io.ReadFull(src, p)
		return p, err
	}
	// Grow with the data actually received so that a lying length field
	// on a short stream costs little memory.
	var buf bytes.Buffer
	buf.Grow(exactAllocLimit)
	if _, err := io.CopyN(&buf, src, int64(n)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// diagnostic returns the bad header plus whatever is already buffered, so
// the error shows what the peer printed without blocking for more.
func (r *Reader) diagnostic(h []byte) []byte {
	out := append([]byte(nil), h...)
	if r.br != nil {
		if n := min(r.br.Buffered(), maxDiagnostic-len(out)); n > 0 {
			more, _ := r.br.Peek(n)
			out = append(out, more...)
		}
	}
	return out
}

// restOfLine completes PHP's one-line message. PHP exits right after
// printing it, so the read ends at the newline or at EOF.
func (r *Reader) restOfLine(h []byte) string {
	out := append([]byte(nil), h...)
	var b [1]byte
	for len(out) < 512 {
		if _, err := io.ReadFull(r.src, b[:]); err != nil {
			break
		}
		if b[0] == '\n' {
			break
		}
		out = append(out, b[0])
	}
	return string(bytes.TrimRight(out, "\r"))
}
