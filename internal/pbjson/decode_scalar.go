package pbjson

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spindle-rt/spindle/internal/jsonwire"
)

var (
	errRange  = errors.New("value out of range")
	errNotInt = errors.New("not an integer")
)

// scalar decodes a non-message, non-null value for fd.
func (d *decoder) scalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		switch d.Peek() {
		case 't':
			if err := d.literal("true"); err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfBool(true), nil
		case 'f':
			if err := d.literal("false"); err != nil {
				return protoreflect.Value{}, err
			}
			return protoreflect.ValueOfBool(false), nil
		}
		return protoreflect.Value{}, d.mismatch("bool")
	case protoreflect.StringKind:
		if d.Peek() != '"' {
			return protoreflect.Value{}, d.mismatch("string")
		}
		start := d.Offset()
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		// The scanner turns stray bytes into U+FFFD, as encoding/json does:
		// for a channel or user id that silently renames it. Refuse them.
		if !utf8.Valid(d.Data()[start:d.Offset()]) {
			return protoreflect.Value{}, d.fail("invalid UTF-8 in a string", nil)
		}
		return protoreflect.ValueOfString(string(s)), nil
	case protoreflect.BytesKind:
		return d.rawJSON()
	case protoreflect.EnumKind:
		return d.enum(fd)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := d.integer(true, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := d.integer(true, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := d.integer(false, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := d.integer(false, 64)
		return protoreflect.ValueOfUint64(uint64(n)), err
	case protoreflect.FloatKind:
		f, err := d.float(32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := d.float(64)
		return protoreflect.ValueOfFloat64(f), err
	}
	return protoreflect.Value{}, d.fail("unsupported field kind "+fd.Kind().String(), nil)
}

// rawJSON captures the next value verbatim as the content of a bytes
// field. Tabs and line breaks are squeezed out so the stored payload can be
// forwarded in line-oriented JSON as is.
func (d *decoder) rawJSON() (protoreflect.Value, error) {
	d.Peek()
	start := d.Offset()
	if err := d.skipValue(); err != nil {
		return protoreflect.Value{}, err
	}
	raw := d.Data()[start:d.Offset()]
	// A payload is forwarded verbatim to JSON clients in text frames, which
	// must be UTF-8: accepting it here would close every JSON subscriber of
	// the channel (3506) and everyone recovering past it. Refuse it at the
	// entrance, to the one caller who sent it.
	if !utf8.Valid(raw) {
		return protoreflect.Value{}, d.fail("invalid UTF-8 in a JSON payload (JSON clients could not receive it; send binary data base64-encoded in the b64 field beside it, e.g. b64data)", nil)
	}
	var out []byte
	if hasLayoutSpace(raw) {
		// skipValue has validated raw.
		out = jsonwire.AppendCompact(make([]byte, 0, len(raw)), raw)
	} else {
		out = append(make([]byte, 0, len(raw)), raw...)
	}
	return protoreflect.ValueOfBytes(out), nil
}

// numberText returns the digits of a number given as a JSON number or as
// a string holding one (Centrifugo's decoders accept both for 64-bit
// values; we accept both everywhere).
func (d *decoder) numberText(want string) ([]byte, error) {
	c := d.Peek()
	switch {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		sc := jsonwire.NewScanner(s, scanOpts)
		lit, _, nerr := sc.Number()
		if nerr != nil || sc.Offset() != len(s) {
			return nil, d.fail("want "+want+", got string "+strconv.Quote(string(s)), nil)
		}
		return lit, nil
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := d.number()
		if err != nil {
			return nil, err
		}
		return lit, nil
	}
	return nil, d.mismatch(want)
}

// integer parses an integer of the given signedness and width. Fractions
// and exponents are refused, as encoding/json refuses them for Go ints.
func (d *decoder) integer(signed bool, bits int) (int64, error) {
	lit, err := d.numberText("number")
	if err != nil {
		return 0, err
	}
	neg := len(lit) > 0 && lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, d.fail("want integer, got "+strconv.Quote(string(lit)), errNotInt)
		}
		dig := uint64(c - '0')
		if u > math.MaxUint64/10 || (u == math.MaxUint64/10 && dig > math.MaxUint64%10) {
			return 0, d.fail("integer "+string(lit)+" does not fit", errRange)
		}
		u = u*10 + dig
	}
	if !signed {
		if neg && u != 0 {
			return 0, d.fail("negative value "+string(lit)+" for unsigned field", errRange)
		}
		if bits == 32 && u > math.MaxUint32 {
			return 0, d.fail("integer "+string(lit)+" does not fit uint32", errRange)
		}
		return int64(u), nil
	}
	limit := uint64(math.MaxInt64)
	if bits == 32 {
		limit = math.MaxInt32
	}
	if neg {
		limit++
	}
	if u > limit {
		return 0, d.fail("integer "+string(lit)+" does not fit int"+strconv.Itoa(bits), errRange)
	}
	if neg {
		return -int64(u-1) - 1, nil
	}
	return int64(u), nil
}

