package rraddr

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in            string
		network, addr string
		err           string // substring; "" means success
		dsnErr        string // what ParseDSN says when it differs
	}{
		{in: "tcp://127.0.0.1:30000", network: TCP, addr: "127.0.0.1:30000"},
		{in: "tcp://0.0.0.0:10001", network: TCP, addr: "0.0.0.0:10001"},
		{in: "tcp://:0", network: TCP, addr: ":0"},
		{in: "tcp://[::1]:9000", network: TCP, addr: "[::1]:9000"},
		{in: "tcp://localhost:65535", network: TCP, addr: "localhost:65535"},
		{in: "unix:///tmp/app.sock", network: Unix, addr: "/tmp/app.sock"},
		{in: "unix://rel.sock", network: Unix, addr: "rel.sock"},
		{in: "unix://a://b", network: Unix, addr: "a://b"},
		{in: "127.0.0.1:0", network: TCP, addr: "127.0.0.1:0", dsnErr: "write it as tcp://host:port"},
		{in: ":10001", network: TCP, addr: ":10001", dsnErr: "write it as tcp://host:port"},
		{in: "", err: "want host:port", dsnErr: "write it as tcp://host:port"},
		{in: "unix://", err: "missing socket path"},
		{in: "unix://a\x00b", err: "NUL byte"},
		{in: "grpc://127.0.0.1:1", err: "unsupported scheme"},
		{in: "udp://127.0.0.1:1", err: "unsupported scheme"},
		{in: "TCP://127.0.0.1:1", err: "unsupported scheme"},
		{in: "127.0.0.1", err: "want host:port", dsnErr: "write it as"},
		{in: "tcp://", err: "want host:port"},
		{in: "tcp://centrifugo", err: "want host:port"},
		{in: "tcp://127.0.0.1:", err: "not a number"},
		{in: "tcp://127.0.0.1:http", err: "not a number"},
		{in: "tcp://127.0.0.1:+80", err: "not a number"},
		{in: "tcp://127.0.0.1:65536", err: "not a number in 0-65535"},
		{in: "tcp://127.0.0.1:99999999999999999999", err: "not a number"},
		{in: "tcp://a://b", err: "not a number"},
		{in: "tcp://::1:80", err: "want host:port"},
	}
	for _, tt := range tests {
		for _, dsn := range []bool{false, true} {
			parse, want := Parse, tt.err
			if dsn {
				parse = ParseDSN
				if tt.dsnErr != "" {
					want = tt.dsnErr
				}
			}
			a, err := parse(tt.in)
			if want != "" {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("dsn=%v %q: error %v, want %q", dsn, tt.in, err, want)
				}
				if err != nil && !strings.HasPrefix(err.Error(), `invalid address "`) {
					t.Errorf("dsn=%v %q: error %q does not name the address", dsn, tt.in, err)
				}
				continue
			}
			if err != nil || a.Network != tt.network || a.Addr != tt.addr {
				t.Errorf("dsn=%v %q: got %+v %v", dsn, tt.in, a, err)
			}
		}
	}
}

func TestStringRoundTrips(t *testing.T) {
	for _, in := range []string{"tcp://127.0.0.1:1", "unix:///tmp/x.sock", ":80"} {
		a, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseDSN(a.String())
		if err != nil || b != a {
			t.Errorf("%q → %q → %+v %v", in, a, b, err)
		}
	}
}

// shortDir keeps socket paths under the 108-byte sun_path limit, which
// t.TempDir's long names can exceed.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rra")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// staleSocket leaves a socket file nobody listens on, as a killed
// process does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
}

