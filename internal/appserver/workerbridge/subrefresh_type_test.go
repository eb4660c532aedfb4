package workerbridge

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/proto/proxypb"
)

// TestSubRefreshTypeName: the "type" a subscription refresh carries follows
// Options (RoadRunner's "subrefresh" by default); other events never change.
func TestSubRefreshTypeName(t *testing.T) {
	sub := app.NewSubRefreshRequest(&proxypb.SubRefreshRequest{Channel: "c"}, http.Header{})
	conn := app.NewConnectRequest(&proxypb.ConnectRequest{}, http.Header{})
	for _, tc := range []struct {
		name string
		req  app.Request
		o    Options
		want string
	}{
		{"default", sub, Options{}, "subrefresh"},
		{"RoadRunner spelling", sub, Options{SubRefreshType: "subrefresh"}, "subrefresh"},
		{"roadrunner-php/centrifugo 2.x", sub, Options{SubRefreshType: "sub_refresh"}, "sub_refresh"},
		{"other events keep their names", conn, Options{SubRefreshType: "sub_refresh"}, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := contextWith(tc.req, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string][]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := m["type"]; len(got) != 1 || got[0] != tc.want {
				t.Fatalf("type %v, want [%s]", got, tc.want)
			}
		})
	}
}
