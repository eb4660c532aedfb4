package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/proto/apipb"
)

func TestExecutorMapTranslatesRequests(t *testing.T) {
	ctx := context.Background()
	st := &stubNode{}
	e := NewExecutor(st, ExecutorOptions{Logger: discard})

	t.Run("publish: b64data wins, extras forwarded, stream fields ignored", func(t *testing.T) {
		resp := e.MapPublish(ctx, &apipb.MapPublishRequest{
			Channel: "m:a", Key: "k",
			Data: []byte(`"raw"`), B64Data: base64.StdEncoding.EncodeToString([]byte{0xff, 0}),
			// Ignored, as in Centrifugo OSS: not even validated.
			StreamData: []byte{0xff}, B64StreamData: "!!", Score: 9,
			Tags: map[string]string{"t": "v"}, IdempotencyKey: "i", Delta: true,
			Version: 3, VersionEpoch: "ve", KeyMode: "if_exists",
		})
		if resp.GetError() != nil {
			t.Fatalf("error = %v", resp.GetError())
		}
		if st.mapKey != "k" || !bytes.Equal(st.mapData, []byte{0xff, 0}) {
			t.Fatalf("key %q data %q: b64data must win", st.mapKey, st.mapData)
		}
		o := st.mapPubOpts
		if o.Tags["t"] != "v" || o.IdempotencyKey != "i" || !o.Delta || o.Version != 3 || o.VersionEpoch != "ve" || o.KeyMode != "if_exists" {
			t.Fatalf("options = %+v", o)
		}
		want := &apipb.MapPublishResult{Offset: 4, Epoch: "e", Suppressed: true, SuppressReason: "version"}
		if r := resp.GetResult(); r.GetOffset() != want.Offset || r.GetEpoch() != want.Epoch || !r.GetSuppressed() || r.GetSuppressReason() != want.SuppressReason {
			t.Fatalf("result = %v, want %v", r, want)
		}
	})

	t.Run("publish without data writes an empty value", func(t *testing.T) {
		resp := e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a", Key: "empty"})
		if resp.GetError() != nil || st.mapKey != "empty" || len(st.mapData) != 0 {
			t.Fatalf("error %v, key %q data %q", resp.GetError(), st.mapKey, st.mapData)
		}
	})

	t.Run("remove", func(t *testing.T) {
		r := e.MapRemove(ctx, &apipb.MapRemoveRequest{Channel: "m:a", Key: "gone", IdempotencyKey: "i2"})
		if r.GetError() != nil || st.mapKey != "gone" || st.mapIdem != "i2" || r.GetResult().GetOffset() != 5 || r.GetResult().GetSuppressed() {
			t.Fatalf("remove = %v (key %q idem %q)", r, st.mapKey, st.mapIdem)
		}
	})

	st.mapPubs = []*engine.Publication{
		{Key: "a", Data: []byte(`1`), Tags: map[string]string{"x": "y"}, Offset: 2, Time: 1700000000000},
		nil,
		{Key: "b", Removed: true, Offset: 3, Time: 1700000000001},
	}
	checkEntries := func(t *testing.T, got []*apipb.MapEntry) {
		t.Helper()
		if len(got) != 2 {
			t.Fatalf("entries = %v, want the two non-nil ones", got)
		}
		a, b := got[0], got[1]
		if a.GetKey() != "a" || string(a.GetData()) != "1" || a.GetTags()["x"] != "y" || a.GetOffset() != 2 || a.GetTime() != 1700000000000 || a.GetRemoved() {
			t.Fatalf("entry a = %v", a)
		}
		if b.GetKey() != "b" || !b.GetRemoved() || b.GetOffset() != 3 || len(b.GetData()) != 0 || b.GetScore() != 0 {
			t.Fatalf("entry b = %v", b)
		}
	}

	t.Run("read_state without revision", func(t *testing.T) {
		r := e.MapReadState(ctx, &apipb.MapReadStateRequest{Channel: "m:a", Cursor: "c0", Limit: 10, Key: "k", Asc: true})
		if r.GetError() != nil {
			t.Fatalf("error = %v", r.GetError())
		}
		if o := st.mapState; o.Cursor != "c0" || o.Limit != 10 || o.Key != "k" || o.Revision != nil {
			t.Fatalf("options = %+v", o)
		}
		if res := r.GetResult(); res.GetOffset() != 6 || res.GetEpoch() != "e" || res.GetCursor() != "c" {
			t.Fatalf("result = %v", res)
		}
		checkEntries(t, r.GetResult().GetEntries())
	})

	t.Run("read_state revision from either field", func(t *testing.T) {
		for _, req := range []*apipb.MapReadStateRequest{
			{Channel: "m:a", RevisionOffset: 4},
			{Channel: "m:a", RevisionEpoch: "ep"},
		} {
			e.MapReadState(ctx, req)
			want := engine.StreamPosition{Offset: req.GetRevisionOffset(), Epoch: req.GetRevisionEpoch()}
			if st.mapState.Revision == nil || *st.mapState.Revision != want {
				t.Fatalf("revision = %v, want %v", st.mapState.Revision, want)
			}
		}
	})

	t.Run("read_stream", func(t *testing.T) {
		r := e.MapReadStream(ctx, &apipb.MapReadStreamRequest{Channel: "m:a", Limit: 5, Reverse: true})
		if r.GetError() != nil || st.mapSince != nil || st.mapLimit != 5 || !st.mapReverse {
			t.Fatalf("error %v since %v limit %d reverse %v", r.GetError(), st.mapSince, st.mapLimit, st.mapReverse)
		}
		if r.GetResult().GetOffset() != 7 || r.GetResult().GetEpoch() != "e" {
			t.Fatalf("result = %v", r.GetResult())
		}
		checkEntries(t, r.GetResult().GetEntries())
		e.MapReadStream(ctx, &apipb.MapReadStreamRequest{Channel: "m:a", SinceEpoch: "ep"})
		if st.mapSince == nil || *st.mapSince != (engine.StreamPosition{Epoch: "ep"}) {
			t.Fatalf("since = %v", st.mapSince)
		}
	})

	t.Run("stats clamps", func(t *testing.T) {
		for in, want := range map[int]int32{-1: 0, 3: 3, math.MaxInt32 + 1: math.MaxInt32} {
			st.mapKeys = in
			if got := e.MapStats(ctx, &apipb.MapStatsRequest{Channel: "m:a"}).GetResult().GetNumKeys(); got != want {
				t.Errorf("num_keys for %d = %d, want %d", in, got, want)
			}
		}
	})

	t.Run("clear", func(t *testing.T) {
		r := e.MapClear(ctx, &apipb.MapClearRequest{Channel: "m:a"})
		if r.GetError() != nil || r.GetResult() == nil {
			t.Fatalf("clear = %v", r)
		}
	})
}

