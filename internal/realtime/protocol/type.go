// Package protocol encodes and decodes client protocol v2 messages in both
// wire formats: newline-joined JSON and varint-delimited Protobuf.
package protocol

// Type is a connection's wire format, fixed for the life of the connection.
type Type string

// The two wire formats of client protocol v2.
const (
	TypeJSON     Type = "json"
	TypeProtobuf Type = "protobuf"
)
