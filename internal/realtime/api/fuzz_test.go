package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHTTPHandler feeds arbitrary paths and bodies to the HTTP API: it
// must always answer with a sane status and never panic.
func FuzzHTTPHandler(f *testing.F) {
	seeds := []struct{ path, body string }{
		{"/api/publish", `{"channel":"a","data":{"x":1}}`},
		{"/api/broadcast", `{"channels":["a","",""],"b64data":"eA=="}`},
		{"/api/batch", `{"parallel":true,"commands":[{"publish":{"channel":"a","data":1}},{},{"subscribe":{"channel":"a","override":{"presence":{"value":true}}}}]}`},
		{"/api/subscribe", `{"channel":"a","b64info":"!!","recover_since":{"offset":"5"}}`},
		{"/api/history", `{"channel":"a","limit":-2147483648,"since":null}`},
		{"/api", `{"id":1,"method":"publish","params":{"channel":"a","data":{}}}` + "\n" + `{"id":2,"method":99}`},
		{"/api", `{"method":"info"} {"method":1,"params":[]}`},
		{"/api/info", "\x00"},
		{"/api/rpc", `{"method":"m","params":{"a":[1,2,{"b":null}]}}`},
		{"/api/disconnect", `{"user":"u","disconnect":{"code":4294967295}}`},
		{"/api/map_publish", `{"channel":"m:a","key":"k","data":{"v":1},"b64stream_data":"!!","score":-1,"tags":{"a":"b"},"key_mode":"if_new","version":"18446744073709551615"}`},
		{"/api/map_read_state", `{"channel":"m:a","limit":-1,"cursor":"k","revision_offset":1,"revision_epoch":"e","asc":true}`},
		{"/api/map_read_stream", `{"channel":"m:a","since_offset":1,"since_epoch":"","limit":2147483647,"reverse":true}`},
		{"/api/batch", `{"commands":[{"map_remove":{"channel":"m:a","key":""}},{"map_stats":{}},{"map_clear":{"channel":null}}]}`},
	}
	for _, s := range seeds {
		f.Add(s.path, s.body)
	}
	h := NewHTTPHandler(NewExecutor(&stubNode{}, ExecutorOptions{Logger: discard}), HTTPConfig{Insecure: true, Logger: discard})
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/api/" + path
		}
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
		req.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 404, 413:
		default:
			t.Fatalf("POST %q %q: status %d %q", path, body, rec.Code, rec.Body.String())
		}
	})
}