// TestExecutorMapValidation checks what is refused before the node is
// asked: none of these may reach it.
func TestExecutorMapValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		call func(e *Executor) *apipb.Error
		msg  string // substring of the message, when more than "bad request"
	}{
		{"publish empty channel", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Key: "k"}).GetError()
		}, ""},
		{"publish empty key", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a"}).GetError()
		}, ""},
		{"publish invalid UTF-8 key", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a", Key: "\xff"}).GetError()
		}, ""},
		{"publish invalid UTF-8 channel", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:\xff", Key: "k"}).GetError()
		}, ""},
		{"publish bad b64data", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a", Key: "k", B64Data: "!!"}).GetError()
		}, ""},
		{"publish raw data that is not JSON", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a", Key: "k", Data: []byte{0xff}}).GetError()
		}, "not valid JSON"},
		{"publish unknown key_mode", func(e *Executor) *apipb.Error {
			return e.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "m:a", Key: "k", KeyMode: "IF_NEW"}).GetError()
		}, "key_mode"},
		{"remove empty key", func(e *Executor) *apipb.Error {
			return e.MapRemove(ctx, &apipb.MapRemoveRequest{Channel: "m:a"}).GetError()
		}, ""},
		{"remove empty channel", func(e *Executor) *apipb.Error {
			return e.MapRemove(ctx, &apipb.MapRemoveRequest{Key: "k"}).GetError()
		}, ""},
		{"read_state empty channel", func(e *Executor) *apipb.Error {
			return e.MapReadState(ctx, &apipb.MapReadStateRequest{}).GetError()
		}, ""},
		{"read_stream empty channel", func(e *Executor) *apipb.Error {
			return e.MapReadStream(ctx, &apipb.MapReadStreamRequest{}).GetError()
		}, ""},
		{"stats empty channel", func(e *Executor) *apipb.Error { return e.MapStats(ctx, &apipb.MapStatsRequest{}).GetError() }, ""},
		{"clear empty channel", func(e *Executor) *apipb.Error { return e.MapClear(ctx, &apipb.MapClearRequest{}).GetError() }, ""},
		// Nil requests come from batch commands and direct callers.
		{"nil publish", func(e *Executor) *apipb.Error { return e.MapPublish(ctx, nil).GetError() }, ""},
		{"nil remove", func(e *Executor) *apipb.Error { return e.MapRemove(ctx, nil).GetError() }, ""},
		{"nil read_state", func(e *Executor) *apipb.Error { return e.MapReadState(ctx, nil).GetError() }, ""},
		{"nil read_stream", func(e *Executor) *apipb.Error { return e.MapReadStream(ctx, nil).GetError() }, ""},
		{"nil stats", func(e *Executor) *apipb.Error { return e.MapStats(ctx, nil).GetError() }, ""},
		{"nil clear", func(e *Executor) *apipb.Error { return e.MapClear(ctx, nil).GetError() }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The stub would answer success, so a 107 proves the check ran
			// here; the stub's error makes a leak to the node visible too.
			st := &stubNode{err: errors.New("the node must not be called")}
			err := tc.call(NewExecutor(st, ExecutorOptions{Logger: discard}))
			if err.GetCode() != CodeBadRequest || !strings.Contains(err.GetMessage(), tc.msg) {
				t.Fatalf("error = %v, want 107 mentioning %q", err, tc.msg)
			}
			if st.mapKey != "" {
				t.Fatalf("the node was asked to write %q", st.mapKey)
			}
		})
	}
}

