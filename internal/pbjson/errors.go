package pbjson

import "strconv"

// Error reports a value that could not be encoded or decoded, naming the
// JSON key path so a proxy or API caller can tell which field of its body
// was wrong.
type Error struct {
	// Path is the key path such as "result.expire_at" or
	// "commands[2].publish.channel"; empty when the problem is the
	// document itself.
	Path string
	// Msg says what was wrong.
	Msg string
	// Err is the underlying cause, if any.
	Err error

	// segs collects the path innermost-first while the error unwinds.
	segs path
}

// Error formats as `pbjson: field "path": msg[: cause]`; a syntax error
// has no Msg of its own and shows its cause alone.
func (e *Error) Error() string {
	s := "pbjson: "
	if e.Path != "" {
		s += "field " + strconv.Quote(e.Path) + ": "
	}
	s += e.Msg
	if e.Err != nil {
		if e.Msg != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// at records that err happened under path step el; callers add steps
// innermost first as the error travels up, so the happy path never builds
// a path.
func at(err error, el pathElem) error {
	if e, ok := err.(*Error); ok {
		e.segs = append(e.segs, el)
	}
	return err
}

// finish turns the collected steps into Path once the error reaches the
// API boundary.
func finish(err error) error {
	e, ok := err.(*Error)
	if !ok || len(e.segs) == 0 {
		return err
	}
	for i, j := 0, len(e.segs)-1; i < j; i, j = i+1, j-1 {
		e.segs[i], e.segs[j] = e.segs[j], e.segs[i]
	}
	e.Path = e.segs.String()
	e.segs = nil
	return err
}

// pathElem is one step of the key path: a field name, a list index or a
// map key.
type pathElem struct {
	name  string
	index int
	kind  uint8
}

const (
	elemField uint8 = iota
	elemIndex
	elemKey
)

// path is a sequence of steps from the outermost key inwards.
type path []pathElem

func (p path) String() string {
	var b []byte
	for i, e := range p {
		switch e.kind {
		case elemField:
			if i > 0 {
				b = append(b, '.')
			}
			b = append(b, e.name...)
		case elemIndex:
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(e.index), 10)
			b = append(b, ']')
		case elemKey:
			b = append(b, '[')
			b = append(b, e.name...)
			b = append(b, ']')
		}
	}
	return string(b)
}
