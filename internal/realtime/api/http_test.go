package api

import (
	"strings"
	"testing"
)

type httpCase struct {
	name    string
	method  string // POST when empty
	path    string
	body    string
	headers map[string]string
	status  int
	want    string // exact body, when check is nil
	check   func(t *testing.T, r httpResult)
}

func runHTTPCases(t *testing.T, cfg HTTPConfig, cases []httpCase) {
	t.Helper()
	srv := newHTTPServer(t, newTestNode(t), cfg)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			r := do(t, srv, method, tc.path, tc.body, tc.headers)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
				return
			}
			if got := strings.TrimSpace(r.body); got != tc.want {
				t.Fatalf("body = %q, want %q", got, tc.want)
			}
		})
	}
}

// unauth is the body of every 401.
const unauth = `{"error":{"code":101,"message":"unauthorized"}}`

func TestHTTPAuth(t *testing.T) {
	ok := `{"result":{}}`
	body := `{"channel":"plain:a","data":{"x":1}}`
	runHTTPCases(t, HTTPConfig{Key: testKey}, []httpCase{
		{name: "x-api-key", path: "/api/publish", body: body, status: 200, want: ok},
		{name: "no credentials", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
		{name: "wrong x-api-key", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "nope"}, status: 401, want: unauth},
		{name: "key prefix is not enough", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": testKey[:5]}, status: 401, want: unauth},
		{name: "authorization apikey", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "", "Authorization": "apikey " + testKey}, status: 200, want: ok},
		{name: "authorization scheme any case", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "", "Authorization": "ApiKey " + testKey}, status: 200, want: ok},
		{name: "authorization wrong key", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "", "Authorization": "apikey nope"}, status: 401, want: unauth},
		{name: "authorization other scheme", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "", "Authorization": "Bearer " + testKey}, status: 401, want: unauth},
		{name: "query api_key", path: "/api/publish?api_key=" + testKey, body: body, headers: map[string]string{"X-API-Key": ""}, status: 200, want: ok},
		{name: "query wrong api_key", path: "/api/publish?api_key=nope", body: body, headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
		{name: "x-api-key decides over authorization", path: "/api/publish", body: body, headers: map[string]string{"X-API-Key": "nope", "Authorization": "apikey " + testKey}, status: 401, want: unauth},
		{name: "legacy endpoint needs key too", path: "/api", body: `{"method":"info"}`, headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
		{name: "401 before 405", method: "GET", path: "/api/info", headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
	})
}

