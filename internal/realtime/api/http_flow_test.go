package api

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func newFlowServer(t *testing.T) func(path, body string) httpResult {
	t.Helper()
	srv := newHTTPServer(t, newTestNode(t), HTTPConfig{Key: testKey})
	return func(path, body string) httpResult {
		t.Helper()
		r := post(t, srv, path, body, nil)
		if r.status != 200 {
			t.Fatalf("POST %s: status %d body %q", path, r.status, r.body)
		}
		return r
	}
}

func TestHTTPHistoryFlow(t *testing.T) {
	call := newFlowServer(t)
	pub := decode(t, call("/api/publish", `{"channel":"hist:h","data":{"n":1},"tags":{"k":"v"}}`).body)
	epoch := path(t, pub, "result", "epoch").(string)
	call("/api/publish", `{"channel":"hist:h","b64data":"eyJuIjoyfQ=="}`) // {"n":2}

	h := decode(t, call("/api/history", `{"channel":"hist:h","limit":-1}`).body)
	if got := path(t, h, "result", "offset"); got != float64(2) {
		t.Fatalf("top offset = %v", got)
	}
	if got := path(t, h, "result", "epoch"); got != epoch {
		t.Fatalf("epoch = %v, want %v", got, epoch)
	}
	if got := path(t, h, "result", "publications", 0, "data", "n"); got != float64(1) {
		t.Fatalf("first publication data = %v", got)
	}
	if got := path(t, h, "result", "publications", 0, "tags", "k"); got != "v" {
		t.Fatalf("first publication tags = %v", got)
	}
	if got := path(t, h, "result", "publications", 1, "data", "n"); got != float64(2) {
		t.Fatalf("b64data publication decoded to %v", got)
	}

	// limit 0: position only; since: only what came after.
	top := decode(t, call("/api/history", `{"channel":"hist:h"}`).body)
	if pubs := path(t, top, "result", "publications").([]any); len(pubs) != 0 {
		t.Fatalf("limit 0 returned publications: %v", top)
	}
	since := decode(t, call("/api/history", fmt.Sprintf(`{"channel":"hist:h","limit":-1,"since":{"offset":1,"epoch":%q}}`, epoch)).body)
	if got := path(t, since, "result", "publications", 0, "offset"); got != float64(2) {
		t.Fatalf("since offset 1 gave %v", since)
	}
	rev := decode(t, call("/api/history", `{"channel":"hist:h","limit":1,"reverse":true}`).body)
	if got := path(t, rev, "result", "publications", 0, "offset"); got != float64(2) {
		t.Fatalf("reverse limit 1 gave %v", rev)
	}

	// history_remove drops publications but keeps the position.
	if got := call("/api/history_remove", `{"channel":"hist:h"}`).body; got != `{"result":{}}` {
		t.Fatalf("history_remove = %s", got)
	}
	after := decode(t, call("/api/history", `{"channel":"hist:h","limit":-1}`).body)
	if pubs := path(t, after, "result", "publications").([]any); len(pubs) != 0 {
		t.Fatalf("publications survived history_remove: %v", after)
	}
	if got := path(t, after, "result", "offset"); got != float64(2) {
		t.Fatalf("offset after remove = %v", got)
	}
}

