package websocket

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults from the Centrifugo fact sheet (§1.2, §1.11, §6.5), applied when
// the matching Config field is zero.
const (
	DefaultMessageSizeLimit = 65536
	DefaultWriteTimeout     = time.Second
	DefaultCloseWait        = 5 * time.Second
	// DefaultReadBufferSize is the read buffer each connection keeps for
	// its whole life. Client commands are small, so 1 KiB costs a larger
	// message only an extra read call or two, and saves 3 KiB per
	// connection against reusing net/http's 4 KiB request buffer.
	DefaultReadBufferSize = 1024
)

// Config for the handler.
type Config struct {
	// AllowedOrigins follows spec §6.4: a request without Origin passes; an
	// empty list rejects any Origin; "*" allows all; otherwise gobwas/glob
	// patterns are matched against the lower-cased Origin.
	AllowedOrigins []string
	// MessageSizeLimit caps one incoming message (default 65536); exceeding
	// it closes the connection with code 1009.
	MessageSizeLimit int
	// WriteTimeout bounds every Write and the close frame (default 1s).
	WriteTimeout time.Duration
	// CloseWait is how long after sending a close frame the transport waits
	// for the peer's close before dropping TCP (default 5s).
	CloseWait time.Duration
	// ReadBufferSize is each connection's read buffer in bytes (default
	// DefaultReadBufferSize; Centrifugo's websocket.read_buffer_size).
	ReadBufferSize int
	// Compression enables permessage-deflate negotiation.
	Compression bool
	// Accept is called after a successful upgrade with the connection; it
	// returns the session that will receive frames or an error (then the
	// transport closes with the code of a *CloseError, else 3004).
	Accept func(c *Conn, r *http.Request) (Session, error)
	// CheckRequest, when set, may refuse a request before the upgrade;
	// its error is answered with 400 and the error's text.
	CheckRequest func(r *http.Request) error
	// Logger receives handshake and accept failures at debug level; nil
	// discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MessageSizeLimit <= 0 {
		c.MessageSizeLimit = DefaultMessageSizeLimit
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = DefaultReadBufferSize
	}
	if c.CloseWait <= 0 {
		c.CloseWait = DefaultCloseWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
