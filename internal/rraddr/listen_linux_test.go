package rraddr

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestListenKeepsBusySocket covers a live listener whose accept backlog is
// full: the probe's connect fails with EAGAIN, not "refused", so the
// socket is alive and must not be deleted (the old relay code deleted
// every socket, the old app.Listen every socket it could not connect to).
func TestListenKeepsBusySocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "busy.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil { // backlog 0: one pending connection fits
		t.Fatal(err)
	}
	// Fill the backlog; nobody accepts.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for i := 0; i < 8; i++ {
		c, err := net.Dial("unix", path)
		if err != nil {
			break
		}
		held = append(held, c)
	}
	if _, err := net.Dial("unix", path); err == nil || !errors.Is(err, syscall.EAGAIN) {
		t.Skipf("backlog did not fill (dial: %v)", err)
	}

	_, err = Listen(Address{Unix, path})
	if err == nil || !strings.Contains(err.Error(), "cannot tell whether a process listens") {
		t.Fatalf("Listen over a busy socket: %v", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("busy socket file was removed: %v", err)
	}
}

// An abstract socket has no file, so there is nothing stale to check.
func TestListenAbstractSocket(t *testing.T) {
	ln, err := Listen(Address{Unix, "@spindle-rraddr-test-" + filepath.Base(shortDir(t))})
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
}
