// Package testredis runs throwaway redis-server processes for tests: each
// on its own 127.0.0.1 port, without persistence, killed when the test
// ends. Tests of the Redis engine and of multi-node servers share it.
package testredis

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server process owned by one test, on its own
// 127.0.0.1 port, without persistence.
type Server struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	// exited is closed when the current process has been reaped.
	exited chan struct{}
}

// Require skips the test when redis-server is not installed — except in
// CI (CI set), where a missing Redis must fail loudly rather than let the
// Redis tests pass by not running.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not on PATH in CI: .ci/run must install redis-server")
		}
		t.Skip("redis-server not on PATH; install it (apt-get install -y redis-server) to run Redis tests")
	}
}

// FreePort asks the kernel for an unused port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a server with extra arguments and stops it when the
// test ends. A port taken between choosing and binding it (other tests
// run at the same time) is retried with another one.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	Require(t)
	cluster := slices.Contains(extra, "--cluster-enabled")
	var err error
	for range 5 {
		port := FreePort(t)
		if cluster && !PortFree(port+10000) {
			continue // the cluster bus listens on port+10000
		}
		s := &Server{t: t, port: port, dir: t.TempDir(), args: extra}
		if err = s.tryStart(); err == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("start redis-server: %v", err)
	return nil
}

// PortFree reports whether a port can be bound right now.
func PortFree(port int) bool {
	if port > 65535 {
		return false
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Start (re)starts the server on its port, failing the test if it can't.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) tryStart() error {
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.exited = exited
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := Ping(s.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on %s exited: %s", s.Addr(), log)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on %s not ready: %w", s.Addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (like a crash) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart crashes the server and starts a fresh, empty one on the same
// port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// Ping checks a server answers PING, using raw RESP so the helper does not
// depend on the code under test.
func Ping(addr string) error {
	_, err := Command(addr, "PING")
	return err
}

// Command sends one command and returns the first reply line.
func Command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("redis %s: %s", args[0], strings.TrimSpace(line))
	}
	return strings.TrimSpace(line), nil
}
