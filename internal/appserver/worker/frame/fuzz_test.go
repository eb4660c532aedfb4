package frame

import (
	"bytes"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the reader: it must never panic,
// and whatever it accepts must survive an encode/decode round trip.
func FuzzReadFrame(f *testing.F) {
	for _, v := range vectors {
		b, _ := Append(nil, v.frame)
		f.Add(b)
	}
	f.Add([]byte("Could not open input file: worker.php\n"))
	f.Add([]byte("plain text on stdout"))
	f.Add([]byte{0x13, 0x01})
	full, _ := Append(nil, Frame{Flags: CodecProto, Byte10: BitStream | BitPing, Options: make([]uint32, MaxOptions), Payload: []byte("x")})
	f.Add(full)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Read(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		if len(got.Options) > MaxOptions || len(got.Payload) > 1<<16 {
			t.Fatalf("accepted out-of-limit frame: %d options, %d bytes", len(got.Options), len(got.Payload))
		}
		enc, err := Append(nil, got)
		if err != nil {
			t.Fatalf("re-encoding accepted frame: %v", err)
		}
		if !bytes.Equal(enc[:11], data[:11]) {
			t.Fatalf("re-encoded header % x differs from input % x", enc[:11], data[:11])
		}
		again, err := Read(bytes.NewReader(enc), 1<<16)
		if err != nil {
			t.Fatalf("decoding re-encoded frame: %v", err)
		}
		assertFrame(t, again, got)
	})
}
