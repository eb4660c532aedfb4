package protocol

import (
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// decodeCommandJSON decodes one command line: a single JSON object with
// nothing but whitespace around it.
func decodeCommandJSON(line []byte) (*clientpb.Command, error) {
	l := newLexer(line)
	if l.Peek() != '{' {
		return nil, l.errorf("command must be a JSON object")
	}
	cmd := &clientpb.Command{}
	if err := decodeCommand(&l, cmd); err != nil {
		return nil, err
	}
	if !l.AtEnd() {
		return nil, l.errorf("unexpected data after command object")
	}
	return cmd, nil
}

// Each decodeX below fills m from one JSON object. Unknown keys are skipped
// (newer clients send fields this server does not know), null means absent.

func decodeCommand(l *lexer, m *clientpb.Command) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "id":
			m.Id, err = l.uint32()
		case "connect":
			if !l.null() {
				m.Connect = &clientpb.ConnectRequest{}
				err = decodeConnectRequest(l, m.Connect)
			}
		case "subscribe":
			if !l.null() {
				m.Subscribe = &clientpb.SubscribeRequest{}
				err = decodeSubscribeRequest(l, m.Subscribe)
			}
		case "unsubscribe":
			if !l.null() {
				m.Unsubscribe = &clientpb.UnsubscribeRequest{}
				err = decodeChannelOnly(l, &m.Unsubscribe.Channel)
			}
		case "publish":
			if !l.null() {
				m.Publish = &clientpb.PublishRequest{}
				err = decodePublishRequest(l, m.Publish)
			}
		case "presence":
			if !l.null() {
				m.Presence = &clientpb.PresenceRequest{}
				err = decodeChannelOnly(l, &m.Presence.Channel)
			}
		case "presence_stats":
			if !l.null() {
				m.PresenceStats = &clientpb.PresenceStatsRequest{}
				err = decodeChannelOnly(l, &m.PresenceStats.Channel)
			}
		case "history":
			if !l.null() {
				m.History = &clientpb.HistoryRequest{}
				err = decodeHistoryRequest(l, m.History)
			}
		case "ping":
			if !l.null() {
				m.Ping = &clientpb.PingRequest{}
				err = l.object(func([]byte) error { return l.skip() })
			}
		case "send":
			if !l.null() {
				m.Send = &clientpb.SendRequest{}
				err = decodeDataOnly(l, &m.Send.Data)
			}
		case "rpc":
			if !l.null() {
				m.Rpc = &clientpb.RPCRequest{}
				err = decodeRPCRequest(l, m.Rpc)
			}
		case "refresh":
			if !l.null() {
				m.Refresh = &clientpb.RefreshRequest{}
				err = decodeRefreshRequest(l, m.Refresh)
			}
		case "sub_refresh":
			if !l.null() {
				m.SubRefresh = &clientpb.SubRefreshRequest{}
				err = decodeSubRefreshRequest(l, m.SubRefresh)
			}
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeConnectRequest(l *lexer, m *clientpb.ConnectRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "token":
			m.Token, err = l.str()
		case "data":
			m.Data, err = l.raw()
		case "subs":
			m.Subs = nil // a repeated key replaces, as everywhere else
			err = l.object(func(ch []byte) error {
				if m.Subs == nil {
					m.Subs = make(map[string]*clientpb.SubscribeRequest)
				}
				sub := &clientpb.SubscribeRequest{}
				m.Subs[string(ch)] = sub
				return decodeSubscribeRequest(l, sub)
			})
		case "name":
			m.Name, err = l.str()
		case "version":
			m.Version, err = l.str()
		case "headers":
			err = decodeStringMap(l, &m.Headers)
		case "flag":
			m.Flag, err = l.int64()
		case "dict":
			m.Dict, err = l.str()
		case "profile":
			m.Profile, err = l.str()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeSubscribeRequest(l *lexer, m *clientpb.SubscribeRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "channel":
			m.Channel, err = l.str()
		case "token":
			m.Token, err = l.str()
		case "recover":
			m.Recover, err = l.boolean()
		case "epoch":
			m.Epoch, err = l.str()
		case "offset":
			m.Offset, err = l.uint64()
		case "data":
			m.Data, err = l.raw()
		case "positioned":
			m.Positioned, err = l.boolean()
		case "recoverable":
			m.Recoverable, err = l.boolean()
		case "join_leave":
			m.JoinLeave, err = l.boolean()
		case "delta":
			m.Delta, err = l.str()
		case "tf":
			if !l.null() {
				m.Tf = &clientpb.FilterNode{}
				err = decodeFilterNode(l, m.Tf)
			}
		case "flag":
			m.Flag, err = l.int64()
		case "type":
			m.Type, err = l.int32()
		case "phase":
			m.Phase, err = l.int32()
		case "cursor":
			m.Cursor, err = l.str()
		case "limit":
			m.Limit, err = l.int32()
		case "asc":
			m.Asc, err = l.boolean()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeFilterNode(l *lexer, m *clientpb.FilterNode) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "op":
			m.Op, err = l.str()
		case "key":
			m.Key, err = l.str()
		case "cmp":
			m.Cmp, err = l.str()
		case "val":
			m.Val, err = l.str()
		case "vals":
			err = decodeStringList(l, &m.Vals)
		case "nodes":
			m.Nodes = nil
			err = l.array(func() error {
				n := &clientpb.FilterNode{}
				m.Nodes = append(m.Nodes, n)
				return decodeFilterNode(l, n)
			})
		default:
			err = l.skip()
		}
		return err
	})
}

