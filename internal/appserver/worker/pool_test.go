package worker

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEchoOverEveryRelay(t *testing.T) {
	relays := map[string]string{
		"pipes": "pipes",
		"tcp":   "tcp://127.0.0.1:0",
		"unix":  "unix://" + filepath.Join(t.TempDir(), "rr.sock"),
	}
	for name, relay := range relays {
		t.Run(name, func(t *testing.T) {
			p := startPool(t, PoolConfig{NumWorkers: 2}, SpawnConfig{Command: nodeWorker(t), Relay: relay})
			ctx := []byte(`{"type":["connect"],"x-real-ip":["127.0.0.1"]}`)
			r, err := p.Exec(ctxTimeout(t, 5*time.Second), Payload{Context: ctx, Body: []byte("hello\x00world")})
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != "dlrow\x00olleh" || string(r.Context) != string(ctx) {
				t.Fatalf("reply context %q body %q", r.Context, r.Body)
			}
			// The worker sees the environment the spec prescribes.
			for k, want := range map[string]string{"RR_MODE": "centrifuge", "RR_RELAY": p.RelayAddress(), "RR_VERSION": DefaultRRVersion} {
				r, err := exec1(t, p.Pool, "cmd:env:"+k)
				if err != nil || string(r.Body) != want {
					t.Fatalf("%s = %q (%v), want %q", k, r.Body, err, want)
				}
			}
			if name == "tcp" && strings.HasSuffix(p.RelayAddress(), ":0") {
				t.Fatalf("relay address %q does not name the chosen port", p.RelayAddress())
			}
			// A large body crosses the relay intact in both directions.
			big := strings.Repeat("0123456789abcdef", 64<<10)
			mustEcho(t, p.Pool, big)
			if n := len(p.Workers()); n != 2 {
				t.Fatalf("%d workers, want 2", n)
			}
		})
	}
}

func TestSpawnEnv(t *testing.T) {
	t.Setenv("SPINDLE_TEST_HOME", "/home/x")
	p := startPool(t, PoolConfig{NumWorkers: 1}, SpawnConfig{
		Command:    nodeWorker(t),
		Env:        map[string]string{"app_env": "prod-${SPINDLE_TEST_HOME}", "RR_MODE": "overridden"},
		RPCAddress: "tcp://127.0.0.1:6001",
		Mode:       "custom",
	})
	for k, want := range map[string]string{"APP_ENV": "prod-/home/x", "RR_RPC": "tcp://127.0.0.1:6001", "RR_MODE": "custom", "app_env": "<unset>"} {
		r, err := exec1(t, p.Pool, "cmd:env:"+k)
		if err != nil || string(r.Body) != want {
			t.Fatalf("%s = %q (%v), want %q", k, r.Body, err, want)
		}
	}
}

func TestConcurrentExecs(t *testing.T) {
	p := startPool(t, PoolConfig{NumWorkers: 2}, SpawnConfig{Command: nodeWorker(t)})
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("request-%02d", i)
			if i%5 == 0 {
				body = "cmd:sleep:20"
			}
			r, err := exec1(t, p.Pool, body)
			switch {
			case err != nil:
				errs <- fmt.Errorf("request %d: %w", i, err)
			case i%5 == 0 && string(r.Body) != "slept 20":
				errs <- fmt.Errorf("request %d: got %q", i, r.Body)
			case i%5 != 0 && string(r.Body) != reverse(body):
				errs <- fmt.Errorf("request %d: got %q", i, r.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total uint64
	for _, w := range p.Workers() {
		total += w.NumExecs
	}
	if total != 50 {
		t.Fatalf("workers report %d execs, want 50", total)
	}
}
