package config

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
)

// Error is one configuration problem, located precisely enough that a
// user can jump to it: which source (file, environment, flags), which
// line, which key.
type Error struct {
	// Source is the config file path, "env", "flags", or "" for problems
	// that involve only default values.
	Source string
	// Line is the 1-based line in Source; 0 when unknown (TOML, env,
	// flags, defaults).
	Line int
	// Key is the key as the user wrote it: "proxy_refresh_endpoint",
	// "client.proxy.connect.endpoint", "namespaces[1].history_ttl",
	// "CENTRIFUGO_PORT".
	Key string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
	// Err is the underlying cause, when there is one.
	Err error

	// keyInMsg means Msg already names the key (unknown-key errors), so
	// Error() does not repeat it.
	keyInMsg bool
}

// Error renders "config.json:12: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(location(e.Source, e.Line))
	if e.Key != "" && !e.keyInMsg {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap exposes the underlying cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

func location(source string, line int) string {
	if source == "" {
		return ""
	}
	if line > 0 {
		return source + ":" + strconv.Itoa(line)
	}
	return source
}

// Errors is what Load returns when the configuration is unusable: every
// problem found, not only the first, so one `spindle checkconfig` run
// shows them all.
type Errors struct {
	List []*Error
}

// Error lists the problems, one per line.
func (e *Errors) Error() string {
	parts := make([]string, len(e.List))
	for i, it := range e.List {
		parts[i] = it.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.Is/As look at each problem.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, it := range e.List {
		out[i] = it
	}
	return out
}

// Warning is a problem that does not stop the server but that the user
// should hear about: a legacy key, a risky setting, an ignored option.
type Warning struct {
	Source string // as in Error
	Line   int
	Key    string
	Msg    string
}

// String renders the warning like an Error.
func (w Warning) String() string {
	e := Error{Source: w.Source, Line: w.Line, Key: w.Key, Msg: w.Msg}
	return e.Error()
}

// readError is why a file could not be read, without the path that
// os.Open puts in its error: the message already starts with it.
func readError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
