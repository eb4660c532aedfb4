// Package pbjson encodes protobuf messages as JSON the way Centrifugo's
// proxy protocol and server API expect, which protojson cannot do: keys are
// the proto field names, bytes fields hold embedded JSON (not base64),
// 64-bit integers are plain numbers, enums are numbers, and zero values are
// left out unless the caller asks for a field to be always present (the
// proxy `user` key). Decoding is lenient in the same places Centrifugo's
// Go encoding/json based decoding is: unknown keys are skipped, null means
// absent, keys match case-insensitively as a fallback, and numbers may also
// arrive as strings.
//
// The codec walks messages through protoreflect, so it works for any
// generated type (proxypb, apipb, clientpb) without generated JSON code.
package pbjson
