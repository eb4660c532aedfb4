package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/proto/proxypb"
)

func post(t *testing.T, client *http.Client, url, body string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxTimeout(t, 5*time.Second), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

// The request bodies are what Centrifugo's HTTP proxy sends (spec §2.5:
// proto field names, bytes as embedded JSON, `user` always present except
// in connect); the answers are what it expects back.
func TestHTTPEveryEvent(t *testing.T) {
	a, _ := fullApp(Options{})
	base := "http://" + serveTCP(t, a)
	auth := http.Header{"Authorization": {"Bearer tok"}}
	tests := []struct {
		name, path, body, want string
	}{
		{"connect", "/connect",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","name":"js","data":{"x":1}}`,
			`{"result":{"user":"56","data":{"x":1}}}`},
		{"connect with prefix path and channels", "/centrifugo/connect",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","channels":["news"]}`,
			`{"result":{"user":"56","channels":["news"]}}`},
		{"connect disconnect", "/connect",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","name":"deny"}`,
			`{"disconnect":{"code":4501,"reason":"unauthorized"}}`},
		{"refresh", "/refresh",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56"}`,
			`{"result":{"expire_at":1700000000}}`},
		{"refresh anonymous", "/refresh",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":""}`,
			`{"result":{"expired":true}}`},
		{"subscribe", "/subscribe",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"news"}`,
			`{"result":{"info":{"user":"56"}}}`},
		{"subscribe denied", "/subscribe",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"private:x"}`,
			`{"error":{"code":403,"message":"permission denied"}}`},
		{"publish", "/publish",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"chat","data":{"text":"hi"}}`,
			`{"result":{"data":{"wrapped":{"text":"hi"}}}}`},
		{"publish as is", "/publish",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"asis","data":1}`,
			`{"result":{}}`},
		{"rpc", "/rpc",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","method":"echo","data":{"q":[1,2]}}`,
			`{"result":{"data":{"q":[1,2]}}}`},
		{"rpc headers", "/rpc",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","method":"whoami"}`,
			`{"result":{"data":{"user":"56","auth":"Bearer tok"}}}`},
		{"rpc unknown", "/rpc",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","method":"nope"}`,
			`{"error":{"code":104,"message":"method not found"}}`},
		{"sub_refresh", "/sub_refresh",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"news"}`,
			`{"result":{"expire_at":1800000000}}`},
		{"map_publish", "/map_publish",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"seats:1","key":"a1","data":{"n":1}}`,
			`{"result":{"data":{"by":"56","was":{"n":1}},"key_mode":"if_new"}}`},
		{"map_publish denied", "/centrifugo/map_publish",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"seats:1","key":"taken-b","data":{}}`,
			`{"error":{"code":1409,"message":"seat taken"}}`},
		{"map_remove", "/map_remove",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"56","channel":"seats:1","key":"a1"}`,
			`{"result":{"tags":{"by":"56"}}}`},
		{"map_remove anonymous", "/map_remove",
			`{"client":"9336a9ae","transport":"websocket","protocol":"json","encoding":"json","user":"","channel":"seats:1","key":"a1"}`,
			`{"disconnect":{"code":4503,"reason":"sign in"}}`},
		// The spec's request (a version of 0 is left out); data are raw JSON
		// both ways, and the answer has no disconnect to offer.
		{"shared_poll_refresh", "/shared_poll_refresh",
			`{"channel":"poll:x","items":[{"key":"k1","version":3},{"key":"gone-k2"}]}`,
			`{"result":{"items":[{"key":"k1","data":{"key":"k1","auth":"Bearer tok"},"version":4},{"key":"gone-k2","removed":true}],"epoch":"e1"}}`},
		{"shared_poll_refresh failed", "/centrifugo/shared_poll_refresh",
			`{"channel":"poll:down","items":[{"key":"k1"}]}`,
			`{"error":{"code":1500,"message":"store down"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, http.DefaultClient, base+tt.path, tt.body, auth)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			if body != tt.want {
				t.Fatalf("body\n got %s\nwant %s", body, tt.want)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	a, _ := fullApp(Options{MaxRequestBytes: 64})
	base := "http://" + serveTCP(t, a)

	if code, _ := post(t, http.DefaultClient, base+"/nope", `{}`, nil); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
	if code, _ := post(t, http.DefaultClient, base+"/connect", `{"client":`, nil); code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", code)
	}
	if code, _ := post(t, http.DefaultClient, base+"/connect", `{"client":"`+strings.Repeat("x", 100)+`"}`, nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d", code)
	}
	resp, err := http.Get(base + "/connect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestHTTPDeadlineOverrun(t *testing.T) {
	a, lb := testApp(Options{Timeout: 150 * time.Millisecond})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.HandleRPC("slow", func(context.Context, *RPCRequest) (*proxypb.RPCResponse, error) {
		<-release
		return nil, nil
	})
	base := "http://" + serveTCP(t, a)
	start := time.Now()
	code, _ := post(t, http.DefaultClient, base+"/rpc", `{"client":"c9","user":"","method":"slow"}`, nil)
	if code != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", code)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	lb.waitFor(t, "overran", "type=rpc", "client=c9", "method=slow")
}

func TestHTTPReplyThatIsNotJSON(t *testing.T) {
	a, lb := testApp(Options{})
	a.HandleRPC("bin", func(_ context.Context, r *RPCRequest) (*proxypb.RPCResponse, error) {
		return r.Answer([]byte{0xff, 0x00}), nil
	})
	base := "http://" + serveTCP(t, a)
	code, body := post(t, http.DefaultClient, base+"/rpc", `{"client":"c1","user":"","method":"bin"}`, nil)
	if code != http.StatusOK || body != `{"error":{"code":100,"message":"internal server error","temporary":true}}` {
		t.Fatalf("%d %s", code, body)
	}
	lb.waitFor(t, "cannot be encoded as JSON", "method=bin")
}
