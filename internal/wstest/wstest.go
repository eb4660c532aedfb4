// Package wstest is the WebSocket client of Spindle's own tests: it speaks
// Centrifugo client protocol v2, as JSON or as Protobuf, to a server on the
// loopback interface, and puts a deadline on every wait so that a server
// that stays silent fails the test instead of hanging it.
//
// It is an ordinary package only so that tests in several packages can
// share one client; nothing but tests imports it, and nothing that ships
// may.
package wstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// Format is a connection's wire format. The values are the names the
// server uses, so a test may use them in subtest and channel names.
type Format string

// The two wire formats of client protocol v2.
const (
	JSON     Format = "json"     // newline-joined JSON commands and replies
	Protobuf Format = "protobuf" // varint-delimited Protobuf, asked for by subprotocol
)

// DefaultTimeout bounds dialling, each write and each wait for a reply.
const DefaultTimeout = 5 * time.Second

// Options tune Dial; the zero value is a JSON client without extra headers.
type Options struct {
	Format Format      // JSON when empty
	Header http.Header // extra headers for the handshake
	Origin string      // the Origin header, when not empty
	// Timeout bounds dialling, writes and each wait (DefaultTimeout when
	// zero); CloseCode waits twice as long, since a server may first wait
	// out a ping or a shutdown.
	Timeout time.Duration
	// AnswerPings answers server pings with a pong and keeps them from
	// Next, as an SDK would, for tests that are not about pings.
	AnswerPings bool
}

// Client is one connection. Its methods fail the test they were dialled
// for; use it from one goroutine at a time.
type Client struct {
	tb   testing.TB
	conn *websocket.Conn
	opts Options

	mu     sync.Mutex
	queue  []*clientpb.Reply // arrived and not yet taken by Next, in order
	lastID uint32            // the highest command id sent, for Call
	closed bool
	err    error // why the connection ended, once closed

	notify chan struct{} // signalled (never blocking) when queue or closed change
	done   chan struct{} // closed when the read loop has returned
}

// Dial connects to url (ws://host:port/connection/websocket) and reads
// replies in the background until the connection ends. The connection is
// dropped when the test ends. Only loopback hosts are accepted: tests must
// not reach out of the machine.
func Dial(tb testing.TB, rawURL string, opts Options) *Client {
	tb.Helper()
	if opts.Format == "" {
		opts.Format = JSON
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatalf("wstest: %v", err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		tb.Fatalf("wstest: %s is not a loopback address", u.Host)
	}
	dialOpts := &websocket.DialOptions{HTTPHeader: opts.Header.Clone()}
	if opts.Origin != "" {
		if dialOpts.HTTPHeader == nil {
			dialOpts.HTTPHeader = http.Header{}
		}
		dialOpts.HTTPHeader.Set("Origin", opts.Origin)
	}
	if opts.Format == Protobuf {
		dialOpts.Subprotocols = []string{"centrifuge-protobuf"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, rawURL, dialOpts)
	if err != nil {
		tb.Fatalf("wstest: dial %s: %v", rawURL, err)
	}
	conn.SetReadLimit(1 << 20)
	c := &Client{tb: tb, conn: conn, opts: opts, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go c.readLoop()
	// Waiting for the read loop keeps it from reporting a bad frame after
	// the test has ended, which the testing package does not allow.
	tb.Cleanup(func() {
		_ = conn.CloseNow()
		<-c.done
	})
	return c
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closed, c.err = true, err
			c.mu.Unlock()
			c.signal()
			return
		}
		replies, err := decode(c.opts.Format, data)
		if err != nil {
			c.tb.Errorf("wstest: %v", err)
		}
		pings := 0
		c.mu.Lock()
		for _, r := range replies {
			if c.opts.AnswerPings && isPing(r) {
				pings++
				continue
			}
			c.queue = append(c.queue, r)
		}
		c.mu.Unlock()
		c.signal()
		for ; pings > 0; pings-- {
			c.pong()
		}
	}
}

func (c *Client) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// isPing: a server ping is a reply with nothing in it.
func isPing(r *clientpb.Reply) bool { return proto.Size(r) == 0 }

// pong answers a ping from the read loop; the connection lets it write
// while a test writes too. A pong that fails shows as the server closing
// with 3012 (no pong).
func (c *Client) pong() {
	frame, _ := encode(c.opts.Format, []*clientpb.Command{{}})
	_ = c.write(frame)
}

// decode splits a server frame into replies: JSON lines, or varint-
// delimited Protobuf messages. It returns what it could decode with the
// first error.
func decode(f Format, data []byte) ([]*clientpb.Reply, error) {
	var out []*clientpb.Reply
	if f == JSON {
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) == 0 {
				return out, fmt.Errorf("empty line in JSON frame %q", data)
			}
			var r clientpb.Reply
			if err := pbjson.Unmarshal(line, &r); err != nil {
				return out, fmt.Errorf("decode %q: %v", line, err)
			}
			out = append(out, &r)
		}
		return out, nil
	}
	for len(data) > 0 {
		n, k := protowire.ConsumeVarint(data)
		if k < 0 || uint64(len(data)-k) < n {
			return out, fmt.Errorf("bad protobuf frame %x", data)
		}
		var r clientpb.Reply
		if err := proto.Unmarshal(data[k:k+int(n)], &r); err != nil {
			return out, fmt.Errorf("decode protobuf reply: %v", err)
		}
		out = append(out, &r)
		data = data[k+int(n):]
	}
	return out, nil
}

