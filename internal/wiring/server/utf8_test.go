package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/wstest"
	"github.com/spindle-rt/spindle/proto/clientpb"
)

// TestInvalidUTF8FromTheAPIPoisonsNothing (hardening defect 2): a publish
// whose JSON payload holds invalid UTF-8 used to be accepted and then close
// every JSON subscriber of the channel with 3506. It is refused to the
// caller, and the subscriber keeps receiving what comes next.
func TestInvalidUTF8FromTheAPIPoisonsNothing(t *testing.T) {
	srv := startServer(t, nil)
	c := dial(t, srv, wstest.JSON)
	c.Connect("")
	if r := c.Call(&clientpb.Command{Subscribe: &clientpb.SubscribeRequest{Channel: "chat:utf8"}}); r.Error != nil {
		t.Fatalf("subscribe: %v", r.Error)
	}
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr()+"/api/publish", strings.NewReader(body))
		req.Header.Set("X-API-Key", "k")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("{\"channel\":\"chat:utf8\",\"data\":{\"x\":\"\xff\"}}"); code != 400 || !strings.Contains(body, "invalid UTF-8") {
		t.Fatalf("publish with invalid UTF-8: %d %s, want 400 naming the problem", code, body)
	}
	if code, body := post(`{"channel":"chat:utf8","data":{"x":"é"}}`); code != 200 {
		t.Fatalf("valid publish: %d %s", code, body)
	}
	p := c.Next("publication", func(r *clientpb.Reply) bool { return r.Push != nil && r.Push.Pub != nil })
	if string(p.Push.Pub.Data) != `{"x":"é"}` {
		t.Fatalf("the subscriber got %s, want the valid publication (and was not closed)", p.Push.Pub.Data)
	}
}
