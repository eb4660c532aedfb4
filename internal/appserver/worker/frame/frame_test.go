package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// vectors are the spec's §3.1 test vectors, byte for byte.
var vectors = []struct {
	name   string
	header string // header incl. options, hex
	frame  Frame
}{
	{
		name:   "pid request",
		header: "13 09 0d 00 00 00 3a 6b fa cb 00 00",
		frame:  Frame{Flags: FlagControl | CodecJSON, Payload: []byte(`{"pid":12345}`)},
	},
	{
		name:   "pid reply from php",
		header: "13 01 0c 00 00 00 9e 47 36 43 00 00",
		frame:  Frame{Flags: FlagControl, Payload: []byte(`{"pid":4242}`)},
	},
	{
		name:   "error frame",
		header: "13 40 04 00 00 00 88 1e 11 e3 00 00",
		frame:  Frame{Flags: FlagError, Payload: []byte("boom")},
	},
	{
		name:   "rpc request",
		header: "15 80 1c 00 00 00 3e 6a f0 49 00 00 01 00 00 00 12 00 00 00",
		frame: Frame{Flags: CodecProto, Options: []uint32{1, 18},
			Payload: append([]byte("centrifuge.Publish"), 0x0a, 0x04, 0x6e, 0x65, 0x77, 0x73, 0x12, 0x02, 0x7b, 0x7d)},
	},
}

func TestVectorsEncode(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			want := append(unhex(t, v.header), v.frame.Payload...)
			got, err := Append(nil, v.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded\n% x\nwant\n% x", got, want)
			}
			var buf bytes.Buffer
			if err := Write(&buf, v.frame); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("Write gave % x", buf.Bytes())
			}
		})
	}
}

func TestVectorsDecode(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			wire := append(unhex(t, v.header), v.frame.Payload...)
			got, err := Read(bytes.NewReader(wire), 0)
			if err != nil {
				t.Fatal(err)
			}
			assertFrame(t, got, v.frame)
		})
	}
}

func assertFrame(t *testing.T, got, want Frame) {
	t.Helper()
	if got.Flags != want.Flags || got.Byte10 != want.Byte10 {
		t.Fatalf("flags %#x/%#x, want %#x/%#x", got.Flags, got.Byte10, want.Flags, want.Byte10)
	}
	if len(got.Options) != len(want.Options) {
		t.Fatalf("options %v, want %v", got.Options, want.Options)
	}
	for i := range got.Options {
		if got.Options[i] != want.Options[i] {
			t.Fatalf("options %v, want %v", got.Options, want.Options)
		}
	}
	if !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("payload %q, want %q", got.Payload, want.Payload)
	}
}

func TestReaderConsecutiveFrames(t *testing.T) {
	var wire []byte
	want := []Frame{
		{Flags: CodecProto, Options: []uint32{3}, Payload: []byte("ctxbody")},
		{Flags: FlagError, Byte10: BitStream, Payload: nil},
		{Flags: CodecJSON, Options: make([]uint32, MaxOptions), Payload: bytes.Repeat([]byte{7}, exactAllocLimit+10)},
	}
	for _, f := range want {
		var err error
		if wire, err = Append(wire, f); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(bytes.NewReader(wire), 2*exactAllocLimit)
	for i, w := range want {
		got, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if len(w.Payload) == 0 {
			w.Payload = []byte{}
		}
		assertFrame(t, got, w)
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
}

// mutate returns a valid frame's bytes changed by fn, with the CRC fixed
// up afterwards when fix is set.
func mutate(t *testing.T, f Frame, fix bool, fn func(b []byte) []byte) []byte {
	t.Helper()
	b, err := Append(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	b = fn(b)
	if fix {
		putCRC(b)
	}
	return b
}

func putCRC(b []byte) {
	sum := crc32.ChecksumIEEE(b[:6])
	b[6], b[7], b[8], b[9] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
}

func TestReadErrors(t *testing.T) {
	good := Frame{Flags: CodecProto, Options: []uint32{2}, Payload: []byte("{}body")}
	tests := []struct {
		name    string
		wire    []byte
		max     uint32
		wantErr error
		wantMsg string
	}{
		{
			name:    "garbage text",
			wire:    []byte("hello, this is not a frame\n"),
			wantErr: ErrCRCMismatch,
			wantMsg: `frame header CRC mismatch: stored`,
		},
		{
			name:    "garbage is quoted",
			wire:    []byte("Warning: undefined variable $x in /app/worker.php"),
			wantErr: ErrCRCMismatch,
			wantMsg: `undefined variable $x`,
		},
		{
			name:    "crc flipped",
			wire:    mutate(t, good, false, func(b []byte) []byte { b[6] ^= 0xff; return b }),
			wantErr: ErrCRCMismatch,
		},
		{
			name:    "payload length changed without crc",
			wire:    mutate(t, good, false, func(b []byte) []byte { b[2]++; return b }),
			wantErr: ErrCRCMismatch,
		},
		{
			name:    "version 2",
			wire:    mutate(t, good, true, func(b []byte) []byte { b[0] = 0x24; return b }),
			wantErr: ErrVersion,
			wantMsg: "unsupported frame version 2",
		},
		{
			name:    "header length 2",
			wire:    mutate(t, good, true, func(b []byte) []byte { b[0] = 0x12; return b }),
			wantErr: ErrHeaderLength,
		},
		{
			name:    "11 options",
			wire:    mutate(t, good, true, func(b []byte) []byte { b[0] = 0x1e; return b }),
			wantErr: ErrTooManyOptions,
		},
		{
			name:    "payload over max",
			wire:    mutate(t, good, false, func(b []byte) []byte { return b }),
			max:     3,
			wantErr: ErrPayloadTooLarge,
			wantMsg: "6 bytes (max 3)",
		},
		{
			name:    "php missing script",
			wire:    []byte("Could not open input file: /app/worker.php\nmore"),
			wantErr: ErrFileNotFound,
			wantMsg: `"Could not open input file: /app/worker.php"`,
		},
		{
			name:    "truncated header",
			wire:    []byte{0x13, 0x01, 0x02},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "truncated options",
			wire:    mutate(t, good, false, func(b []byte) []byte { return b[:14] }),
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "truncated payload",
			wire:    mutate(t, good, false, func(b []byte) []byte { return b[:len(b)-1] }),
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "huge declared payload on short stream",
			wire:    mutate(t, Frame{}, true, func(b []byte) []byte { b[2], b[3], b[4] = 0xff, 0xff, 0xff; return b }),
			max:     1 << 30,
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "empty stream",
			wire:    nil,
			wantErr: io.EOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.wire), tt.max).ReadFrame()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
			protocol := tt.wantErr != io.EOF && tt.wantErr != io.ErrUnexpectedEOF
			if IsProtocolError(err) != protocol {
				t.Fatalf("IsProtocolError(%v) = %v, want %v", err, !protocol, protocol)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	if _, err := Append(nil, Frame{Options: make([]uint32, MaxOptions+1)}); !errors.Is(err, ErrTooManyOptions) {
		t.Fatalf("11 options: %v", err)
	}
}

func TestReadDoesNotOverread(t *testing.T) {
	a, _ := Append(nil, Frame{Flags: CodecRaw, Payload: []byte("one")})
	b, _ := Append(nil, Frame{Flags: CodecRaw, Payload: []byte("two")})
	src := bytes.NewReader(append(a, b...))
	if _, err := Read(src, 0); err != nil {
		t.Fatal(err)
	}
	f, err := Read(src, 0)
	if err != nil || string(f.Payload) != "two" {
		t.Fatalf("second frame %q, %v", f.Payload, err)
	}
}
