package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is one client-protocol v2 connection speaking JSON. It does only
// what the soak needs: connect with a token, subscribe with optional
// recovery, answer pings, and hand every publication push to onPub. It is
// deliberately not the SDK: the soak measures the server, and a minimal
// client keeps the load tool's own CPU small on a 2-core machine.
type wsClient struct {
	conn *websocket.Conn
}

// frame is the part of a reply or push the soak reads.
type frame struct {
	ID    uint32          `json:"id"`
	Error *replyError     `json:"error"`
	Sub   *subscribeReply `json:"subscribe"`
	Push  *struct {
		Channel string       `json:"channel"`
		Pub     *publication `json:"pub"`
	} `json:"push"`
}

type replyError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type subscribeReply struct {
	Recoverable  bool          `json:"recoverable"`
	Epoch        string        `json:"epoch"`
	Offset       uint64        `json:"offset"`
	Recovered    bool          `json:"recovered"`
	WasRecover   bool          `json:"was_recovering"`
	Publications []publication `json:"publications"`
}

type publication struct {
	Offset uint64  `json:"offset"`
	Data   payload `json:"data"`
}

// payload is what the publisher puts in every publication: the channel's
// sequence number and the send time on the harness's monotonic clock.
type payload struct {
	Seq  int   `json:"seq"`
	Sent int64 `json:"sent"`
}

var dialer = websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	NetDialContext:   (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	ReadBufferSize:   4096,
	WriteBufferSize:  1024,
}

// dial opens the WebSocket and sends connect; the connect reply is read
// before returning so that a refused token fails here, not later.
func dial(url, token string) (*wsClient, error) {
	conn, resp, err := dialer.Dial(url, http.Header{})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	c := &wsClient{conn: conn}
	cmd := fmt.Sprintf(`{"id":1,"connect":{"token":%q,"name":"soak"}}`, token)
	if err := c.write(cmd); err != nil {
		conn.Close()
		return nil, err
	}
	var f frame
	if err := c.readReply(1, &f); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return c, nil
}

// subscribe asks for channel, recovering from (epoch, offset) when epoch is
// set, and returns the reply (with the recovered publications).
func (c *wsClient) subscribe(channel, epoch string, offset uint64) (*subscribeReply, error) {
	var cmd string
	if epoch == "" {
		cmd = fmt.Sprintf(`{"id":2,"subscribe":{"channel":%q}}`, channel)
	} else {
		cmd = fmt.Sprintf(`{"id":2,"subscribe":{"channel":%q,"recover":true,"epoch":%q,"offset":%d}}`, channel, epoch, offset)
	}
	if err := c.write(cmd); err != nil {
		return nil, err
	}
	var f frame
	if err := c.readReply(2, &f); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", channel, err)
	}
	if f.Sub == nil {
		return nil, fmt.Errorf("subscribe %s: reply without a subscribe result", channel)
	}
	return f.Sub, nil
}

func (c *wsClient) write(s string) error {
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

// readReply reads frames until the reply with id arrives. Pushes that come
// first cannot exist here (nothing is subscribed yet when connect or
// subscribe is pending), so any other frame is an error.
func (c *wsClient) readReply(id uint32, f *frame) error {
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.conn.SetReadDeadline(time.Time{})
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(msg, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if string(line) == "{}" {
				if err := c.write("{}"); err != nil {
					return err
				}
				continue
			}
			*f = frame{}
			if err := json.Unmarshal(line, f); err != nil {
				return fmt.Errorf("decode %q: %w", line, err)
			}
			if f.ID != id {
				return fmt.Errorf("got %q while waiting for reply %d", line, id)
			}
			if f.Error != nil {
				return fmt.Errorf("error %d %s", f.Error.Code, f.Error.Message)
			}
			return nil
		}
	}
}

// readLoop hands every publication push to onPub until the connection ends,
// answering server pings. It returns the error that ended it.
func (c *wsClient) readLoop(onPub func(publication)) error {
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(msg, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if string(line) == "{}" {
				if err := c.write("{}"); err != nil {
					return err
				}
				continue
			}
			var f frame
			if err := json.Unmarshal(line, &f); err != nil {
				return fmt.Errorf("decode %q: %w", line, err)
			}
			if f.Push != nil && f.Push.Pub != nil {
				onPub(*f.Push.Pub)
			}
		}
	}
}

// close ends the connection with a normal close frame, as a browser tab that
// is closed does.
func (c *wsClient) close() {
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.conn.Close()
}
