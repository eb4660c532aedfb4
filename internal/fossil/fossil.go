// Package fossil is the Fossil delta format that Centrifugo's delta
// compression uses: Delta turns a target into copy and insert commands
// against a source (the subscriber's previous payload), Apply turns them
// back. The format: "<len(target)>\n", then commands "<n>@<offset>,"
// (copy n bytes of the source) and "<n>:<n bytes>" (insert), then
// "<checksum>;", every number in base-64 digits. The encoder follows the
// Fossil algorithm (a rolling hash over 16-byte source blocks), so its
// output is byte for byte what other implementations produce; Apply is
// written from the format alone and checks everything a peer would.
package fossil

import (
	"errors"
	"fmt"
)

// blockSize is the Fossil hash window (NHASH).
const blockSize = 16

// maxCandidates bounds the source blocks tried per target position.
const maxCandidates = 250

const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"

// digitValue maps a byte to its digit value, or -1.
var digitValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(digits); i++ {
		t[digits[i]] = int8(i)
	}
	return t
}()

func appendInt(dst []byte, v uint32) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	var buf [6]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = digits[v&63]
		v >>= 6
	}
	return append(dst, buf[i:]...)
}

func digitCount(v int) int {
	n := 1
	for x := 64; v >= x; x <<= 6 {
		n++
	}
	return n
}

// Checksum is the format's checksum: target read as big-endian 32-bit
// words (the last one zero-padded), summed modulo 2^32.
func Checksum(b []byte) uint32 {
	var s0, s1, s2, s3 uint32
	n := len(b)
	i := 0
	for ; n-i >= 4; i += 4 {
		s0 += uint32(b[i])
		s1 += uint32(b[i+1])
		s2 += uint32(b[i+2])
		s3 += uint32(b[i+3])
	}
	sum := s3 + s2<<8 + s1<<16 + s0<<24
	switch n - i {
	case 3:
		sum += uint32(b[i+2]) << 8
		fallthrough
	case 2:
		sum += uint32(b[i+1]) << 16
		fallthrough
	case 1:
		sum += uint32(b[i]) << 24
	}
	return sum
}

// rollingHash is Fossil's hash of the last blockSize bytes.
type rollingHash struct {
	a, b uint16
	i    int
	z    [blockSize]byte
}

func (h *rollingHash) init(z []byte) {
	a := uint16(z[0])
	b := a
	for i := 1; i < blockSize; i++ {
		a += uint16(z[i])
		b += a
	}
	copy(h.z[:], z[:blockSize])
	h.a, h.b, h.i = a, b, 0
}

func (h *rollingHash) next(c byte) {
	old := uint16(h.z[h.i])
	h.z[h.i] = c
	h.i = (h.i + 1) & (blockSize - 1)
	h.a = h.a - old + uint16(c)
	h.b = h.b - blockSize*old + h.a
}

func (h *rollingHash) value() uint32 { return uint32(h.a) | uint32(h.b)<<16 }

// Delta encodes target as a delta against source.
func Delta(source, target []byte) []byte {
	out := make([]byte, 0, len(target)/4+32)
	out = appendInt(out, uint32(len(target)))
	out = append(out, '\n')
	if len(source) <= blockSize {
		return finish(insert(out, target), target)
	}
	nHash := len(source) / blockSize
	collide := make([]int, nHash)
	landmark := make([]int, nHash)
	for i := range landmark {
		landmark[i], collide[i] = -1, -1
	}
	var h rollingHash
	for i := 0; i < len(source)-blockSize; i += blockSize {
		h.init(source[i:])
		hv := int(h.value() % uint32(nHash))
		collide[i/blockSize] = landmark[hv]
		landmark[hv] = i / blockSize
	}
	base := 0
	for base+blockSize < len(target) {
		bestOfst, bestLit, bestCnt := 0, 0, 0
		h.init(target[base:])
		for i := 0; ; {
			limit := maxCandidates
			for block := landmark[int(h.value()%uint32(nHash))]; block >= 0 && limit > 0; block = collide[block] {
				limit--
				src := block * blockSize
				j := 0
				for x, y := src, base+i; x < len(source) && y < len(target) && source[x] == target[y]; x, y = x+1, y+1 {
					j++
				}
				j--
				k := 1
				for ; k < src && k <= i; k++ {
					if source[src-k] != target[base+i-k] {
						break
					}
				}
				k--
				ofst, cnt := src-k, j+k+1
				cost := digitCount(i-k) + digitCount(cnt) + digitCount(ofst) + 3
				if cnt >= cost && cnt > bestCnt {
					bestCnt, bestOfst, bestLit = cnt, ofst, i-k
				}
			}
			if bestCnt > 0 {
				if bestLit > 0 {
					out = insert(out, target[base:base+bestLit])
					base += bestLit
				}
				base += bestCnt
				out = appendInt(out, uint32(bestCnt))
				out = append(out, '@')
				out = appendInt(out, uint32(bestOfst))
				out = append(out, ',')
				break
			}
			if base+i+blockSize >= len(target) {
				out = insert(out, target[base:])
				base = len(target)
				break
			}
			h.next(target[base+i+blockSize])
			i++
		}
	}
	if base < len(target) {
		out = insert(out, target[base:])
	}
	return finish(out, target)
}