func TestListen(t *testing.T) {
	busyTCP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyTCP.Close()

	tests := []struct {
		name    string
		setup   func(t *testing.T, path string) // prepares path before Listen
		addr    func(path string) Address
		wantErr error  // errors.Is target, or nil
		errText string // substring when failing
		keep    string // file content that must survive a refusal
	}{
		{name: "tcp loopback, free port", addr: func(string) Address { return Address{TCP, "127.0.0.1:0"} }},
		{name: "tcp port taken", addr: func(string) Address { return Address{TCP, busyTCP.Addr().String()} },
			errText: "listen tcp://" + busyTCP.Addr().String() + ": bind: address already in use"},
		{name: "unix, no file", addr: unixAt},
		{name: "unix, stale socket", setup: staleSocket, addr: unixAt},
		{name: "unix, live socket", addr: unixAt, wantErr: ErrInUse, errText: "in use by another process",
			setup: func(t *testing.T, path string) {
				ln, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					// The live listener must still answer: nothing took its file.
					if c, err := net.Dial("unix", path); err != nil {
						t.Errorf("live socket was broken: %v", err)
					} else {
						_ = c.Close()
					}
					_ = ln.Close()
				})
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						_ = c.Close()
					}
				}()
			}},
		{name: "unix, regular file", addr: unixAt, wantErr: ErrNotSocket, errText: "exists and is not a socket", keep: "data",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "unix, directory", addr: unixAt, wantErr: ErrNotSocket,
			setup: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "unix, symlink to a stale socket", addr: unixAt, wantErr: ErrNotSocket,
			setup: func(t *testing.T, path string) {
				staleSocket(t, path+".real")
				if err := os.Symlink(path+".real", path); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "unix, missing directory", addr: func(p string) Address { return Address{Unix, filepath.Join(p, "no", "s")} },
			errText: "no such file or directory"},
		{name: "unknown network", addr: func(string) Address { return Address{"udp", "127.0.0.1:0"} }, errText: `unsupported network "udp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(shortDir(t), "s.sock")
			if tt.setup != nil {
				tt.setup(t, path)
			}
			a := tt.addr(path)
			ln, err := Listen(a)
			if tt.wantErr == nil && tt.errText == "" {
				if err != nil {
					t.Fatalf("Listen(%s): %v", a, err)
				}
				defer ln.Close()
				if a.Network == Unix {
					c, err := net.Dial("unix", a.Addr)
					if err != nil {
						t.Fatalf("dial new socket: %v", err)
					}
					_ = c.Close()
				}
				return
			}
			if err == nil {
				ln.Close()
				t.Fatalf("Listen(%s) succeeded, want an error", a)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) || !strings.HasPrefix(err.Error(), "listen "+a.String()+": ") {
				t.Errorf("error %q, want prefix %q and %q", err, "listen "+a.String()+": ", tt.errText)
			}
			if tt.keep != "" {
				if b, _ := os.ReadFile(path); string(b) != tt.keep {
					t.Errorf("refused path was modified: %q", b)
				}
			}
		})
	}
}

func unixAt(path string) Address { return Address{Unix, path} }

// FuzzParse checks that no input panics, that every accepted address is
// one net.Listen understands the shape of, that String round-trips, and
// that ParseDSN accepts a subset of what Parse accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"tcp://127.0.0.1:0", "unix:///tmp/a.sock", ":80", "[::1]:1", "tcp://[::1", "unix://",
		"grpc://x:1", "tcp://a:b:c", "tcp://:65536", "host:0080", "unix://@abstract", "tcp://%zz:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		d, derr := ParseDSN(s)
		if derr == nil && (err != nil || d != a) {
			t.Fatalf("ParseDSN(%q) = %+v but Parse = %+v, %v", s, d, a, err)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid address ") {
				t.Fatalf("Parse(%q) error %q does not say what is invalid", s, err)
			}
			return
		}
		switch a.Network {
		case TCP:
			if _, _, err := net.SplitHostPort(a.Addr); err != nil {
				t.Fatalf("Parse(%q) = %+v: not host:port: %v", s, a, err)
			}
		case Unix:
			if a.Addr == "" {
				t.Fatalf("Parse(%q): empty socket path", s)
			}
		default:
			t.Fatalf("Parse(%q): network %q", s, a.Network)
		}
		b, err := ParseDSN(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip %q → %q → %+v, %v", s, a, b, err)
		}
	})
}