// decodeChannelOnly serves the requests whose only field is channel.
func decodeChannelOnly(l *lexer, channel *string) error {
	return l.object(func(k []byte) error {
		if string(k) == "channel" {
			var err error
			*channel, err = l.str()
			return err
		}
		return l.skip()
	})
}

// decodeDataOnly serves the requests whose only field is data.
func decodeDataOnly(l *lexer, data *[]byte) error {
	return l.object(func(k []byte) error {
		if string(k) == "data" {
			var err error
			*data, err = l.raw()
			return err
		}
		return l.skip()
	})
}

func decodePublishRequest(l *lexer, m *clientpb.PublishRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "channel":
			m.Channel, err = l.str()
		case "data":
			m.Data, err = l.raw()
		case "type":
			m.Type, err = l.int32()
		case "key":
			m.Key, err = l.str()
		case "removed":
			m.Removed, err = l.boolean()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeHistoryRequest(l *lexer, m *clientpb.HistoryRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "channel":
			m.Channel, err = l.str()
		case "limit":
			m.Limit, err = l.int32()
		case "since":
			if !l.null() {
				m.Since = &clientpb.StreamPosition{}
				err = decodeStreamPosition(l, m.Since)
			}
		case "reverse":
			m.Reverse, err = l.boolean()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeStreamPosition(l *lexer, m *clientpb.StreamPosition) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "offset":
			m.Offset, err = l.uint64()
		case "epoch":
			m.Epoch, err = l.str()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeRPCRequest(l *lexer, m *clientpb.RPCRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "data":
			m.Data, err = l.raw()
		case "method":
			m.Method, err = l.str()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeRefreshRequest(l *lexer, m *clientpb.RefreshRequest) error {
	return l.object(func(k []byte) error {
		if string(k) == "token" {
			var err error
			m.Token, err = l.str()
			return err
		}
		return l.skip()
	})
}

func decodeSubRefreshRequest(l *lexer, m *clientpb.SubRefreshRequest) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "channel":
			m.Channel, err = l.str()
		case "token":
			m.Token, err = l.str()
		case "type":
			m.Type, err = l.int32()
		case "track":
			m.Track = nil
			err = l.array(func() error {
				tb := &clientpb.TrackBatch{}
				m.Track = append(m.Track, tb)
				return decodeTrackBatch(l, tb)
			})
		case "untrack":
			err = decodeStringList(l, &m.Untrack)
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeTrackBatch(l *lexer, m *clientpb.TrackBatch) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "signature":
			m.Signature, err = l.str()
		case "items":
			m.Items = nil
			err = l.array(func() error {
				it := &clientpb.KeyedItem{}
				m.Items = append(m.Items, it)
				return decodeKeyedItem(l, it)
			})
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeKeyedItem(l *lexer, m *clientpb.KeyedItem) error {
	return l.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "key":
			m.Key, err = l.str()
		case "version":
			m.Version, err = l.uint64()
		default:
			err = l.skip()
		}
		return err
	})
}

func decodeStringMap(l *lexer, dst *map[string]string) error {
	*dst = nil
	return l.object(func(k []byte) error {
		v, err := l.str()
		if err != nil {
			return err
		}
		if *dst == nil {
			*dst = make(map[string]string)
		}
		(*dst)[string(k)] = v
		return nil
	})
}

func decodeStringList(l *lexer, dst *[]string) error {
	*dst = nil
	return l.array(func() error {
		v, err := l.str()
		*dst = append(*dst, v)
		return err
	})
}
