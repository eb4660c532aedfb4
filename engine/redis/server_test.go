package redis

import (
	"bufio"
	"context"
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

// redisServer is a redis-server process owned by one test, on its own
// 127.0.0.1 port, without persistence.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	// exited is closed when the current process has been reaped.
	exited chan struct{}
}

// requireRedis skips the test when redis-server is not installed.
func requireRedis(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH; install it (apt-get install -y redis-server) to run Redis engine tests")
	}
}

// freePort asks the kernel for an unused port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts a server with extra arguments and stops it when the
// test ends. A port taken between choosing and binding it (other tests
// run at the same time) is retried with another one.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	requireRedis(t)
	cluster := slices.Contains(extra, "--cluster-enabled")
	var err error
	for range 5 {
		port := freePort(t)
		if cluster && !portFree(port+10000) {
			continue // the cluster bus listens on port+10000
		}
		s := &redisServer{t: t, port: port, dir: t.TempDir(), args: extra}
		if err = s.tryStart(); err == nil {
			t.Cleanup(s.stop)
			return s
		}
	}
	t.Fatalf("start redis-server: %v", err)
	return nil
}

// portFree reports whether a port can be bound right now.
func portFree(port int) bool {
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

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start (re)starts the server on its port, failing the test if it can't.
func (s *redisServer) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *redisServer) tryStart() error {
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
		err := ping(s.addr())
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on %s exited: %s", s.addr(), log)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("redis-server on %s not ready: %w", s.addr(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server (like a crash) and waits for it to exit.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// restart crashes the server and starts a fresh, empty one on the same
// port.
func (s *redisServer) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// ping checks a server answers PING, using raw RESP so the helper does not
// depend on the code under test.
func ping(addr string) error {
	_, err := rawCommand(addr, "PING")
	return err
}

// rawCommand sends one command and returns the first reply line.
func rawCommand(addr string, args ...string) (string, error) {
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

// testPrefix keeps engines that share a server in separate key spaces.
func testPrefix() string {
	return "t" + randomID(10)
}

// newTestEngine builds an engine, failing the test on error, and closes
// it when the test ends.
func newTestEngine(t testing.TB, o Options) *Engine {
	t.Helper()
	if o.Prefix == "" {
		o.Prefix = testPrefix()
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	return e
}