func TestExecutorMapInternalErrorIsLogged(t *testing.T) {
	var logs bytes.Buffer
	e := NewExecutor(&stubNode{err: errors.New("map broker exploded")}, ExecutorOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	resp := e.MapReadState(context.Background(), &apipb.MapReadStateRequest{Channel: "m:x"})
	if resp.GetError().GetCode() != CodeInternal || resp.GetResult() != nil {
		t.Fatalf("response = %v", resp)
	}
	if l := logs.String(); !strings.Contains(l, "map broker exploded") || !strings.Contains(l, "method=map_read_state") || !strings.Contains(l, "channel=m:x") {
		t.Fatalf("cause not logged: %q", l)
	}
}

// TestHTTPMapMethods runs the map methods in order against one real node
// (memory engine as map broker): later cases depend on earlier writes.
func TestHTTPMapMethods(t *testing.T) {
	var epoch string
	// result decodes a 200 {"result":…} body.
	result := func(t *testing.T, r httpResult) map[string]any {
		t.Helper()
		v := decode(t, r.body)
		if _, ok := v["error"]; ok {
			t.Fatalf("unexpected error: %s", r.body)
		}
		res, _ := v["result"].(map[string]any)
		if res == nil {
			t.Fatalf("no result in %s", r.body)
		}
		return res
	}
	// write checks a map_publish / map_remove result.
	write := func(offset float64, reason string) func(t *testing.T, r httpResult) {
		return func(t *testing.T, r httpResult) {
			t.Helper()
			res := result(t, r)
			if res["offset"] != offset || res["epoch"] != epoch {
				t.Fatalf("position = %v %v, want %v %q (%s)", res["offset"], res["epoch"], offset, epoch, r.body)
			}
			if reason == "" {
				if _, ok := res["suppressed"]; ok {
					t.Fatalf("suppressed: %s", r.body)
				}
				return
			}
			if res["suppressed"] != true || res["suppress_reason"] != reason {
				t.Fatalf("want suppressed %q: %s", reason, r.body)
			}
		}
	}
	// keys checks the keys (and offsets) of a result's entries.
	keys := func(res map[string]any, t *testing.T, want ...string) []any {
		t.Helper()
		entries, _ := res["entries"].([]any)
		var got []string
		for _, en := range entries {
			m, _ := en.(map[string]any)
			got = append(got, m["key"].(string))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("keys = %v, want %v", got, want)
		}
		return entries
	}
	errBody := func(code, msg string) string { return `{"error":{"code":` + code + `,"message":"` + msg + `"}}` }

	runHTTPCases(t, HTTPConfig{Key: testKey}, []httpCase{
		{name: "publish a key", path: "/api/map_publish", body: `{"channel":"map:a","key":"k1","data":{"v":1},"tags":{"t":"x"}}`, status: 200, check: func(t *testing.T, r httpResult) {
			res := result(t, r)
			epoch, _ = res["epoch"].(string)
			if res["offset"] != float64(1) || len(epoch) == 0 {
				t.Fatalf("result %s", r.body)
			}
		}},
		{name: "b64data", path: "/api/map_publish", body: `{"channel":"map:a","key":"k2","b64data":"` + base64.StdEncoding.EncodeToString([]byte(`"two"`)) + `"}`, status: 200, check: write(2, "")},
		{name: "if_new on an existing key", path: "/api/map_publish", body: `{"channel":"map:a","key":"k1","data":{"v":2},"key_mode":"if_new"}`, status: 200, check: write(2, "key_exists")},
		{name: "if_exists on an absent key", path: "/api/map_publish", body: `{"channel":"map:a","key":"k3","data":{},"key_mode":"if_exists"}`, status: 200, check: write(2, "key_not_found")},
		{name: "idempotent write", path: "/api/map_publish", body: `{"channel":"map:a","key":"k3","data":3,"idempotency_key":"once"}`, status: 200, check: write(3, "")},
		{name: "idempotent repeat", path: "/api/map_publish", body: `{"channel":"map:a","key":"k3","data":33,"idempotency_key":"once"}`, status: 200, check: write(3, "idempotency")},
		{name: "no data, stream fields and score ignored", path: "/api/map_publish", body: `{"channel":"map:a","key":"k4","stream_data":{"s":1},"b64stream_data":"!!","score":5}`, status: 200, check: write(4, "")},
		{name: "read_state", path: "/api/map_read_state", body: `{"channel":"map:a"}`, status: 200, check: func(t *testing.T, r httpResult) {
			res := result(t, r)
			entries := keys(res, t, "k1", "k2", "k3", "k4")
			k1 := entries[0].(map[string]any)
			if !equalJSON(k1["data"], map[string]any{"v": float64(1)}) || !equalJSON(k1["tags"], map[string]any{"t": "x"}) || k1["offset"] != float64(1) {
				t.Fatalf("k1 = %v", k1)
			}
			if tm, _ := k1["time"].(float64); tm < 1e12 {
				t.Fatalf("time %v is not Unix milliseconds", k1["time"])
			}
			if k2 := entries[1].(map[string]any); k2["data"] != "two" {
				t.Fatalf("k2 = %v: b64data must be stored decoded", k2)
			}
			if k3 := entries[2].(map[string]any); k3["data"] != float64(3) {
				t.Fatalf("k3 = %v: the idempotent repeat must not have written", k3)
			}
			if _, ok := entries[3].(map[string]any)["data"]; ok {
				t.Fatalf("k4 has data: %v", entries[3])
			}
			if res["offset"] != float64(4) || res["epoch"] != epoch {
				t.Fatalf("position %s", r.body)
			}
			if _, ok := res["cursor"]; ok {
				t.Fatalf("last page has a cursor: %s", r.body)
			}
		}},
		{name: "read_state first page", path: "/api/map_read_state", body: `{"channel":"map:a","limit":2}`, status: 200, check: func(t *testing.T, r httpResult) {
			res := result(t, r)
			keys(res, t, "k1", "k2")
			if res["cursor"] != "k2" {
				t.Fatalf("cursor %s", r.body)
			}
		}},
		{name: "read_state next page at the revision", path: "/api/map_read_state", body: `{"channel":"map:a","limit":2,"cursor":"k2","revision_offset":3}`, status: 200, check: func(t *testing.T, r httpResult) {
			// k4 was written at offset 4, after the revision: the stream
			// carries it, the page leaves it out.
			res := result(t, r)
			keys(res, t, "k3")
			if res["offset"] != float64(3) {
				t.Fatalf("position %s", r.body)
			}
		}},
		{name: "read_state one key", path: "/api/map_read_state", body: `{"channel":"map:a","key":"k2"}`, status: 200, check: func(t *testing.T, r httpResult) {
			keys(result(t, r), t, "k2")
		}},
		{name: "remove", path: "/api/map_remove", body: `{"channel":"map:a","key":"k2"}`, status: 200, check: write(5, "")},
		{name: "remove again", path: "/api/map_remove", body: `{"channel":"map:a","key":"k2"}`, status: 200, check: write(5, "key_not_found")},
		{name: "read_stream since an offset", path: "/api/map_read_stream", body: `{"channel":"map:a","since_offset":3}`, status: 200, check: func(t *testing.T, r httpResult) {
			res := result(t, r)
			entries := keys(res, t, "k4", "k2")
			if rm := entries[1].(map[string]any); rm["removed"] != true || rm["offset"] != float64(5) {
				t.Fatalf("removal = %v", rm)
			}
			if res["offset"] != float64(5) || res["epoch"] != epoch {
				t.Fatalf("position %s", r.body)
			}
		}},
		{name: "read_stream reverse with limit", path: "/api/map_read_stream", body: `{"channel":"map:a","limit":1,"reverse":true}`, status: 200, check: func(t *testing.T, r httpResult) {
			keys(result(t, r), t, "k2")
		}},
		// The stream keeps 3 changes (3, 4, 5): 2 is gone.
		{name: "read_stream past the trimmed start is 112", path: "/api/map_read_stream", body: `{"channel":"map:a","since_offset":1}`, status: 200, want: errBody("112", "unrecoverable position")},
		{name: "read_stream epoch mismatch is 112", path: "/api/map_read_stream", body: `{"channel":"map:a","since_offset":4,"since_epoch":"other"}`, status: 200, want: errBody("112", "unrecoverable position")},
		{name: "read_state epoch mismatch is 112", path: "/api/map_read_state", body: `{"channel":"map:a","cursor":"k1","revision_offset":4,"revision_epoch":"other"}`, status: 200, want: errBody("112", "unrecoverable position")},
		{name: "112 in transport mode is 416", path: "/api/map_read_stream", body: `{"channel":"map:a","since_epoch":"other"}`, headers: map[string]string{"X-Centrifugo-Error-Mode": "transport"}, status: 416, want: `{"code":112,"message":"unrecoverable position"}`},
		{name: "stats", path: "/api/map_stats", body: `{"channel":"map:a"}`, status: 200, want: `{"result":{"num_keys":3}}`},
		{name: "clear", path: "/api/map_clear", body: `{"channel":"map:a"}`, status: 200, want: `{"result":{}}`},
		{name: "stats after clear", path: "/api/map_stats", body: `{"channel":"map:a"}`, status: 200, want: `{"result":{}}`},
		{name: "cleared map has a new epoch", path: "/api/map_read_state", body: `{"channel":"map:a"}`, status: 200, check: func(t *testing.T, r httpResult) {
			res := result(t, r)
			keys(res, t)
			if res["epoch"] == epoch {
				t.Fatalf("epoch %q survived the clear", epoch)
			}
		}},
		{name: "ephemeral map", path: "/api/map_publish", body: `{"channel":"emap:a","key":"k","data":{}}`, status: 200, check: func(t *testing.T, r httpResult) {
			if _, ok := result(t, r)["offset"]; ok {
				t.Fatalf("an ephemeral map has no stream offsets: %s", r.body)
			}
		}},
		{name: "ephemeral map has no stream", path: "/api/map_read_stream", body: `{"channel":"emap:a"}`, status: 200, check: func(t *testing.T, r httpResult) {
			keys(result(t, r), t)
		}},

		{name: "empty key is 107", path: "/api/map_publish", body: `{"channel":"map:a","data":{}}`, status: 200, want: errBody("107", "bad request")},
		{name: "oversized key is 107", path: "/api/map_publish", body: `{"channel":"map:a","key":"` + strings.Repeat("k", 1025) + `"}`, status: 200, want: errBody("107", "bad request")},
		{name: "remove empty key is 107", path: "/api/map_remove", body: `{"channel":"map:a"}`, status: 200, want: errBody("107", "bad request")},
		{name: "unknown namespace is 102", path: "/api/map_publish", body: `{"channel":"nope:a","key":"k"}`, status: 200, want: errBody("102", "unknown channel")},
		{name: "unknown namespace read is 102", path: "/api/map_read_state", body: `{"channel":"nope:a"}`, status: 200, want: errBody("102", "unknown channel")},
		{name: "non-map namespace is 107", path: "/api/map_publish", body: `{"channel":"plain:a","key":"k"}`, status: 200, want: errBody("107", "bad request")},
		{name: "non-map namespace stats is 107", path: "/api/map_stats", body: `{"channel":"hist:a"}`, status: 200, want: errBody("107", "bad request")},
		{name: "non-map top level clear is 107", path: "/api/map_clear", body: `{"channel":"top"}`, status: 200, want: errBody("107", "bad request")},
		{name: "bad b64data is 107", path: "/api/map_publish", body: `{"channel":"map:a","key":"k","b64data":"not base64!"}`, status: 200, want: errBody("107", "bad request")},
		{name: "bad key_mode is 107", path: "/api/map_publish", body: `{"channel":"map:a","key":"k","key_mode":"always"}`, status: 200, want: errBody("107", `bad request: key_mode must be \"\", \"if_new\" or \"if_exists\"`)},
		{name: "107 in transport mode is 400", path: "/api/map_publish", body: `{"channel":"map:a"}`, headers: map[string]string{"X-Centrifugo-Error-Mode": "transport"}, status: 400, want: `{"code":107,"message":"bad request"}`},
		{name: "wrong field type is 400", path: "/api/map_read_stream", body: `{"channel":"map:a","since_offset":"x"}`, status: 400, check: wantText(`"since_offset"`)},

		{name: "batch", path: "/api/batch", body: `{"commands":[` +
			`{"map_publish":{"channel":"map:b","key":"x","data":1}},` +
			`{"map_remove":{"channel":"map:b","key":"y"}},` +
			`{"map_read_state":{"channel":"map:b"}},` +
			`{"map_read_stream":{"channel":"map:b"}},` +
			`{"map_stats":{"channel":"map:b"}},` +
			`{"map_clear":{"channel":"map:b"}},` +
			`{"map_stats":{"channel":"plain:b"}}]}`, status: 200, check: func(t *testing.T, r httpResult) {
			v := decode(t, r.body)
			replies, _ := v["replies"].([]any)
			if len(replies) != 7 {
				t.Fatalf("replies %s", r.body)
			}
			for i, name := range []string{"map_publish", "map_remove", "map_read_state", "map_read_stream", "map_stats", "map_clear"} {
				if _, ok := path(t, replies, i).(map[string]any)[name]; !ok {
					t.Fatalf("reply %d has no %s: %s", i, name, r.body)
				}
			}
			if path(t, replies, 1, "map_remove", "suppress_reason") != "key_not_found" {
				t.Fatalf("remove reply %s", r.body)
			}
			if path(t, replies, 2, "map_read_state", "entries", 0, "data") != float64(1) || path(t, replies, 4, "map_stats", "num_keys") != float64(1) {
				t.Fatalf("batch did not run in order: %s", r.body)
			}
			if path(t, replies, 6, "error", "code") != float64(107) {
				t.Fatalf("non-map reply %s", r.body)
			}
		}},
		// Centrifugo's legacy MethodType has no map methods either.
		{name: "legacy endpoint has no map methods", path: "/api", body: `{"id":1,"method":"map_publish","params":{"channel":"map:a","key":"k"}}`, status: 400, check: wantText("map_publish")},
	})
}

func TestGRPCMapMethods(t *testing.T) {
	n := newTestNode(t)
	c := newGRPCClient(t, n, GRPCConfig{})
	ctx := callCtx(t)

	// Binary values travel as they are over gRPC when sent as b64data.
	bin := []byte{0xff, 0x00, 0x01}
	pub, err := c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "map:g", Key: "bin", B64Data: base64.StdEncoding.EncodeToString(bin), Tags: map[string]string{"a": "b"}})
	if err != nil || pub.GetError() != nil || pub.GetResult().GetOffset() != 1 || pub.GetResult().GetEpoch() == "" {
		t.Fatalf("map_publish = %v, %v", pub, err)
	}
	again, err := c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "map:g", Key: "bin", Data: []byte(`{}`), KeyMode: "if_new"})
	if err != nil || !again.GetResult().GetSuppressed() || again.GetResult().GetSuppressReason() != "key_exists" {
		t.Fatalf("if_new = %v, %v", again, err)
	}
	st, err := c.MapReadState(ctx, &apipb.MapReadStateRequest{Channel: "map:g"})
	if err != nil || st.GetError() != nil {
		t.Fatalf("map_read_state: %v %v", err, st.GetError())
	}
	if en := st.GetResult().GetEntries(); len(en) != 1 || !bytes.Equal(en[0].GetData(), bin) || en[0].GetTags()["a"] != "b" || en[0].GetOffset() != 1 {
		t.Fatalf("state = %v", st.GetResult())
	}
	if st.GetResult().GetEpoch() != pub.GetResult().GetEpoch() || st.GetResult().GetOffset() != 1 {
		t.Fatalf("state position = %v", st.GetResult())
	}
	rm, err := c.MapRemove(ctx, &apipb.MapRemoveRequest{Channel: "map:g", Key: "bin"})
	if err != nil || rm.GetError() != nil || rm.GetResult().GetOffset() != 2 {
		t.Fatalf("map_remove = %v, %v", rm, err)
	}
	stream, err := c.MapReadStream(ctx, &apipb.MapReadStreamRequest{Channel: "map:g", SinceOffset: 1, SinceEpoch: pub.GetResult().GetEpoch()})
	if err != nil || len(stream.GetResult().GetEntries()) != 1 || !stream.GetResult().GetEntries()[0].GetRemoved() {
		t.Fatalf("map_read_stream = %v, %v", stream, err)
	}
	stats, err := c.MapStats(ctx, &apipb.MapStatsRequest{Channel: "map:g"})
	if err != nil || stats.GetError() != nil || stats.GetResult().GetNumKeys() != 0 {
		t.Fatalf("map_stats = %v, %v", stats, err)
	}
	if cl, err := c.MapClear(ctx, &apipb.MapClearRequest{Channel: "map:g"}); err != nil || cl.GetError() != nil {
		t.Fatalf("map_clear = %v, %v", cl, err)
	}

	t.Run("errors in the response by default", func(t *testing.T) {
		cases := []struct {
			name string
			call func() (interface{ GetError() *apipb.Error }, error)
			code uint32
		}{
			{"unknown namespace", func() (interface{ GetError() *apipb.Error }, error) {
				return c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "nope:g", Key: "k"})
			}, CodeUnknownChannel},
			{"raw data not JSON", func() (interface{ GetError() *apipb.Error }, error) {
				return c.MapPublish(ctx, &apipb.MapPublishRequest{Channel: "map:g", Key: "k", Data: bin})
			}, CodeBadRequest},
			{"non-map namespace", func() (interface{ GetError() *apipb.Error }, error) {
				return c.MapStats(ctx, &apipb.MapStatsRequest{Channel: "plain:g"})
			}, CodeBadRequest},
		}
		for _, tc := range cases {
			resp, err := tc.call()
			if err != nil || resp.GetError().GetCode() != tc.code {
				t.Errorf("%s: %v, %v", tc.name, resp, err)
			}
		}
	})

	t.Run("transport error mode", func(t *testing.T) {
		tctx := callCtx(t, "x-centrifugo-error-mode", "transport")
		_, err := c.MapReadStream(tctx, &apipb.MapReadStreamRequest{Channel: "map:g", SinceEpoch: "other"})
		if st := status.Convert(err); st.Code() != codes.OutOfRange || st.Message() != "unrecoverable position" {
			t.Fatalf("112 status = %v", st)
		}
		_, err = c.MapPublish(tctx, &apipb.MapPublishRequest{Channel: "map:g", Key: "k", KeyMode: "nope"})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("107 status = %v", err)
		}
		_, err = c.MapClear(tctx, &apipb.MapClearRequest{Channel: "nope:g"})
		if status.Code(err) != codes.NotFound {
			t.Fatalf("102 status = %v", err)
		}
	})

	t.Run("batch", func(t *testing.T) {
		b, err := c.Batch(ctx, &apipb.BatchRequest{Commands: []*apipb.Command{
			{MapPublish: &apipb.MapPublishRequest{Channel: "map:gb", Key: "k", Data: []byte(`1`)}},
			{MapStats: &apipb.MapStatsRequest{Channel: "map:gb"}},
			{SharedPollPublish: &apipb.SharedPollPublishRequest{Channel: "poll:gb", Key: "k", Data: []byte(`1`), Version: 1}},
		}})
		if err != nil {
			t.Fatalf("batch: %v", err)
		}
		r := b.GetReplies()
		if len(r) != 3 || r[0].GetMapPublish().GetOffset() != 1 || r[1].GetMapStats().GetNumKeys() != 1 || r[2].GetError() != nil || r[2].GetSharedPollPublish() == nil {
			t.Fatalf("replies = %v", r)
		}
	})

	t.Run("shared_poll_publish", func(t *testing.T) {
		resp, err := c.SharedPollPublish(ctx, &apipb.SharedPollPublishRequest{Channel: "poll:g", Key: "k", Data: []byte(`{"v":1}`), Version: 2})
		if err != nil || resp.GetError() != nil {
			t.Fatalf("shared_poll_publish: %v %v", resp, err)
		}
	})
}

