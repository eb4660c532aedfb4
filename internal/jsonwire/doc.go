// Package jsonwire is the one JSON tokenizer and the one JSON string writer
// shared by the client-protocol decoder, the proto JSON codec (pbjson) and
// the config reader. It is a leaf package: it imports nothing from the
// project, so any layer can use it.
//
// # Why a tokenizer and not a parser
//
// The three users walk JSON into very different things: the protocol
// decoder fills generated structs field by field and names the failing key
// path in its own error type, pbjson walks protoreflect descriptors, and the
// config reader builds a tree that keeps line numbers. A shared tree or
// callback walker would force one of those shapes (and its allocations) on
// all of them. What they really had three copies of is the lexical layer,
// which is also where the subtle rules live: whitespace and comments, the
// number grammar, string escapes, surrogate pairs, invalid UTF-8, nesting
// limits and validating skips. That layer is Scanner; each user keeps its
// short object/array loops on top of it.
//
// # One scanner, options instead of variants
//
// A single Scanner type takes Options rather than there being a fast and a
// slow scanner:
//
//   - Comments (// and /* */ wherever whitespace may appear) are blanked
//     out to spaces in a private copy of the input when the Scanner is
//     made, keeping offsets and line breaks. The whitespace loop in Peek is
//     then the same four-byte test for both dialects and small enough to
//     be inlined into the protocol decoder's loops, as its private lexer's
//     was (a '/' test calling a comment skipper makes Peek too big for the
//     inliner).
//     Only config files, read once, pay for the copy.
//   - Line and column numbers are not tracked while scanning. Newlines can
//     only occur in whitespace and comments, so Position recomputes them
//     from a byte offset on demand, caching the last answer so a reader
//     that asks in increasing order (the config reader asks for every key)
//     stays linear. The protocol hot path therefore carries no line
//     counter at all.
//   - AllowInvalidUTF8 keeps pbjson's encoding/json-like leniency for
//     skipped and embedded values, while the protocol stays strict:
//     a payload forwarded verbatim to a JSON client in a text frame must be
//     valid UTF-8, so by default skipping a string with invalid UTF-8 is an
//     error. Decoded strings (String) never fail on invalid UTF-8: bad
//     bytes and lone surrogates become U+FFFD as in encoding/json, so the
//     result is always valid for protobuf string fields.
//
// Everything works on a byte slice held by the Scanner; String returns a
// view of the input when the string has no escapes and is valid UTF-8, so
// the common path allocates nothing. Errors are *SyntaxError with a byte
// offset; users translate them into their own error types (and lines).
//
// # Escaping
//
// AppendString escapes the way Go's encoding/json does (Go 1.22 and later)
// except for HTML characters: '"' and '\\' with a backslash, \n \r \t \b
// \f by their short forms, other control characters as \u00XX, U+2028 and
// U+2029 as \u2028 and \u2029 (JavaScript treats them as line breaks), and
// invalid UTF-8 as \ufffd. '<', '>' and '&' are written as they are, as
// Centrifugo's encoder does, since the output is a wire format, not HTML.
package jsonwire