func (d *decoder) float(bits int) (float64, error) {
	lit, err := d.numberText("number")
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(lit), bits)
	if perr != nil {
		return 0, d.fail("number "+string(lit)+" does not fit float"+strconv.Itoa(bits), errRange)
	}
	return f, nil
}

// enum accepts the number or the value name; names also match
// case-insensitively so the legacy API's "publish" finds PUBLISH.
func (d *decoder) enum(fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	if d.Peek() == '"' {
		// Try a name first; a quoted number falls through below.
		save := d.Offset()
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		values := fd.Enum().Values()
		if v := values.ByName(protoreflect.Name(s)); v != nil {
			return protoreflect.ValueOfEnum(v.Number()), nil
		}
		for i := 0; i < values.Len(); i++ {
			if v := values.Get(i); strings.EqualFold(string(v.Name()), string(s)) {
				return protoreflect.ValueOfEnum(v.Number()), nil
			}
		}
		d.SetOffset(save)
		if sc := jsonwire.NewScanner(s, scanOpts); !isNumber(&sc) {
			return protoreflect.Value{}, d.fail("unknown "+string(fd.Enum().Name())+" value "+strconv.Quote(string(s)), nil)
		}
	}
	n, err := d.integer(true, 32)
	if err != nil {
		return protoreflect.Value{}, err
	}
	return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
}

// mapKey converts a JSON object key to a proto map key of kind kd.
func (d *decoder) mapKey(kd protoreflect.FieldDescriptor, key []byte) (protoreflect.MapKey, error) {
	switch kd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(string(key)).MapKey(), nil
	case protoreflect.BoolKind:
		switch string(key) {
		case "true":
			return protoreflect.ValueOfBool(true).MapKey(), nil
		case "false":
			return protoreflect.ValueOfBool(false).MapKey(), nil
		}
		return protoreflect.MapKey{}, d.fail("map key "+strconv.Quote(string(key))+" is not a bool", nil)
	}
	sub := newDecoder(key)
	var v protoreflect.Value
	var err error
	switch kd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		var n int64
		n, err = sub.integer(true, 32)
		v = protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		var n int64
		n, err = sub.integer(true, 64)
		v = protoreflect.ValueOfInt64(n)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		var n int64
		n, err = sub.integer(false, 32)
		v = protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		var n int64
		n, err = sub.integer(false, 64)
		v = protoreflect.ValueOfUint64(uint64(n))
	default:
		return protoreflect.MapKey{}, d.fail("unsupported map key kind "+kd.Kind().String(), nil)
	}
	if err == nil && !sub.AtEnd() {
		err = d.fail("map key "+strconv.Quote(string(key))+" is not a number", nil)
	}
	if err != nil {
		return protoreflect.MapKey{}, err
	}
	return v.MapKey(), nil
}

// isNumber reports whether a number starts at the scanner's cursor; the
// enum decoder uses it to tell a quoted number from an unknown name.
func isNumber(sc *jsonwire.Scanner) bool {
	_, _, err := sc.Number()
	return err == nil
}
