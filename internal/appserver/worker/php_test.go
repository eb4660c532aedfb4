package worker

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

func phpWorker(t *testing.T, script string) []string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php not installed")
	}
	return []string{php, script}
}

// TestPHPWorker runs a PHP worker that speaks the protocol by hand, as
// roadrunner-php does, over each relay.
func TestPHPWorker(t *testing.T) {
	script, _ := filepath.Abs("testdata/worker.php")
	for name, relay := range map[string]string{
		"pipes": "pipes",
		"tcp":   "tcp://127.0.0.1:0",
		"unix":  "unix://" + filepath.Join(t.TempDir(), "php.sock"),
	} {
		t.Run(name, func(t *testing.T) {
			p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: phpWorker(t, script), Relay: relay})
			r, err := exec1(t, p.Pool, "hello from go")
			if err != nil || string(r.Body) != "og morf olleh" || string(r.Context) != `{"type":["rpc"]}` {
				t.Fatalf("echo: %q %q %v", r.Context, r.Body, err)
			}
			r, err = exec1(t, p.Pool, "cmd:mode")
			if err != nil || string(r.Body) != "centrifuge" {
				t.Fatalf("RR_MODE seen by php: %q %v", r.Body, err)
			}
			var we *WorkerError
			if _, err := exec1(t, p.Pool, "cmd:error"); !errors.As(err, &we) || we.Message != "php says no" {
				t.Fatalf("error frame: %v", err)
			}
			mustEcho(t, p.Pool, "still alive")
			eventually(t, 2*time.Second, "php stderr forwarded", func() bool {
				_, ok := p.logs.find("php handled")
				return ok
			})
		})
	}
}

func TestPHPMissingScript(t *testing.T) {
	_, err := tryPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{Command: phpWorker(t, "/nonexistent/app.php")})
	if !errors.Is(err, frame.ErrFileNotFound) || !strings.Contains(err.Error(), "Could not open input file: /nonexistent/app.php") {
		t.Fatalf("err = %v, want ErrFileNotFound quoting PHP", err)
	}
}