func TestHTTPAuthEmptyKeyRefusesAll(t *testing.T) {
	runHTTPCases(t, HTTPConfig{}, []httpCase{
		{name: "empty header", path: "/api/info", headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
		{name: "any header", path: "/api/info", headers: map[string]string{"X-API-Key": "x"}, status: 401, want: unauth},
		{name: "empty query", path: "/api/info?api_key=", headers: map[string]string{"X-API-Key": ""}, status: 401, want: unauth},
	})
}

func TestHTTPInsecure(t *testing.T) {
	runHTTPCases(t, HTTPConfig{Insecure: true}, []httpCase{
		{name: "no key needed", path: "/api/publish", body: `{"channel":"plain:a","data":1}`, headers: map[string]string{"X-API-Key": ""}, status: 200, want: `{"result":{}}`},
	})
}

func TestHTTPRequestErrors(t *testing.T) {
	runHTTPCases(t, HTTPConfig{Key: testKey, MaxBodySize: 64}, []httpCase{
		{name: "GET is 405", method: "GET", path: "/api/publish", status: 405, check: func(t *testing.T, r httpResult) {
			if r.header.Get("Allow") != "POST" {
				t.Fatalf("Allow = %q", r.header.Get("Allow"))
			}
		}},
		{name: "PUT on legacy is 405", method: "PUT", path: "/api", body: `{}`, status: 405, check: func(*testing.T, httpResult) {}},
		{name: "truncated JSON is 400", path: "/api/publish", body: `{"channel":`, status: 400, check: wantText("invalid JSON")},
		{name: "wrong type is 400 naming the field", path: "/api/publish", body: `{"channel":5}`, status: 400, check: wantText(`"channel"`)},
		{name: "array body is 400", path: "/api/info", body: `[]`, status: 400, check: wantText("invalid JSON")},
		// Used to be accepted and then close every JSON subscriber 3506.
		{name: "invalid UTF-8 in data is 400", path: "/api/publish", body: "{\"channel\":\"pp\",\"data\":{\"x\":\"\xff\"}}", status: 400, check: wantText(`field "data": invalid UTF-8 in a JSON payload`)},
		// Used to panic in the decoder and answer with an empty reply.
		{name: "null in a channel list is 400 naming the element", path: "/api/broadcast", body: `{"channels":[null],"data":{}}`, status: 400, check: wantText(`"channels[0]": null is not allowed in an array`)},
		{name: "oversized body is 413", path: "/api/publish", body: `{"channel":"plain:a","data":"` + strings.Repeat("x", 100) + `"}`, status: 413, check: wantText("larger than 64")},
		{name: "outside prefix is 404", path: "/apix/publish", status: 404, check: func(*testing.T, httpResult) {}},
		{name: "PRO method is 104", path: "/api/connections", body: `{"user":"u"}`, status: 404, want: `{"error":{"code":104,"message":"not found"}}`},
		{name: "shared_poll_publish without a channel is 107", path: "/api/shared_poll_publish", body: `{}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "shared_poll_publish", path: "/api/shared_poll_publish", body: `{"channel":"poll:h","key":"k","data":{"v":1},"version":3}`, status: 200, want: `{"result":{}}`},
		{name: "nested path is 104", path: "/api/publish/x", body: `{}`, status: 404, want: `{"error":{"code":104,"message":"not found"}}`},
		{name: "empty body is an empty request", path: "/api/publish", status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
	})
}

func wantText(sub string) func(t *testing.T, r httpResult) {
	return func(t *testing.T, r httpResult) {
		t.Helper()
		if !strings.Contains(r.body, sub) {
			t.Fatalf("body %q does not mention %q", r.body, sub)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type = %q, want text/plain", ct)
		}
	}
}

func TestHTTPMethods(t *testing.T) {
	runHTTPCases(t, HTTPConfig{Key: testKey}, []httpCase{
		{name: "publish with history", path: "/api/publish", body: `{"channel":"hist:p1","data":{"text":"hi"}}`, status: 200, check: func(t *testing.T, r httpResult) {
			v := decode(t, r.body)
			if off := path(t, v, "result", "offset"); off != float64(1) {
				t.Fatalf("offset = %v in %s", off, r.body)
			}
			if ep, _ := path(t, v, "result", "epoch").(string); ep == "" {
				t.Fatalf("no epoch in %s", r.body)
			}
		}},
		{name: "publish skip_history", path: "/api/publish", body: `{"channel":"hist:p2","data":{},"skip_history":true}`, status: 200, want: `{"result":{}}`},
		{name: "publish without history", path: "/api/publish", body: `{"channel":"plain:p","data":"s"}`, status: 200, want: `{"result":{}}`},
		{name: "publish top level", path: "/api/publish", body: `{"channel":"news","data":[1,2]}`, status: 200, want: `{"result":{}}`},
		{name: "publish unknown namespace", path: "/api/publish", body: `{"channel":"nope:x","data":{}}`, status: 200, want: `{"error":{"code":102,"message":"unknown channel"}}`},
		{name: "publish empty channel", path: "/api/publish", body: `{"channel":"","data":{}}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "publish no data", path: "/api/publish", body: `{"channel":"plain:p"}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "publish bad b64data", path: "/api/publish", body: `{"channel":"plain:p","b64data":"!!!"}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "publish b64data", path: "/api/publish", body: `{"channel":"plain:p","b64data":"aGVsbG8="}`, status: 200, want: `{"result":{}}`},
		{name: "broadcast mixed", path: "/api/broadcast", body: `{"channels":["hist:b1","nope:x","","plain:b"],"data":{"n":1}}`, status: 200, check: func(t *testing.T, r httpResult) {
			v := decode(t, r.body)
			if off := path(t, v, "result", "responses", 0, "result", "offset"); off != float64(1) {
				t.Fatalf("responses[0] offset = %v in %s", off, r.body)
			}
			if c := path(t, v, "result", "responses", 1, "error", "code"); c != float64(102) {
				t.Fatalf("responses[1] code = %v in %s", c, r.body)
			}
			if c := path(t, v, "result", "responses", 2, "error", "code"); c != float64(107) {
				t.Fatalf("responses[2] code = %v in %s", c, r.body)
			}
			if res := path(t, v, "result", "responses", 3); !equalJSON(res, map[string]any{"result": map[string]any{}}) {
				t.Fatalf("responses[3] = %v in %s", res, r.body)
			}
			if _, has := v["error"]; has {
				t.Fatalf("per-channel failures leaked to the top level: %s", r.body)
			}
		}},
		{name: "broadcast no channels", path: "/api/broadcast", body: `{"channels":[],"data":{}}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "broadcast no data", path: "/api/broadcast", body: `{"channels":["plain:a"]}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "presence enabled", path: "/api/presence", body: `{"channel":"hist:x"}`, status: 200, want: `{"result":{"presence":{}}}`},
		{name: "presence disabled", path: "/api/presence", body: `{"channel":"plain:x"}`, status: 200, want: `{"error":{"code":108,"message":"not available"}}`},
		{name: "presence unknown", path: "/api/presence", body: `{"channel":"nope:x"}`, status: 200, want: `{"error":{"code":102,"message":"unknown channel"}}`},
		{name: "presence empty channel", path: "/api/presence", body: `{}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "presence_stats enabled", path: "/api/presence_stats", body: `{"channel":"hist:x"}`, status: 200, want: `{"result":{"num_clients":0,"num_users":0}}`},
		{name: "presence_stats disabled", path: "/api/presence_stats", body: `{"channel":"plain:x"}`, status: 200, want: `{"error":{"code":108,"message":"not available"}}`},
		{name: "history disabled", path: "/api/history", body: `{"channel":"plain:x"}`, status: 200, want: `{"error":{"code":108,"message":"not available"}}`},
		{name: "history_remove disabled", path: "/api/history_remove", body: `{"channel":"plain:x"}`, status: 200, want: `{"error":{"code":108,"message":"not available"}}`},
		{name: "history_remove", path: "/api/history_remove", body: `{"channel":"hist:none"}`, status: 200, want: `{"result":{}}`},
		{name: "info", path: "/api/info", body: `{}`, status: 200, check: func(t *testing.T, r httpResult) {
			v := decode(t, r.body)
			if name := path(t, v, "result", "nodes", 0, "name"); name != "api-test-node" {
				t.Fatalf("node name = %v in %s", name, r.body)
			}
			if uid, _ := path(t, v, "result", "nodes", 0, "uid").(string); uid == "" {
				t.Fatalf("no uid in %s", r.body)
			}
		}},
		{name: "channels none active", path: "/api/channels", body: `{}`, status: 200, want: `{"result":{"channels":{}}}`},
		{name: "channels bad pattern", path: "/api/channels", body: `{"pattern":"["}`, status: 200, check: func(t *testing.T, r httpResult) {
			if c := path(t, decode(t, r.body), "error", "code"); c != float64(107) {
				t.Fatalf("code = %v in %s", c, r.body)
			}
		}},
		{name: "rpc empty method", path: "/api/rpc", body: `{"params":{}}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "rpc unknown method", path: "/api/rpc", body: `{"method":"x"}`, status: 200, want: `{"error":{"code":104,"message":"not found"}}`},
		{name: "subscribe", path: "/api/subscribe", body: `{"channel":"hist:s","user":"42","override":{"presence":{"value":false}}}`, status: 200, want: `{"result":{}}`},
		{name: "subscribe empty channel", path: "/api/subscribe", body: `{"user":"42"}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "subscribe unknown", path: "/api/subscribe", body: `{"channel":"nope:s","user":"42"}`, status: 200, want: `{"error":{"code":102,"message":"unknown channel"}}`},
		{name: "subscribe bad b64info", path: "/api/subscribe", body: `{"channel":"hist:s","user":"42","b64info":"%"}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
		{name: "unsubscribe", path: "/api/unsubscribe", body: `{"channel":"hist:s","user":"42"}`, status: 200, want: `{"result":{}}`},
		{name: "disconnect", path: "/api/disconnect", body: `{"user":"42","disconnect":{"code":4000,"reason":"bye"}}`, status: 200, want: `{"result":{}}`},
		{name: "refresh", path: "/api/refresh", body: `{"user":"42","expire_at":1999999999}`, status: 200, want: `{"result":{}}`},
		{name: "refresh without user", path: "/api/refresh", body: `{}`, status: 200, want: `{"error":{"code":107,"message":"bad request"}}`},
	})
}

func TestHTTPTransportErrorMode(t *testing.T) {
	tm := map[string]string{"X-Centrifugo-Error-Mode": "transport"}
	t.Run("per request header", func(t *testing.T) {
		runHTTPCases(t, HTTPConfig{Key: testKey}, []httpCase{
			{name: "102 is 404", path: "/api/publish", body: `{"channel":"nope:x","data":{}}`, headers: tm, status: 404, want: `{"code":102,"message":"unknown channel"}`},
			{name: "107 is 400", path: "/api/publish", body: `{"channel":"plain:x"}`, headers: tm, status: 400, want: `{"code":107,"message":"bad request"}`},
			{name: "108 is 400", path: "/api/history", body: `{"channel":"plain:x"}`, headers: tm, status: 400, want: `{"code":108,"message":"not available"}`},
			{name: "112 is 416", path: "/api/history", body: `{"channel":"hist:x","limit":-1,"since":{"offset":1,"epoch":"not-the-epoch"}}`, headers: tm, status: 416, want: `{"code":112,"message":"unrecoverable position"}`},
			{name: "104 is 404", path: "/api/rpc", body: `{"method":"x"}`, headers: tm, status: 404, want: `{"code":104,"message":"not found"}`},
			{name: "unknown method is bare 404", path: "/api/connections", body: `{}`, headers: tm, status: 404, want: `{"code":104,"message":"not found"}`},
			{name: "success unchanged", path: "/api/publish", body: `{"channel":"plain:x","data":{}}`, headers: tm, status: 200, want: `{"result":{}}`},
			{name: "broadcast per-channel errors stay inside", path: "/api/broadcast", body: `{"channels":["nope:x"],"data":{}}`, headers: tm, status: 200, want: `{"result":{"responses":[{"error":{"code":102,"message":"unknown channel"}}]}}`},
			{name: "broadcast request error is a status", path: "/api/broadcast", body: `{"data":{}}`, headers: tm, status: 400, want: `{"code":107,"message":"bad request"}`},
			{name: "batch is never a status", path: "/api/batch", body: `{"commands":[{"publish":{"channel":"nope:x","data":{}}}]}`, headers: tm, status: 200, want: `{"replies":[{"error":{"code":102,"message":"unknown channel"}}]}`},
			{name: "other header value is default mode", path: "/api/publish", body: `{"channel":"nope:x","data":{}}`, headers: map[string]string{"X-Centrifugo-Error-Mode": "body"}, status: 200, want: `{"error":{"code":102,"message":"unknown channel"}}`},
		})
	})
	t.Run("config", func(t *testing.T) {
		runHTTPCases(t, HTTPConfig{Key: testKey, ErrorMode: "transport"}, []httpCase{
			{name: "102 is 404", path: "/api/presence", body: `{"channel":"nope:x"}`, status: 404, want: `{"code":102,"message":"unknown channel"}`},
			{name: "108 is 400", path: "/api/presence", body: `{"channel":"plain:x"}`, status: 400, want: `{"code":108,"message":"not available"}`},
		})
	})
}