func TestSharedPollPublishErrors(t *testing.T) {
	exec := NewExecutor(newTestNode(t), ExecutorOptions{Logger: discard})
	ctx := context.Background()
	cases := []struct {
		name string
		req  *apipb.SharedPollPublishRequest
		want uint32
	}{
		{"ok", &apipb.SharedPollPublishRequest{Channel: "poll:a", Key: "k", Data: []byte(`{"v":1}`), Version: 1}, 0},
		{"b64data with JSON", &apipb.SharedPollPublishRequest{Channel: "poll:a", Key: "k", B64Data: "eyJ2IjoxfQ==", Version: 1}, 0},
		{"no version", &apipb.SharedPollPublishRequest{Channel: "poll:a", Key: "k", Data: []byte(`1`)}, CodeBadRequest},
		{"empty key", &apipb.SharedPollPublishRequest{Channel: "poll:a", Data: []byte(`1`), Version: 1}, CodeBadRequest},
		{"no data", &apipb.SharedPollPublishRequest{Channel: "poll:a", Key: "k", Version: 1}, CodeBadRequest},
		{"b64data not JSON", &apipb.SharedPollPublishRequest{Channel: "poll:a", Key: "k", B64Data: "AAE=", Version: 1}, CodeBadRequest},
		{"versionless namespace", &apipb.SharedPollPublishRequest{Channel: "pollvl:a", Key: "k", Data: []byte(`1`), Version: 1}, CodeNotAvailable},
		{"not a shared poll channel", &apipb.SharedPollPublishRequest{Channel: "map:a", Key: "k", Data: []byte(`1`), Version: 1}, CodeBadRequest},
		{"unknown namespace", &apipb.SharedPollPublishRequest{Channel: "nope:a", Key: "k", Data: []byte(`1`), Version: 1}, CodeUnknownChannel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := exec.SharedPollPublish(ctx, c.req)
			if got := resp.GetError().GetCode(); got != c.want {
				t.Fatalf("error %v, want code %d", resp.GetError(), c.want)
			}
		})
	}
}
