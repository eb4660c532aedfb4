package pbjson

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

// Marshal returns m as Centrifugo-style JSON: proto field names as keys,
// bytes fields embedded as JSON, zero values omitted (see AlwaysEmit).
// It fails if a bytes field does not hold valid JSON.
func Marshal(m proto.Message, opts ...Option) ([]byte, error) {
	return AppendMarshal(nil, m, opts...)
}

// AppendMarshal is Marshal appending to dst, so hot paths can reuse a
// buffer. On error dst is returned unchanged in length.
func AppendMarshal(dst []byte, m proto.Message, opts ...Option) ([]byte, error) {
	if m == nil {
		return dst, &Error{Msg: "cannot marshal nil message"}
	}
	e := encoder{buf: dst}
	for _, o := range opts {
		if o != nil {
			e.opts = o(e.opts)
		}
	}
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return append(dst, '{', '}'), nil
	}
	if err := e.message(rm); err != nil {
		return dst, finish(err)
	}
	return e.buf, nil
}

type encoder struct {
	buf   []byte
	opts  options
	depth int
}

func (e *encoder) fail(msg string, err error) *Error {
	return &Error{Msg: msg, Err: err}
}

func (e *encoder) message(m protoreflect.Message) error {
	e.depth++
	if e.depth > maxDepth {
		return e.fail("messages nested deeper than "+strconv.Itoa(maxDepth), nil)
	}
	e.buf = append(e.buf, '{')
	fields := m.Descriptor().Fields()
	first := true
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		has := m.Has(fd)
		if !has && (!e.opts.hasEmit() || !e.opts.alwaysEmit(fd)) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = jsonwire.AppendString(e.buf, string(fd.Name()))
		e.buf = append(e.buf, ':')
		if !has {
			e.buf = appendZero(e.buf, fd)
			continue
		}
		var err error
		switch {
		case fd.IsList():
			err = e.list(fd, m.Get(fd).List())
		case fd.IsMap():
			err = e.mapValue(fd, m.Get(fd).Map())
		default:
			err = e.single(fd, m.Get(fd))
		}
		if err != nil {
			return at(err, pathElem{name: string(fd.Name())})
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

// appendZero writes the value of an always-emitted field that is unset.
// Empty lists and maps are written as [] and {} so that readers can index
// them without a null check.
func appendZero(b []byte, fd protoreflect.FieldDescriptor) []byte {
	if fd.IsList() {
		return append(b, '[', ']')
	}
	if fd.IsMap() {
		return append(b, '{', '}')
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return append(b, "false"...)
	case protoreflect.StringKind:
		return append(b, '"', '"')
	case protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return append(b, "null"...)
	default:
		return append(b, '0')
	}
}

func (e *encoder) list(fd protoreflect.FieldDescriptor, l protoreflect.List) error {
	e.buf = append(e.buf, '[')
	for i := 0; i < l.Len(); i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.single(fd, l.Get(i)); err != nil {
			return at(err, pathElem{index: i, kind: elemIndex})
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

type mapEntry struct {
	key string
	val protoreflect.Value
}

func (e *encoder) mapValue(fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	entries := make([]mapEntry, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		// Every allowed map key kind (string, integers, bool) has a
		// canonical text form, which is also the JSON key.
		entries = append(entries, mapEntry{key: k.String(), val: v})
		return true
	})
	slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
	vd := fd.MapValue()
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = jsonwire.AppendString(e.buf, en.key)
		e.buf = append(e.buf, ':')
		if err := e.single(vd, en.val); err != nil {
			return at(err, pathElem{name: en.key, kind: elemKey})
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

var errNonFinite = errors.New("NaN and infinity have no JSON form")

// single writes one non-repeated value of field fd.
func (e *encoder) single(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case protoreflect.FloatKind:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return e.fail("cannot encode float", errNonFinite)
		}
		e.buf = appendFloat(e.buf, f, 32)
	case protoreflect.DoubleKind:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return e.fail("cannot encode double", errNonFinite)
		}
		e.buf = appendFloat(e.buf, f, 64)
	case protoreflect.EnumKind:
		e.buf = strconv.AppendInt(e.buf, int64(v.Enum()), 10)
	case protoreflect.StringKind:
		e.buf = jsonwire.AppendString(e.buf, v.String())
	case protoreflect.BytesKind:
		raw := v.Bytes()
		if len(raw) == 0 {
			// Only reachable inside lists and maps; a JSON value is
			// required there.
			e.buf = append(e.buf, "null"...)
			return nil
		}
		out, err := appendCompact(e.buf, raw)
		if err != nil {
			return e.fail("bytes field is not valid JSON", err)
		}
		e.buf = out
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.message(v.Message())
	default:
		return e.fail("unsupported field kind "+fd.Kind().String(), nil)
	}
	return nil
}
