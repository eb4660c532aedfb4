package workerrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
	"github.com/spindle-rt/spindle/internal/rraddr"
)

// Client calls a worker RPC endpoint (ours or RoadRunner's) the way
// roadrunner-php's plain RPC class does: one call at a time. It backs
// `spindle app reset` and `spindle app workers`, and tests.
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	rd   *frame.Reader
	seq  uint32
}

// CallError is the server's answer to a call that failed (an ERROR
// frame): the method ran, or was looked up, and said no.
type CallError struct {
	Method  string
	Message string
}

// Error returns the method and the server's message.
func (e *CallError) Error() string { return fmt.Sprintf("%s: %s", e.Method, e.Message) }

// Dial connects to an rpc.listen address (tcp://host:port or
// unix:///path; bare host:port is accepted too, as a convenience for
// --rpc) within ctx.
func Dial(ctx context.Context, address string) (*Client, error) {
	a, err := rraddr.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("rpc address: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, a.Network, a.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to the worker RPC endpoint %s: %w", address, err)
	}
	return &Client{conn: conn, rd: frame.NewReader(conn, DefaultMaxFrameSize)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Call sends arg, already encoded in codec (frame.CodecProto,
// frame.CodecJSON or frame.CodecRaw), and returns the encoded reply. A
// failed call is a *CallError; ctx's deadline bounds the round trip, and
// a call that times out leaves the connection unusable.
func (c *Client) Call(ctx context.Context, method string, codec byte, arg []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Time{}
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Now()) })
	defer stop()
	req, err := frame.Append(nil, frame.Frame{Flags: codec, Options: []uint32{seq, uint32(len(method))}, Payload: append([]byte(method), arg...)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if _, err := c.conn.Write(req); err != nil {
		return nil, fmt.Errorf("%s: sending: %w", method, err)
	}
	f, err := c.rd.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the reply: %w", method, err)
	}
	if len(f.Options) != 2 || f.Options[0] != seq || int(f.Options[1]) > len(f.Payload) {
		return nil, fmt.Errorf("%s: invalid reply frame (options %v, want seq %d)", method, f.Options, seq)
	}
	body := f.Payload[f.Options[1]:]
	if f.Flags&frame.FlagError != 0 {
		return nil, &CallError{Method: method, Message: string(body)}
	}
	return body, nil
}

// Reset asks the server to replace every worker of the centrifuge pool
// (resetter.Reset), waiting until the new workers are ready.
func (c *Client) Reset(ctx context.Context) error {
	out, err := c.Call(ctx, "resetter.Reset", frame.CodecJSON, []byte(`"`+ServiceName+`"`))
	if err != nil {
		return err
	}
	if string(out) != "true" {
		return fmt.Errorf("resetter.Reset answered %q", out)
	}
	return nil
}

// Workers lists the centrifuge pool's workers (informer.Workers).
func (c *Client) Workers(ctx context.Context) ([]WorkerState, error) {
	out, err := c.Call(ctx, "informer.Workers", frame.CodecJSON, []byte(`"`+ServiceName+`"`))
	if err != nil {
		return nil, err
	}
	var l WorkerList
	if err := json.Unmarshal(out, &l); err != nil {
		return nil, fmt.Errorf("informer.Workers reply: %w", err)
	}
	return l.Workers, nil
}