// encode joins commands into one frame the way SDKs batch them.
func encode(f Format, cmds []*clientpb.Command) ([]byte, error) {
	var frame []byte
	for i, cmd := range cmds {
		if f == JSON {
			b, err := pbjson.Marshal(cmd)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				frame = append(frame, '\n')
			}
			frame = append(frame, b...)
			continue
		}
		b, err := proto.Marshal(cmd)
		if err != nil {
			return nil, err
		}
		frame = protowire.AppendVarint(frame, uint64(len(b)))
		frame = append(frame, b...)
	}
	return frame, nil
}

func (c *Client) write(frame []byte) error {
	typ := websocket.MessageText
	if c.opts.Format == Protobuf {
		typ = websocket.MessageBinary
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	return c.conn.Write(ctx, typ, frame)
}

// Send writes cmds in one frame. An empty command is a pong.
func (c *Client) Send(cmds ...*clientpb.Command) {
	c.tb.Helper()
	frame, err := encode(c.opts.Format, cmds)
	if err != nil {
		c.tb.Fatalf("wstest: encode: %v", err)
	}
	c.mu.Lock()
	for _, cmd := range cmds {
		c.lastID = max(c.lastID, cmd.Id)
	}
	c.mu.Unlock()
	if err := c.write(frame); err != nil {
		c.tb.Fatalf("wstest: write: %v", err)
	}
}

// Next returns the first reply, arrived or arriving, that matches pred,
// and fails the test if none comes within the timeout or the connection
// ends. Replies it passes over stay for later calls, so waiting for one
// message never loses another that came first.
func (c *Client) Next(what string, pred func(*clientpb.Reply) bool) *clientpb.Reply {
	c.tb.Helper()
	deadline := time.NewTimer(c.opts.Timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if i := slices.IndexFunc(c.queue, pred); i >= 0 {
			r := c.queue[i]
			c.queue = slices.Delete(c.queue, i, i+1)
			c.mu.Unlock()
			return r
		}
		closed, err := c.closed, c.err
		c.mu.Unlock()
		if closed {
			c.tb.Fatalf("wstest: waiting for %s: connection closed: %v", what, err)
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			c.tb.Fatalf("wstest: timed out after %s waiting for %s", c.opts.Timeout, what)
		}
	}
}

// Reply waits for the reply to command id.
func (c *Client) Reply(id uint32) *clientpb.Reply {
	c.tb.Helper()
	return c.Next(fmt.Sprintf("reply %d", id), func(r *clientpb.Reply) bool { return r.Id == id })
}

// Call sends cmd with the next unused id (it sets cmd.Id) and waits for
// its reply, for tests that do not care which id a command has.
func (c *Client) Call(cmd *clientpb.Command) *clientpb.Reply {
	c.tb.Helper()
	c.mu.Lock()
	c.lastID++
	cmd.Id = c.lastID
	c.mu.Unlock()
	c.Send(cmd)
	return c.Reply(cmd.Id)
}

// Connect sends a connect command with token (empty for anonymous) and
// returns its result, failing the test on an error reply.
func (c *Client) Connect(token string) *clientpb.ConnectResult {
	c.tb.Helper()
	r := c.Call(&clientpb.Command{Connect: &clientpb.ConnectRequest{Token: token, Name: "go-test"}})
	if r.Error != nil {
		c.tb.Fatalf("wstest: connect error: %v", r.Error)
	}
	return r.Connect
}

// CloseCode waits for the server to close the connection, passing over
// whatever else arrives, and returns the close code; a connection that
// ends without a close frame fails the test.
func (c *Client) CloseCode() websocket.StatusCode {
	c.tb.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * c.opts.Timeout):
		c.tb.Fatalf("wstest: timed out after %s waiting for the server to close", 2*c.opts.Timeout)
	}
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	code := websocket.CloseStatus(err)
	if code == -1 {
		c.tb.Fatalf("wstest: connection ended without a close frame: %v", err)
	}
	return code
}

// CloseNow drops the connection without a close handshake, the way a
// client that goes away does.
func (c *Client) CloseNow() { _ = c.conn.CloseNow() }
