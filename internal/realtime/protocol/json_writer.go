package protocol

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

// jsonWriter appends compact JSON to b. The first error (an invalid embedded
// payload) is kept in err and makes later writes no-ops, so the per-message
// encoders stay free of error plumbing.
type jsonWriter struct {
	b   []byte
	err error
}

// open starts an object; close ends it.
func (w *jsonWriter) open()  { w.b = append(w.b, '{') }
func (w *jsonWriter) close() { w.b = append(w.b, '}') }

// key writes `"k":`, preceded by a comma unless it is the first member of
// the current object or array.
func (w *jsonWriter) key(k string) {
	if c := w.b[len(w.b)-1]; c != '{' && c != '[' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// dynKey is key for map keys, which come from data and need escaping.
func (w *jsonWriter) dynKey(k string) {
	if c := w.b[len(w.b)-1]; c != '{' && c != '[' {
		w.b = append(w.b, ',')
	}
	w.b = jsonwire.AppendString(w.b, k)
	w.b = append(w.b, ':')
}

// elem separates array elements.
func (w *jsonWriter) elem() {
	if w.b[len(w.b)-1] != '[' {
		w.b = append(w.b, ',')
	}
}

func (w *jsonWriter) str(k, v string) {
	if v != "" {
		w.strAlways(k, v)
	}
}

func (w *jsonWriter) strAlways(k, v string) {
	w.key(k)
	w.b = jsonwire.AppendString(w.b, v)
}

func (w *jsonWriter) boolean(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

func (w *jsonWriter) uint(k string, v uint64) {
	if v != 0 {
		w.uintAlways(k, v)
	}
}

func (w *jsonWriter) uintAlways(k string, v uint64) {
	w.key(k)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *jsonWriter) int(k string, v int64) {
	if v != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, v, 10)
	}
}

// raw writes a bytes field as embedded JSON; where names the field in the
// error if the payload is not JSON.
func (w *jsonWriter) raw(k string, v []byte, where string) {
	if len(v) == 0 || w.err != nil {
		return
	}
	if !ValidJSONPayload(v) {
		w.err = fmt.Errorf("protocol: encode %s: %w", where, ErrInvalidJSONPayload)
		return
	}
	w.key(k)
	w.b = appendStrippingNewlines(w.b, v)
}

// appendStrippingNewlines appends valid JSON v without its raw CR and LF
// bytes. In valid JSON those can only be insignificant whitespace (inside
// strings they must be escaped), and clients split frames on '\n'.
func appendStrippingNewlines(dst, v []byte) []byte {
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return append(dst, v...)
	}
	for _, c := range v {
		if c != '\n' && c != '\r' {
			dst = append(dst, c)
		}
	}
	return dst
}

// sortedKeys gives map fields a stable order, so equal replies encode to
// equal bytes.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
