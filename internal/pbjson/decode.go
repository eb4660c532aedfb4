package pbjson

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

// Unmarshal replaces the contents of m with the JSON object in data.
// Unknown keys are skipped, null is treated as absent, keys are matched
// exactly first and then case-insensitively, and bytes fields take the raw
// JSON of their value. On error m may hold part of the input.
func Unmarshal(data []byte, m proto.Message) error {
	if m == nil {
		return &Error{Msg: "cannot unmarshal into nil message"}
	}
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return &Error{Msg: "cannot unmarshal into nil message"}
	}
	proto.Reset(m)
	d := newDecoder(data)
	switch c := d.Peek(); c {
	case '{':
		if err := d.message(rm); err != nil {
			return finish(err)
		}
	case 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
	default:
		return &Error{Msg: "want object, got " + kindName(c)}
	}
	if !d.AtEnd() {
		return d.syntaxError("unexpected data after top-level value")
	}
	return nil
}

// decoder walks proto messages over jsonwire's tokens.
type decoder struct {
	jsonwire.Scanner
}

// fail reports a type mismatch or bad value; callers up the stack add the
// key path.
func (d *decoder) fail(msg string, err error) *Error {
	return &Error{Msg: msg, Err: err}
}

func (d *decoder) mismatch(want string) *Error {
	return d.fail("want "+want+", got "+kindName(d.Peek()), nil)
}

// message decodes an object into m; the scanner is at '{'.
func (d *decoder) message(m protoreflect.Message) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.Advance()
	md := m.Descriptor()
	if d.Peek() == '}' {
		d.Advance()
		d.Leave()
		return nil
	}
	for {
		if d.Peek() != '"' {
			return d.syntaxError("want object key, got " + kindName(d.Peek()))
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.Peek() != ':' {
			return d.syntaxError("want ':' after object key")
		}
		d.Advance()
		if fd := lookupField(md, key); fd == nil {
			if err := d.skipValue(); err != nil {
				return err
			}
		} else {
			if err := d.field(m, fd); err != nil {
				return at(err, pathElem{name: string(fd.Name())})
			}
		}
		switch d.Peek() {
		case ',':
			d.Advance()
		case '}':
			d.Advance()
			d.Leave()
			return nil
		default:
			return d.syntaxError("want ',' or '}' in object, got " + kindName(d.Peek()))
		}
	}
}

// field decodes the value for fd into m.
func (d *decoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor) error {
	if d.Peek() == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		m.Clear(fd)
		return nil
	}
	switch {
	case fd.IsList():
		m.Clear(fd)
		return d.list(fd, m.Mutable(fd).List())
	case fd.IsMap():
		m.Clear(fd)
		return d.mapValue(fd, m.Mutable(fd).Map())
	case fd.Message() != nil:
		if d.Peek() != '{' {
			return d.mismatch("object")
		}
		return d.message(m.Mutable(fd).Message())
	default:
		v, err := d.scalar(fd)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	}
}

func (d *decoder) list(fd protoreflect.FieldDescriptor, l protoreflect.List) error {
	if d.Peek() != '[' {
		return d.mismatch("array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.Advance()
	if d.Peek() == ']' {
		d.Advance()
		d.Leave()
		return nil
	}
	for i := 0; ; i++ {
		// A list of scalars has no place for "no value": a zero element
		// would silently change what was sent ("" as a channel name), so
		// null is refused. (A null message element stays an empty message.)
		if fd.Message() == nil && d.Peek() == 'n' {
			return at(d.fail("null is not allowed in an array", nil), pathElem{index: i, kind: elemIndex})
		}
		v, err := d.element(fd, l.NewElement)
		if err != nil {
			return at(err, pathElem{index: i, kind: elemIndex})
		}
		l.Append(v)
		switch d.Peek() {
		case ',':
			d.Advance()
		case ']':
			d.Advance()
			d.Leave()
			return nil
		default:
			return d.syntaxError("want ',' or ']' in array, got " + kindName(d.Peek()))
		}
	}
}

func (d *decoder) mapValue(fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	if d.Peek() != '{' {
		return d.mismatch("object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.Advance()
	if d.Peek() == '}' {
		d.Advance()
		d.Leave()
		return nil
	}
	kd, vd := fd.MapKey(), fd.MapValue()
	for {
		if d.Peek() != '"' {
			return d.syntaxError("want object key, got " + kindName(d.Peek()))
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.Peek() != ':' {
			return d.syntaxError("want ':' after object key")
		}
		d.Advance()
		mk, err := d.mapKey(kd, key)
		if err != nil {
			return at(err, pathElem{name: string(key), kind: elemKey})
		}
		v, err := d.element(vd, mp.NewValue)
		if err != nil {
			return at(err, pathElem{name: string(key), kind: elemKey})
		}
		mp.Set(mk, v)
		switch d.Peek() {
		case ',':
			d.Advance()
		case '}':
			d.Advance()
			d.Leave()
			return nil
		default:
			return d.syntaxError("want ',' or '}' in object, got " + kindName(d.Peek()))
		}
	}
}

// element decodes one list element or map value. null stands for the
// zero value (an empty message for message kinds), since lists and maps
// cannot hold "absent".
func (d *decoder) element(fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value) (protoreflect.Value, error) {
	if fd.Message() != nil {
		v := newMsg()
		switch d.Peek() {
		case 'n':
			if err := d.literal("null"); err != nil {
				return v, err
			}
			return v, nil
		case '{':
			return v, d.message(v.Message())
		default:
			return v, d.mismatch("object")
		}
	}
	if d.Peek() == 'n' {
		if err := d.literal("null"); err != nil {
			return protoreflect.Value{}, err
		}
		return zeroScalar(fd), nil
	}
	return d.scalar(fd)
}

func zeroScalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(nil)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(0)
	default:
		return fd.Default()
	}
}
