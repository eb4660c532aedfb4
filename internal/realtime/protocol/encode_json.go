package protocol

import (
	"github.com/spindle-rt/spindle/internal/jsonwire"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// AppendReplyJSON appends the JSON encoding of r to dst: one compact line
// with proto field names in field-number order, zero fields omitted except
// the few the protocol always writes, bytes fields embedded as raw JSON with
// raw newlines removed. If a bytes field is not valid JSON the error wraps
// ErrInvalidJSONPayload and dst is returned unchanged.
func AppendReplyJSON(dst []byte, r *clientpb.Reply) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.reply(r)
	if w.err != nil {
		return dst, w.err
	}
	return w.b, nil
}

// The writers below take possibly-nil messages and read them through the
// generated getters, so a nil map value or list element encodes like an
// empty message, matching what protobuf would deliver.

func (w *jsonWriter) reply(r *clientpb.Reply) {
	w.open()
	w.uint("id", uint64(r.GetId()))
	if v := r.GetError(); v != nil {
		w.key("error")
		w.open()
		w.uint("code", uint64(v.GetCode()))
		w.str("message", v.GetMessage())
		w.boolean("temporary", v.GetTemporary())
		w.close()
	}
	if v := r.GetPush(); v != nil {
		w.key("push")
		w.push(v)
	}
	if v := r.GetConnect(); v != nil {
		w.key("connect")
		w.connectResult(v)
	}
	if v := r.GetSubscribe(); v != nil {
		w.key("subscribe")
		w.subscribeResult(v)
	}
	if r.GetUnsubscribe() != nil {
		w.key("unsubscribe")
		w.b = append(w.b, '{', '}')
	}
	if r.GetPublish() != nil {
		w.key("publish")
		w.b = append(w.b, '{', '}')
	}
	if v := r.GetPresence(); v != nil {
		w.key("presence")
		w.presenceResult(v)
	}
	if v := r.GetPresenceStats(); v != nil {
		w.key("presence_stats")
		w.open()
		w.uintAlways("num_clients", uint64(v.GetNumClients()))
		w.uintAlways("num_users", uint64(v.GetNumUsers()))
		w.close()
	}
	if v := r.GetHistory(); v != nil {
		w.key("history")
		w.historyResult(v)
	}
	if r.GetPing() != nil {
		w.key("ping")
		w.b = append(w.b, '{', '}')
	}
	if v := r.GetRpc(); v != nil {
		w.key("rpc")
		w.open()
		w.raw("data", v.GetData(), "rpc.data")
		w.close()
	}
	if v := r.GetRefresh(); v != nil {
		w.key("refresh")
		w.open()
		w.str("client", v.GetClient())
		w.str("version", v.GetVersion())
		w.boolean("expires", v.GetExpires())
		w.uint("ttl", uint64(v.GetTtl()))
		w.close()
	}
	if v := r.GetSubRefresh(); v != nil {
		w.key("sub_refresh")
		w.open()
		w.boolean("expires", v.GetExpires())
		w.uint("ttl", uint64(v.GetTtl()))
		w.publications("items", v.GetItems(), false)
		w.close()
	}
	w.close()
}

func (w *jsonWriter) push(p *clientpb.Push) {
	w.open()
	w.int("id", p.GetId())
	w.str("channel", p.GetChannel())
	if v := p.GetPub(); v != nil {
		w.key("pub")
		w.publication(v)
	}
	if v := p.GetJoin(); v != nil {
		w.key("join")
		w.open()
		if v.GetInfo() != nil {
			w.key("info")
			w.clientInfo(v.GetInfo())
		}
		w.close()
	}
	if v := p.GetLeave(); v != nil {
		w.key("leave")
		w.open()
		if v.GetInfo() != nil {
			w.key("info")
			w.clientInfo(v.GetInfo())
		}
		w.close()
	}
	if v := p.GetUnsubscribe(); v != nil {
		w.key("unsubscribe")
		w.open()
		w.uint("code", uint64(v.GetCode()))
		w.str("reason", v.GetReason())
		w.close()
	}
	if v := p.GetMessage(); v != nil {
		w.key("message")
		w.open()
		w.raw("data", v.GetData(), "message.data")
		w.close()
	}
	if v := p.GetSubscribe(); v != nil {
		w.key("subscribe")
		w.open()
		w.boolean("recoverable", v.GetRecoverable())
		w.str("epoch", v.GetEpoch())
		w.uint("offset", v.GetOffset())
		w.boolean("positioned", v.GetPositioned())
		w.raw("data", v.GetData(), "subscribe push data")
		w.close()
	}
	if v := p.GetConnect(); v != nil {
		w.key("connect")
		w.connectPush(v)
	}
	if v := p.GetDisconnect(); v != nil {
		w.key("disconnect")
		w.open()
		w.uint("code", uint64(v.GetCode()))
		w.str("reason", v.GetReason())
		w.boolean("reconnect", v.GetReconnect())
		w.close()
	}
	if v := p.GetRefresh(); v != nil {
		w.key("refresh")
		w.open()
		w.boolean("expires", v.GetExpires())
		w.uint("ttl", uint64(v.GetTtl()))
		w.close()
	}
	w.close()
}

