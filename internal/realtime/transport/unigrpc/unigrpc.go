// Package unigrpc is the unidirectional gRPC transport (uni_grpc): a
// server-streaming call, CentrifugoUniStream/Consume, that takes one
// ConnectRequest and streams Push messages, on a gRPC server of its own.
// Any gRPC client can consume it from the service name alone; the messages
// are the client protocol's ConnectRequest and Push.
//
// The node encodes each push once per format and hands the bytes to every
// subscriber, so this server sends them as they are: its codec (named
// "proto", what clients expect) passes pre-encoded messages through and
// marshals anything else with protobuf.
package unigrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/realtime/protocol"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// ServiceName is Centrifugo's name for the service.
const ServiceName = "centrifugal.centrifugo.unistream.CentrifugoUniStream"

// DefaultWriteTimeout bounds one push to a client that stopped reading.
const DefaultWriteTimeout = 5 * time.Second

// Session is the node's client as this transport drives it.
type Session interface {
	ConnectUnidirectional(req *clientpb.ConnectRequest) bool
	HandleClose()
}

// CloseError is what Accept returns to refuse a connection with a
// disconnect code (sent as a disconnect push).
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return fmt.Sprintf("disconnect %d: %s", e.Code, e.Reason) }

// Config of the service.
type Config struct {
	// Accept attaches the stream to the node; ctx carries the call's
	// metadata and peer.
	Accept       func(c *Conn, ctx context.Context) (Session, error)
	WriteTimeout time.Duration
	Logger       *slog.Logger
}

// ServerOptions are the options the uni_grpc server needs: the codec that
// sends pre-encoded pushes as they are.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodec(codec{})}
}

// Register adds the service to s (created with ServerOptions).
func Register(s *grpc.Server, cfg Config) {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg}
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: ServiceName,
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    "Consume",
			Handler:       func(_ any, stream grpc.ServerStream) error { return h.consume(stream) },
			ServerStreams: true,
		}},
		Metadata: "unistream.proto",
	}, struct{}{})
}

type handler struct{ cfg Config }

// consume holds one client's stream until its session ends or it leaves.
func (h *handler) consume(stream grpc.ServerStream) error {
	req := &clientpb.ConnectRequest{}
	if err := stream.RecvMsg(req); err != nil {
		return err
	}
	c := &Conn{stream: stream, writeTimeout: h.cfg.WriteTimeout, done: make(chan struct{}), stalled: make(chan struct{})}
	defer c.finish()
	sess, err := h.cfg.Accept(c, stream.Context())
	if err != nil || sess == nil {
		code, reason := 3004, "internal server error"
		var ce *CloseError
		if errors.As(err, &ce) {
			code, reason = ce.Code, ce.Reason
		}
		h.cfg.Logger.Debug("uni_grpc: connection refused", "error", err, "code", code)
		_ = c.Close(code, reason)
		return nil
	}
	if sess.ConnectUnidirectional(req) {
		select {
		case <-c.done:
		case <-c.stalled:
		case <-stream.Context().Done():
		}
	}
	sess.HandleClose()
	return nil
}

// Conn is one stream: the node's Transport for it.
type Conn struct {
	stream       grpc.ServerStream
	writeTimeout time.Duration

	mu    sync.Mutex
	ended bool

	closeOnce sync.Once
	done      chan struct{} // Close ran: end the call
	stallOnce sync.Once
	stalled   chan struct{} // a write outlived writeTimeout: end the call
}

// Name is the transport name proxies see.
func (c *Conn) Name() string { return "uni_grpc" }

// Protocol is Protobuf.
func (c *Conn) Protocol() protocol.Type { return protocol.TypeProtobuf }

// Unidirectional is always true.
func (c *Conn) Unidirectional() bool { return true }

// Write sends one push.
func (c *Conn) Write(frame []byte) error { return c.WriteBatch([][]byte{frame}) }

// WriteBatch sends each push as a stream message. A client that stops
// reading blocks SendMsg on flow control; past writeTimeout the call is
// ended, which fails the write.
func (c *Conn) WriteBatch(items [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return errClosed
	}
	t := time.AfterFunc(c.writeTimeout, func() { c.stallOnce.Do(func() { close(c.stalled) }) })
	defer t.Stop()
	for _, it := range items {
		if err := c.stream.SendMsg(preEncoded(it)); err != nil {
			c.ended = true
			return fmt.Errorf("uni_grpc send: %w", err)
		}
	}
	return nil
}

var errClosed = errors.New("uni_grpc: stream closed")

// Close sends the disconnect as a push and ends the call; nothing is sent
// when the client itself went away (3000).
func (c *Conn) Close(code int, reason string) error {
	var err error
	c.closeOnce.Do(func() {
		defer close(c.done)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ended || code == 3000 {
			c.ended = true
			return
		}
		c.ended = true
		var b []byte
		if b, err = protocol.EncodePush(protocol.TypeProtobuf, &clientpb.Push{Disconnect: &clientpb.Disconnect{Code: uint32(code), Reason: reason}}); err == nil {
			err = c.stream.SendMsg(preEncoded(b))
		}
	})
	return err
}

// finish runs when the call returns: no write may follow.
func (c *Conn) finish() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
}

// preEncoded is a message already in its wire form.
type preEncoded []byte

// codec is gRPC's protobuf codec plus pass-through for preEncoded.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case preEncoded:
		return m, nil
	case proto.Message:
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("uni_grpc codec: cannot marshal %T", v)
}

func (codec) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("uni_grpc codec: cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data, m)
}

var _ encoding.Codec = codec{}