func TestHTTPBatch(t *testing.T) {
	call := newFlowServer(t)

	t.Run("sequential", func(t *testing.T) {
		body := `{"commands":[
			{"publish":{"channel":"hist:b","data":{"i":1}}},
			{"publish":{"channel":"nope:b","data":{}}},
			{"broadcast":{"channels":["hist:b"],"data":{"i":2}}},
			{},
			{"connections":{"user":"u"}},
			{"history":{"channel":"hist:b","limit":-1}}
		]}`
		v := decode(t, call("/api/batch", body).body)
		checks := []struct {
			at   []any
			want any
		}{
			{[]any{"replies", 0, "publish", "offset"}, float64(1)},
			{[]any{"replies", 1, "error", "code"}, float64(102)},
			{[]any{"replies", 2, "broadcast", "responses", 0, "result", "offset"}, float64(2)},
			{[]any{"replies", 3, "error", "message"}, "not found"},
			{[]any{"replies", 4, "error", "code"}, float64(104)},
			{[]any{"replies", 5, "history", "offset"}, float64(2)},
			{[]any{"replies", 5, "history", "publications", 1, "data", "i"}, float64(2)},
		}
		for _, c := range checks {
			if got := path(t, v, c.at...); got != c.want {
				t.Errorf("%v = %v, want %v", c.at, got, c.want)
			}
		}
	})

	t.Run("parallel", func(t *testing.T) {
		const n = 20
		cmds := make([]string, n)
		for i := range cmds {
			cmds[i] = fmt.Sprintf(`{"publish":{"channel":"hist:par","data":{"i":%d}}}`, i)
		}
		v := decode(t, call("/api/batch", `{"parallel":true,"commands":[`+strings.Join(cmds, ",")+`]}`).body)
		var offsets []int
		for i := range n {
			off, ok := path(t, v, "replies", i, "publish", "offset").(float64)
			if !ok {
				t.Fatalf("reply %d has no offset: %v", i, v)
			}
			offsets = append(offsets, int(off))
		}
		sort.Ints(offsets)
		for i, off := range offsets {
			if off != i+1 {
				t.Fatalf("offsets %v are not 1..%d", offsets, n)
			}
		}
	})

	t.Run("empty", func(t *testing.T) {
		if got := call("/api/batch", `{}`).body; got != `{}` {
			t.Fatalf("empty batch = %s", got)
		}
	})
}

func TestHTTPLegacyEndpoint(t *testing.T) {
	srv := newHTTPServer(t, newTestNode(t), HTTPConfig{Key: testKey})
	cases := []struct {
		name   string
		path   string
		body   string
		status int
		want   []string // reply lines
		text   string   // for non-200: substring of the plain-text body
	}{
		{
			name: "methods by name and number",
			path: "/api",
			body: `{"id":1,"method":"publish","params":{"channel":"hist:l","data":{"a":1}}}` + "\n" +
				`{"id":2,"method":"PRESENCE_STATS","params":{"channel":"hist:l"}}` + "\n" +
				`{"id":3,"method":7,"params":{"channel":"plain:l"}}` + "\n" +
				`{"id":4,"method":"connections","params":{}}` + "\n" +
				`{"id":5,"method":"publish","params":{"channel":5}}` + "\n" +
				`{"method":"history_remove","params":{"channel":"hist:l"}}`,
			status: 200,
			want: []string{
				`{"id":1,"result":{"offset":1,"epoch":"*"}}`,
				`{"id":2,"result":{"num_clients":0,"num_users":0}}`,
				`{"id":3,"error":{"code":108,"message":"not available"}}`,
				`{"id":4,"error":{"code":104,"message":"not found"}}`,
				`{"id":5,"error":{"code":107,"message":"bad request"}}`,
				`{"result":{}}`,
			},
		},
		{name: "trailing slash", path: "/api/", body: `{"id":9,"method":"rpc","params":{"method":""}}`, status: 200,
			want: []string{`{"id":9,"error":{"code":107,"message":"bad request"}}`}},
		{name: "info without params", path: "/api", body: `{"id":1,"method":"info"}`, status: 200, want: []string{`{"id":1,"result":{"nodes":*}}`}},
		{name: "empty body", path: "/api", body: " \n", status: 400, text: "no commands"},
		{name: "unknown method name", path: "/api", body: `{"id":1,"method":"explode"}`, status: 400, text: "explode"},
		{name: "broken second line runs nothing", path: "/api", body: `{"id":1,"method":"publish","params":{"channel":"hist:never","data":{}}}` + "\n{", status: 400, text: "command 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv, tc.path, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%q)", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if !strings.Contains(r.body, tc.text) {
					t.Fatalf("body %q does not mention %q", r.body, tc.text)
				}
				return
			}
			lines := strings.Split(r.body, "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d lines %q, want %d", len(lines), r.body, len(tc.want))
			}
			for i, w := range tc.want {
				if !glob(w, lines[i]) {
					t.Errorf("line %d = %s, want %s", i, lines[i], w)
				}
			}
		})
	}
	// The publish of the broken request must not have happened.
	h := post(t, srv, "/api/history", `{"channel":"hist:never","limit":-1}`, nil)
	if off := path(t, decode(t, h.body), "result", "offset"); off != float64(0) {
		t.Fatalf("a rejected legacy request still published: %s", h.body)
	}
}

// glob matches s against pattern where each * stands for any run of
// characters.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}