// clientInfo always writes user and client: clients read them without
// checking for presence, and "" is a meaningful user (anonymous).
func (w *jsonWriter) clientInfo(c *clientpb.ClientInfo) {
	w.open()
	w.strAlways("user", c.GetUser())
	w.strAlways("client", c.GetClient())
	w.raw("conn_info", c.GetConnInfo(), "client info conn_info")
	w.raw("chan_info", c.GetChanInfo(), "client info chan_info")
	w.close()
}

func (w *jsonWriter) publication(p *clientpb.Publication) {
	w.open()
	w.raw("data", p.GetData(), "publication data")
	if v := p.GetInfo(); v != nil {
		w.key("info")
		w.clientInfo(v)
	}
	w.uint("offset", p.GetOffset())
	if tags := p.GetTags(); len(tags) > 0 {
		w.key("tags")
		w.open()
		for _, k := range sortedKeys(tags) {
			w.dynKey(k)
			w.b = jsonwire.AppendString(w.b, tags[k])
		}
		w.close()
	}
	w.boolean("delta", p.GetDelta())
	w.int("time", p.GetTime())
	w.str("channel", p.GetChannel())
	w.str("key", p.GetKey())
	w.boolean("removed", p.GetRemoved())
	w.int("score", p.GetScore())
	w.str("epoch", p.GetEpoch())
	w.raw("prev_data", p.GetPrevData(), "publication prev_data")
	w.uint("version", p.GetVersion())
	w.close()
}

// publications writes a list of publications; always forces "[]" when the
// list is empty instead of omitting the key.
func (w *jsonWriter) publications(k string, pubs []*clientpb.Publication, always bool) {
	if len(pubs) == 0 && !always {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for _, p := range pubs {
		w.elem()
		w.publication(p)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) subscribeResult(s *clientpb.SubscribeResult) {
	w.open()
	w.boolean("expires", s.GetExpires())
	w.uint("ttl", uint64(s.GetTtl()))
	w.boolean("recoverable", s.GetRecoverable())
	w.str("epoch", s.GetEpoch())
	w.publications("publications", s.GetPublications(), false)
	w.boolean("recovered", s.GetRecovered())
	w.uint("offset", s.GetOffset())
	w.boolean("positioned", s.GetPositioned())
	w.raw("data", s.GetData(), "subscribe result data")
	w.boolean("was_recovering", s.GetWasRecovering())
	w.boolean("delta", s.GetDelta())
	w.int("id", s.GetId())
	w.int("type", int64(s.GetType()))
	w.int("phase", int64(s.GetPhase()))
	w.str("cursor", s.GetCursor())
	w.publications("state", s.GetState(), false)
	w.uint("publish_debounce", uint64(s.GetPublishDebounce()))
	w.close()
}

func (w *jsonWriter) subs(subs map[string]*clientpb.SubscribeResult) {
	if len(subs) == 0 {
		return
	}
	w.key("subs")
	w.open()
	for _, ch := range sortedKeys(subs) {
		w.dynKey(ch)
		w.subscribeResult(subs[ch])
	}
	w.close()
}

func (w *jsonWriter) connectResult(c *clientpb.ConnectResult) {
	w.open()
	w.str("client", c.GetClient())
	w.str("version", c.GetVersion())
	w.boolean("expires", c.GetExpires())
	w.uint("ttl", uint64(c.GetTtl()))
	w.raw("data", c.GetData(), "connect result data")
	w.subs(c.GetSubs())
	w.uint("ping", uint64(c.GetPing()))
	w.boolean("pong", c.GetPong())
	w.str("session", c.GetSession())
	w.str("node", c.GetNode())
	w.int("time", c.GetTime())
	w.int("flag", c.GetFlag())
	if d := c.GetDict(); d != nil {
		w.key("dict")
		w.open()
		w.str("id", d.GetId())
		w.raw("data", d.GetData(), "dictionary data")
		w.str("data_b64", d.GetDataB64())
		w.close()
	}
	w.close()
}

func (w *jsonWriter) connectPush(c *clientpb.Connect) {
	w.open()
	w.str("client", c.GetClient())
	w.str("version", c.GetVersion())
	w.raw("data", c.GetData(), "connect push data")
	w.subs(c.GetSubs())
	w.boolean("expires", c.GetExpires())
	w.uint("ttl", uint64(c.GetTtl()))
	w.uint("ping", uint64(c.GetPing()))
	w.boolean("pong", c.GetPong())
	w.str("session", c.GetSession())
	w.str("node", c.GetNode())
	w.int("time", c.GetTime())
	w.close()
}

// presenceResult always writes the presence object, even empty.
func (w *jsonWriter) presenceResult(p *clientpb.PresenceResult) {
	w.open()
	w.key("presence")
	w.open()
	pr := p.GetPresence()
	for _, id := range sortedKeys(pr) {
		w.dynKey(id)
		w.clientInfo(pr[id])
	}
	w.close()
	w.close()
}

// historyResult always writes publications, epoch and offset: clients use
// them to position themselves even when the history is empty.
func (w *jsonWriter) historyResult(h *clientpb.HistoryResult) {
	w.open()
	w.publications("publications", h.GetPublications(), true)
	w.strAlways("epoch", h.GetEpoch())
	w.uintAlways("offset", h.GetOffset())
	w.close()
}
