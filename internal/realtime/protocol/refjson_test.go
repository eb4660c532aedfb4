package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// refUnmarshal is an independent, slow, descriptor-driven reading of the
// client-protocol JSON rules built on encoding/json. Tests use it as an
// oracle for the hand-written decoder and to read back encoded replies.
func refUnmarshal(data []byte, m proto.Message) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not an object")
	}
	return refMessage(data, m.ProtoReflect())
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func refMessage(data []byte, m protoreflect.Message) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	if obj == nil && !isNull(data) {
		return errors.New("not an object")
	}
	fields := m.Descriptor().Fields()
	for k, v := range obj {
		fd := fields.ByName(protoreflect.Name(k))
		if fd == nil || string(fd.Name()) != k {
			continue
		}
		m.Clear(fd)
		if isNull(v) {
			continue
		}
		switch {
		case fd.IsMap():
			var mm map[string]json.RawMessage
			if err := json.Unmarshal(v, &mm); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if mm == nil {
				return fmt.Errorf("%s: not an object", k)
			}
			dst := m.Mutable(fd).Map()
			for mk, mv := range mm {
				val, err := refValue(fd.MapValue(), mv, func() protoreflect.Value { return dst.NewValue() })
				if err != nil {
					return fmt.Errorf("%s.%s: %w", k, mk, err)
				}
				dst.Set(protoreflect.ValueOfString(mk).MapKey(), val)
			}
		case fd.IsList():
			var arr []json.RawMessage
			if err := json.Unmarshal(v, &arr); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if arr == nil {
				return fmt.Errorf("%s: not an array", k)
			}
			dst := m.Mutable(fd).List()
			for i, el := range arr {
				val, err := refValue(fd, el, func() protoreflect.Value { return dst.NewElement() })
				if err != nil {
					return fmt.Errorf("%s.%d: %w", k, i, err)
				}
				dst.Append(val)
			}
		default:
			val, err := refValue(fd, v, func() protoreflect.Value { return m.NewField(fd) })
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			m.Set(fd, val)
		}
	}
	return nil
}

// refValue reads one singular value of fd's kind; null yields the zero
// value (an empty message for message kinds).
func refValue(fd protoreflect.FieldDescriptor, v json.RawMessage, newMsg func() protoreflect.Value) (protoreflect.Value, error) {
	null := isNull(v)
	var err error
	switch fd.Kind() {
	case protoreflect.MessageKind:
		mv := newMsg()
		if !null {
			err = refMessage(v, mv.Message())
		}
		return mv, err
	case protoreflect.StringKind:
		var s string
		if !null {
			err = json.Unmarshal(v, &s)
		}
		return protoreflect.ValueOfString(s), err
	case protoreflect.BytesKind:
		if null {
			return protoreflect.ValueOfBytes(nil), nil
		}
		return protoreflect.ValueOfBytes(append([]byte(nil), v...)), nil
	case protoreflect.BoolKind:
		var b bool
		if !null {
			err = json.Unmarshal(v, &b)
		}
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Uint32Kind:
		var n uint32
		if !null {
			err = json.Unmarshal(v, &n)
		}
		return protoreflect.ValueOfUint32(n), err
	case protoreflect.Uint64Kind:
		var n uint64
		if !null {
			err = json.Unmarshal(v, &n)
		}
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.Int32Kind:
		var n int32
		if !null {
			err = json.Unmarshal(v, &n)
		}
		return protoreflect.ValueOfInt32(n), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind:
		var n int64
		if !null {
			err = json.Unmarshal(v, &n)
		}
		return protoreflect.ValueOfInt64(n), err
	}
	return protoreflect.Value{}, fmt.Errorf("unsupported kind %v", fd.Kind())
}
