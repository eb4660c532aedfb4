package websocket

import (
	"errors"
	"fmt"
	"io"
)

// errTooBig marks an incoming message over MessageSizeLimit.
var errTooBig = errors.New("message size limit exceeded")

// readLoop delivers messages to sess until the connection is gone. Once the
// connection is closing it only discards input, waiting for the peer's close
// frame (or the drop timer). sess may be nil when the connection was refused.
func (c *Conn) readLoop(sess Session, limit int) {
	defer c.drop()
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		if sess == nil || c.closing.Load() {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		}
		data, err := readLimited(r, limit)
		if errors.Is(err, errTooBig) {
			_ = c.Close(closeMessageTooBig, errTooBig.Error())
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		}
		if err != nil {
			return
		}
		if !sess.HandleFrame(data) {
			if c.closing.Load() {
				sess = nil // wait for the peer's close, deliver nothing more
				continue
			}
			return
		}
	}
}

// readLimited reads one message, holding at most limit+1 bytes in memory
// (after decompression, so deflate bombs are bounded too).
func readLimited(r io.Reader, limit int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if len(data) > limit {
		return nil, errTooBig
	}
	return data, nil
}
