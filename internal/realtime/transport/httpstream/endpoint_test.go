package httpstream

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func pbRequest(node, session string, data []byte) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, node)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, session)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, data)
	return b
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body string
		want       Request
		wantErr    string
	}{
		{"commands in a string", `{"node":"n1","session":"s1","data":"{\"id\":2,\"rpc\":{}}\n{}"}`, Request{"n1", "s1", []byte("{\"id\":2,\"rpc\":{}}\n{}")}, ""},
		{"unknown fields ignored", `{"node":"n","session":"s","data":"{}","extra":1}`, Request{"n", "s", []byte("{}")}, ""},
		{"data not a string", `{"node":"n","session":"s","data":{"id":1}}`, Request{}, "json"},
		{"missing session", `{"node":"n","data":"{}"}`, Request{}, "required"},
		{"null data", `{"node":"n","session":"s","data":null}`, Request{}, "required"},
		{"not JSON", `node=n`, Request{}, "json"},
		{"empty", ``, Request{}, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Node != tt.want.Node || got.Session != tt.want.Session || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("DecodeJSON = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestDecodeProtobuf(t *testing.T) {
	good := pbRequest("n1", "s1", []byte{3, 0x08, 0x01, 0x00})
	withUnknown := protowire.AppendVarint(protowire.AppendTag(bytes.Clone(good), 9, protowire.VarintType), 42)
	wrongType := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	tests := []struct {
		name    string
		body    []byte
		want    Request
		wantErr bool
	}{
		{"all fields", good, Request{"n1", "s1", []byte{3, 0x08, 0x01, 0x00}}, false},
		{"unknown field skipped", withUnknown, Request{"n1", "s1", []byte{3, 0x08, 0x01, 0x00}}, false},
		{"empty message", nil, Request{}, false},
		{"truncated", good[:len(good)-2], Request{}, true},
		{"wrong wire type for node", wrongType, Request{}, true},
		{"bad tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, Request{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeProtobuf(tt.body)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DecodeProtobuf = %+v, want an error", got)
				}
				return
			}
			if err != nil || got.Node != tt.want.Node || got.Session != tt.want.Session || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("DecodeProtobuf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzDecodeEmulationRequest(f *testing.F) {
	f.Add([]byte(`{"node":"n","session":"s","data":"{}"}`))
	f.Add(pbRequest("n", "s", []byte{0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeProtobuf(b); err == nil {
			// What decodes re-encodes to a request that decodes the same.
			again, err := DecodeProtobuf(pbRequest(r.Node, r.Session, r.Data))
			if err != nil || again.Node != r.Node || again.Session != r.Session || !bytes.Equal(again.Data, r.Data) {
				t.Fatalf("round trip of %+v: %+v, %v", r, again, err)
			}
		}
		_, _ = DecodeJSON(b)
	})
}

type routerFunc func(ctx context.Context, node, session string, data []byte) error

func (f routerFunc) Emulate(ctx context.Context, node, session string, data []byte) error {
	return f(ctx, node, session, data)
}

func TestEndpointAnswers(t *testing.T) {
	var got Request
	h := NewEndpoint(EndpointConfig{MaxRequestBodySize: 100, Router: routerFunc(func(_ context.Context, node, session string, data []byte) error {
		got = Request{node, session, data}
		switch node {
		case "unknown":
			return ErrUnknownNode
		case "broken":
			return errors.New("redis down")
		}
		return nil
	})})
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"json", "POST", "application/json", `{"node":"n","session":"s","data":"{}"}`, 204},
		{"protobuf", "POST", "application/octet-stream", string(pbRequest("n", "s", []byte{0})), 204},
		{"unknown node", "POST", "", `{"node":"unknown","session":"s","data":"{}"}`, 404},
		{"delivery failed", "POST", "", `{"node":"broken","session":"s","data":"{}"}`, 500},
		{"malformed", "POST", "", `{`, 400},
		{"too large", "POST", "", `{"node":"n","session":"s","data":"` + strings.Repeat("x", 100) + `"}`, 413},
		{"GET", "GET", "", ``, 405},
		{"preflight", "OPTIONS", "", ``, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/emulation", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tt.want)
			}
			if tt.want == 204 && tt.method == "POST" && (got.Node != "n" || got.Session != "s" || len(got.Data) == 0) {
				t.Fatalf("router got %+v, want node n, session s and the data", got)
			}
		})
	}
}
