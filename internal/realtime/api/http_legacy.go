package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spindle-rt/spindle/internal/pbjson"
	"github.com/spindle-rt/spindle/proto/apipb"
)

// serveLegacy answers the single endpoint Centrifugo v5 kept for old
// clients: a stream of {"id","method","params"} objects (method as name or
// enum number) answered by newline-separated {"id","result"|"error"}.
// The whole body is decoded before anything runs, so a malformed command
// gives 400 without the earlier ones having taken effect.
func (h *httpHandler) serveLegacy(w http.ResponseWriter, r *http.Request, body []byte) {
	cmds, err := decodeLegacy(body)
	if err != nil {
		http.Error(w, "invalid JSON request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var out bytes.Buffer
	for i, c := range cmds {
		rep, err := h.legacyCommand(r, c)
		if err == nil {
			if i > 0 {
				out.WriteByte('\n')
			}
			var data []byte
			data, err = pbjson.Marshal(rep, pbjson.APIResults())
			out.Write(data)
		}
		if err != nil {
			h.log.Error("encode legacy HTTP API reply", "error", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
	}
	h.writeRaw(w, http.StatusOK, out.Bytes())
}

// decodeLegacy splits the body into commands.
func decodeLegacy(body []byte) ([]*apipb.Command, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("no commands in body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var cmds []*apipb.Command
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return cmds, nil
		}
		if err != nil {
			return nil, fmt.Errorf("command %d: %w", len(cmds)+1, err)
		}
		c := new(apipb.Command)
		if err := pbjson.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("command %d: %w", len(cmds)+1, err)
		}
		cmds = append(cmds, c)
	}
}

// legacyCommand runs one legacy command. Params that do not fit the
// method are a 107 for that command only, as in Centrifugo.
func (h *httpHandler) legacyCommand(r *http.Request, c *apipb.Command) (*apipb.Reply, error) {
	rep := &apipb.Reply{Id: c.GetId()}
	name := strings.ToLower(apipb.Command_MethodType_name[int32(c.GetMethod())])
	m, ok := methods[name]
	if !ok || name == "batch" {
		rep.Error = errNotFound()
		return rep, nil
	}
	req := m.newRequest()
	if err := decodeBody(c.GetParams(), req); err != nil {
		h.log.Warn("bad legacy HTTP API params", "method", name, "error", err)
		rep.Error = errBadRequest()
		return rep, nil
	}
	resp := m.run(h.exec, r.Context(), req)
	if resp == nil {
		return nil, fmt.Errorf("method %s produced no response", name)
	}
	if apiErr := errorOf(resp); apiErr != nil {
		rep.Error = apiErr
		return rep, nil
	}
	if res := resultOf(resp); res != nil {
		data, err := pbjson.Marshal(res, pbjson.APIResults())
		if err != nil {
			return nil, fmt.Errorf("encode %s result: %w", name, err)
		}
		rep.Result = data
	}
	return rep, nil
}
