package redis

import (
	"bytes"
	"errors"
	"maps"
	"strconv"
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
	mapPub := encodePublication(&engine.Publication{Key: "k", Data: []byte("x"), Delta: true})
	f.Add(string(publicationWithBaseHeader(2, "e", []byte("prev"))) + string(mapPub))
	f.Add(string(encodeMapEntry(3, 4, "v", mapPub)))
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeFrame(s)
		_, _ = decodeMapEntry(s)
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

// appendCounted writes the field cutCounted reads.
func appendCounted(b []byte, field []byte) []byte {
	b = strconv.AppendInt(b, int64(len(field)), 10)
	b = append(b, ':')
	return append(b, field...)
}

// publicationWithBaseHeader builds the header of a frameWithBase frame as
// the map publish script writes it; the encoded publication follows.
func publicationWithBaseHeader(offset uint64, epoch string, base []byte) []byte {
	b := make([]byte, 0, 32+len(epoch)+len(base))
	b = append(b, frameWithBase)
	b = strconv.AppendUint(b, offset, 10)
	b = append(b, ':')
	b = append(b, epoch...)
	b = append(b, ':')
	return appendCounted(b, base)
}

// encodeMapEntry builds a map state value the way the publish script
// does, for tests.
func encodeMapEntry(offset, version uint64, versionEpoch string, body []byte) []byte {
	b := strconv.AppendUint(nil, offset, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, version, 10)
	b = append(b, ':')
	b = appendCounted(b, []byte(versionEpoch))
	return append(b, body...)
}

// TestOldPayloadsDecode pins the bytes earlier nodes wrote (version 1, and
// version 2 with only the delta flag): a rolling upgrade must keep reading
// them, and publications without map fields must still be written so.
func TestOldPayloadsDecode(t *testing.T) {
	v1 := "\x01\x54\x02hi\x00\x01\x01k\x01v"
	v2 := "\x02\x54\x02hi\x00\x00\x01"
	for _, tc := range []struct {
		name, enc string
		want      engine.Publication
	}{
		{"version 1", v1, engine.Publication{Time: 42, Data: []byte("hi"), Tags: map[string]string{"k": "v"}}},
		{"version 2 delta", v2, engine.Publication{Time: 42, Data: []byte("hi"), Delta: true}},
	} {
		got, err := decodePublication(tc.enc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.Time != tc.want.Time || string(got.Data) != string(tc.want.Data) || got.Delta != tc.want.Delta ||
			!maps.Equal(got.Tags, tc.want.Tags) || got.Key != "" || got.Removed {
			t.Errorf("%s decoded as %+v, want %+v", tc.name, got, tc.want)
		}
		if re := encodePublication(got); string(re) != tc.enc {
			t.Errorf("%s re-encoded as %q, want the same bytes %q", tc.name, re, tc.enc)
		}
	}
}

// TestMapPublicationCodec covers the map fields: key and removed travel in
// the publication (so the stream keeps them), the patch base in the frame
// (so it is never stored), and state values carry offset and version.
func TestMapPublicationCodec(t *testing.T) {
	info := &engine.ClientInfo{User: "u", Client: "c"}
	cases := []engine.Publication{
		{Key: "seat-1", Data: []byte(`{"taken":true}`), Info: info, Tags: map[string]string{"row": "A"}, Time: 1700000000123},
		{Key: "k:with:colons", Data: []byte("x"), Delta: true},
		{Key: "seat-1", Removed: true, Tags: map[string]string{"why": "sold"}, Time: 5},
		{Key: strings.Repeat("long", 100), Data: bytes.Repeat([]byte{0, 0xff}, 300)},
	}
	for i, pub := range cases {
		enc := encodePublication(&pub)
		if enc[0] != codecVersion2 {
			t.Errorf("case %d: version %d, want %d for a map publication", i, enc[0], codecVersion2)
		}
		got, err := decodePublication(string(enc))
		if err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		if got.Key != pub.Key || got.Removed != pub.Removed || got.Delta != pub.Delta || string(got.Data) != string(pub.Data) ||
			got.Time != pub.Time || !sameInfo(got.Info, pub.Info) || !maps.Equal(got.Tags, pub.Tags) {
			t.Errorf("case %d: round trip = %+v, want %+v", i, got, pub)
		}

		// As the publish script frames a write that replaced a value.
		for _, base := range [][]byte{[]byte(`{"v":1}`), {}, []byte("a:b:c")} {
			f, err := decodeFrame(string(publicationWithBaseHeader(9, "EpOcH", base)) + string(enc))
			if err != nil {
				t.Fatalf("case %d: decode frame with base %q: %v", i, base, err)
			}
			if f.kind != framePublication || f.sp != (engine.StreamPosition{Offset: 9, Epoch: "EpOcH"}) || f.pub.Offset != 9 ||
				f.pub.PrevData == nil || string(f.pub.PrevData) != string(base) || f.pub.Key != pub.Key {
				t.Errorf("case %d: frame with base %q = kind %q at %+v, pub %+v", i, base, f.kind, f.sp, f.pub)
			}
		}
		if f, err := decodeFrame(string(publicationHeader(3, "e")) + string(enc)); err != nil || f.pub.PrevData != nil || f.pub.Key != pub.Key {
			t.Errorf("case %d: plain frame = %+v, %v; want no base", i, f.pub, err)
		}

		// As the state hash keeps it.
		entry := encodeMapEntry(17, 12345678901234567890, "ver:epoch", enc)
		got, err = decodeMapEntry(string(entry))
		if err != nil {
			t.Fatalf("case %d: decode map entry: %v", i, err)
		}
		if got.Offset != 17 || got.Key != pub.Key || string(got.Data) != string(pub.Data) {
			t.Errorf("case %d: map entry = %+v", i, got)
		}
	}
}

// TestLuaRemovalBody pins the bytes the Lua scripts write for an expiry
// removal (mapPrelude's removal_body) to what encodePublication writes.
func TestLuaRemovalBody(t *testing.T) {
	const now = 1700000000123
	key := "client-1"
	// removal_body: '\2' .. uvarint(now * 2) .. '\0\0\0\6' .. uvarint(#key) .. key
	lua := []byte{codecVersion2}
	lua = appendUvarintForTest(lua, now*2)
	lua = append(lua, 0, 0, 0, flagMap|flagRemoved)
	lua = appendUvarintForTest(lua, uint64(len(key)))
	lua = append(lua, key...)
	want := encodePublication(&engine.Publication{Key: key, Removed: true, Time: now})
	if !bytes.Equal(lua, want) {
		t.Fatalf("Lua removal body %q, Go encodes %q", lua, want)
	}
}

// appendUvarintForTest mirrors the Lua uvarint helper (divide by 128),
// independently of encoding/binary.
func appendUvarintForTest(b []byte, n uint64) []byte {
	for n >= 128 {
		b = append(b, byte(n%128+128))
		n /= 128
	}
	return append(b, byte(n))
}

func TestMapCodecMalformed(t *testing.T) {
	enc := encodePublication(&engine.Publication{Key: "k", Data: []byte("d")})
	for i := range len(enc) {
		if _, err := decodePublication(string(enc[:i])); !errors.Is(err, errMalformed) {
			t.Errorf("map publication truncated to %d bytes: %v, want errMalformed", i, err)
		}
	}
	// Flags byte is the one before the key: an unknown bit, or removed
	// without a key, is refused.
	flagsAt := len(enc) - 1 - 1 - len("k")
	for _, flags := range []byte{8, 0x80, flagRemoved} {
		bad := bytes.Clone(enc)
		bad[flagsAt] = flags
		if _, err := decodePublication(string(bad)); !errors.Is(err, errMalformed) {
			t.Errorf("flags %#x: %v, want errMalformed", flags, err)
		}
	}
	entry := string(encodeMapEntry(1, 0, "e", enc))
	for i := range len(entry) {
		if _, err := decodeMapEntry(entry[:i]); !errors.Is(err, errMalformed) {
			t.Errorf("map entry truncated to %d bytes: %v, want errMalformed", i, err)
		}
	}
	for _, s := range []string{
		"q1:e:", "q1:e:x:", "q1:e:5:ab", "q1:e:-1:" + string(enc), "q1:e:99999999999999999999999:" + string(enc),
		"q1:e:0:" + string(enc) + "x",
	} {
		if _, err := decodeFrame(s); !errors.Is(err, errMalformed) {
			t.Errorf("frame %q: %v, want errMalformed", s, err)
		}
	}
	for _, s := range []string{"", ":", "1", "1:", "1:x:0:", "x:0:0:", "1:0:", "1:0:9:e", "1:0:1:e"} {
		if _, err := decodeMapEntry(s); !errors.Is(err, errMalformed) {
			t.Errorf("map entry %q: %v, want errMalformed", s, err)
		}
	}
}