func insert(out, lit []byte) []byte {
	out = appendInt(out, uint32(len(lit)))
	out = append(out, ':')
	return append(out, lit...)
}

func finish(out, target []byte) []byte {
	out = appendInt(out, Checksum(target))
	return append(out, ';')
}

// ErrBadDelta is wrapped by every error Apply returns.
var ErrBadDelta = errors.New("fossil: bad delta")

// reader walks a delta.
type reader struct {
	b []byte
	i int
}

func (r *reader) int() (uint32, error) {
	start := r.i
	var v uint64
	for r.i < len(r.b) {
		d := digitValue[r.b[r.i]]
		if d < 0 {
			break
		}
		v = v<<6 | uint64(d)
		if v > 1<<32-1 {
			return 0, fmt.Errorf("%w: number at %d overflows", ErrBadDelta, start)
		}
		r.i++
	}
	if r.i == start {
		return 0, fmt.Errorf("%w: number expected at %d", ErrBadDelta, start)
	}
	return uint32(v), nil
}

func (r *reader) op() (byte, error) {
	if r.i >= len(r.b) {
		return 0, fmt.Errorf("%w: unterminated", ErrBadDelta)
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

// Apply rebuilds the target from source and a delta, checking bounds,
// the announced length and the checksum. maxSize caps the target (the
// header could announce gigabytes); 0 means no cap.
func Apply(source, delta []byte, maxSize int) ([]byte, error) {
	r := &reader{b: delta}
	size, err := r.int()
	if err != nil {
		return nil, err
	}
	if c, err := r.op(); err != nil || c != '\n' {
		return nil, fmt.Errorf("%w: header not followed by a newline", ErrBadDelta)
	}
	if maxSize > 0 && int64(size) > int64(maxSize) {
		return nil, fmt.Errorf("%w: target of %d bytes exceeds %d", ErrBadDelta, size, maxSize)
	}
	out := make([]byte, 0, min(int(size), len(source)+len(delta)))
	for {
		n, err := r.int()
		if err != nil {
			return nil, err
		}
		c, err := r.op()
		if err != nil {
			return nil, err
		}
		switch c {
		case '@':
			ofst, err := r.int()
			if err != nil {
				return nil, err
			}
			if c, err := r.op(); err != nil || c != ',' {
				return nil, fmt.Errorf("%w: copy without a comma", ErrBadDelta)
			}
			if uint64(ofst)+uint64(n) > uint64(len(source)) {
				return nil, fmt.Errorf("%w: copy of %d at %d past the source's %d bytes", ErrBadDelta, n, ofst, len(source))
			}
			if uint64(len(out))+uint64(n) > uint64(size) {
				return nil, fmt.Errorf("%w: copy past the announced size", ErrBadDelta)
			}
			out = append(out, source[ofst:ofst+n]...)
		case ':':
			if uint64(r.i)+uint64(n) > uint64(len(delta)) {
				return nil, fmt.Errorf("%w: insert of %d past the delta's end", ErrBadDelta, n)
			}
			if uint64(len(out))+uint64(n) > uint64(size) {
				return nil, fmt.Errorf("%w: insert past the announced size", ErrBadDelta)
			}
			out = append(out, delta[r.i:r.i+int(n)]...)
			r.i += int(n)
		case ';':
			if len(out) != int(size) {
				return nil, fmt.Errorf("%w: %d bytes, header announced %d", ErrBadDelta, len(out), size)
			}
			if n != Checksum(out) {
				return nil, fmt.Errorf("%w: checksum mismatch", ErrBadDelta)
			}
			if r.i != len(delta) {
				return nil, fmt.Errorf("%w: data after the checksum", ErrBadDelta)
			}
			return out, nil
		default:
			return nil, fmt.Errorf("%w: unknown operator %q", ErrBadDelta, c)
		}
	}
}
