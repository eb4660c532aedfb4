package redis

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
)

// A publication without flags keeps version 1, which every node reads.
func TestPublicationWithoutFlagsKeepsVersion1(t *testing.T) {
	if v := encodePublication(&engine.Publication{Data: []byte("x")})[0]; v != codecVersion {
		t.Fatalf("version %d, want %d", v, codecVersion)
	}
	if v := encodePublication(&engine.Publication{Data: []byte("x"), Delta: true})[0]; v != codecVersion2 {
		t.Fatalf("version %d with delta, want %d", v, codecVersion2)
	}
}

func TestPublicationRoundTrip(t *testing.T) {
	info := &engine.ClientInfo{User: "u", Client: "c", ConnInfo: []byte(`{"a":1}`), ChanInfo: []byte(`{"b":2}`)}
	cases := []struct {
		name string
		pub  engine.Publication
	}{
		{"empty", engine.Publication{}},
		{"data only", engine.Publication{Data: []byte(`{"x":1}`), Time: 1700000000123}},
		{"negative time", engine.Publication{Data: []byte("x"), Time: -5}},
		{"info and tags", engine.Publication{Data: []byte("d"), Info: info, Tags: map[string]string{"k": "v", "": "empty key"}, Time: 42}},
		{"binary data with colons", engine.Publication{Data: []byte{0, ':', 0xff, 'p', ':'}}},
		{"delta allowed (codec version 2)", engine.Publication{Data: []byte(`{"x":2}`), Tags: map[string]string{"k": "v"}, Delta: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodePublication(&tc.pub)
			got, err := decodePublication(string(enc))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if string(got.Data) != string(tc.pub.Data) || got.Time != tc.pub.Time || !sameInfo(got.Info, tc.pub.Info) || got.Delta != tc.pub.Delta {
				t.Errorf("round trip = %+v, want %+v", got, tc.pub)
			}
			if !maps.Equal(got.Tags, tc.pub.Tags) {
				t.Errorf("tags = %v, want %v", got.Tags, tc.pub.Tags)
			}

			// The same publication inside a frame, as the script sends it.
			frameText := string(publicationHeader(7, "EpOcH123")) + string(enc)
			f, err := decodeFrame(frameText)
			if err != nil {
				t.Fatalf("decode frame: %v", err)
			}
			if f.kind != framePublication || f.sp != (engine.StreamPosition{Offset: 7, Epoch: "EpOcH123"}) || f.pub.Offset != 7 {
				t.Errorf("frame = kind %q position %+v offset %d", f.kind, f.sp, f.pub.Offset)
			}
		})
	}
}

func TestInfoFrames(t *testing.T) {
	info := &engine.ClientInfo{User: "u1", Client: "c1", ConnInfo: []byte("ci")}
	for _, kind := range []byte{frameJoin, frameLeave} {
		for _, in := range []*engine.ClientInfo{info, nil} {
			f, err := decodeFrame(string(encodeInfoFrame(kind, in)))
			if err != nil {
				t.Fatalf("decode %q frame: %v", kind, err)
			}
			if f.kind != kind || !sameInfo(f.info, in) {
				t.Errorf("frame %q with %+v decoded as %q %+v", kind, in, f.kind, f.info)
			}
		}
	}
	got, err := decodePresence(string(encodePresence(info)))
	if err != nil || !sameInfo(got, info) {
		t.Errorf("presence round trip = %+v, %v", got, err)
	}
	if u, err := presenceUser(string(encodePresence(info))); err != nil || u != "u1" {
		t.Errorf("presence user = %q, %v; want u1", u, err)
	}
	if u, err := presenceUser(string(encodePresence(nil))); err != nil || u != "" {
		t.Errorf("presence user of nil info = %q, %v", u, err)
	}
}

// TestDecodeMalformed feeds truncated and corrupted payloads: each must be
// rejected with errMalformed, never panic or be accepted.
func TestDecodeMalformed(t *testing.T) {
	full := encodePublication(&engine.Publication{
		Data: []byte("hello"), Time: 99,
		Info: &engine.ClientInfo{User: "u", Client: "c"},
		Tags: map[string]string{"a": "b"},
	})
	for i := range len(full) {
		if _, err := decodePublication(string(full[:i])); !errors.Is(err, errMalformed) {
			t.Errorf("truncated to %d bytes: error %v, want errMalformed", i, err)
		}
	}
	frames := []string{
		"", "x", "p", "p1", "p1:", "p1:e", "pX:e:" + string(full), "p1:e:" + string(full) + "extra",
		"j", "j\x02", "j\x01\x05ab", "l\x01",
		"p1:e:\x01" + strings.Repeat("\xff", 11),
		"p1:e:\x01\x00\x00\x00\xff\xff\xff\xff\x0f",
	}
	for _, s := range frames {
		if _, err := decodeFrame(s); !errors.Is(err, errMalformed) {
			t.Errorf("frame %q: error %v, want errMalformed", s, err)
		}
	}
	for _, s := range []string{"", "\x02\x00", "\x01", "\x01\x01\x01"} {
		if _, err := decodePresence(s); !errors.Is(err, errMalformed) {
			t.Errorf("presence %q: error %v, want errMalformed", s, err)
		}
		if _, err := presenceUser(s); s != "\x01" && err == nil {
			t.Errorf("presence user of %q accepted", s)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add("p1:abc:" + string(encodePublication(&engine.Publication{Data: []byte("x")})))
	f.Add(string(encodeInfoFrame(frameJoin, &engine.ClientInfo{User: "u"})))
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeFrame(s)
		_, _ = decodePresence(s)
		_, _ = presenceUser(s)
	})
}

func sameInfo(a, b *engine.ClientInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.User == b.User && a.Client == b.Client &&
		string(a.ConnInfo) == string(b.ConnInfo) && string(a.ChanInfo) == string(b.ChanInfo)
}
