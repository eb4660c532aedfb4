package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// server is the spindle server process under soak.
type server struct {
	cmd     *exec.Cmd
	port    int
	dir     string
	exited  chan struct{}
	lastCPU cpuSample
}

// serverConfig is a v5 flat config: one namespace with history and forced
// recovery, so that a churning client's reconnect recovers what it missed.
func serverConfig(port int, secret, apiKey string, historySize int) map[string]any {
	return map[string]any{
		"address":               "127.0.0.1",
		"port":                  port,
		"health":                true,
		"prometheus":            true,
		"log_level":             "warn",
		"token_hmac_secret_key": secret,
		"api_key":               apiKey,
		"namespaces": []map[string]any{{
			"name":                       "soak",
			"allow_subscribe_for_client": true,
			"history_size":               historySize,
			"history_ttl":                "900s",
			"force_recovery":             true,
		}},
	}
}

// startServer writes the config into a temp dir, starts bin, and waits for
// /health. The server's output goes to server.log in that dir.
func startServer(bin string, cfg map[string]any) (*server, error) {
	dir, err := os.MkdirTemp("", "spindle-soak-")
	if err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--config", file)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, port: cfg["port"].(int), dir: dir, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(s.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("server exited at start; see %s", logf.Name())
		default:
		}
		resp, err := http.Get(s.base() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				s.lastCPU = s.cpu()
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server not healthy within 15s; see %s", logf.Name())
}

func (s *server) base() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// sample is one look at the server process.
type sample struct {
	At         time.Duration `json:"at_s"`
	Phase      string        `json:"phase"`
	RSSKiB     int           `json:"rss_kib"`
	Goroutines int           `json:"goroutines"`
	HeapKiB    int           `json:"heap_inuse_kib"` // Go heap in use: what a leak grows, unlike RSS, which the runtime returns late
	CPUPercent float64       `json:"cpu_percent"`    // since the previous sample
	Conns      int64         `json:"client_conns"`
}

type cpuSample struct {
	ticks int64
	at    time.Time
}

// rss reads VmRSS from /proc, in KiB.
func (s *server) rss() int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

// cpu reads utime+stime (clock ticks, 100 per second on Linux).
func (s *server) cpu() cpuSample {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return cpuSample{at: time.Now()}
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return cpuSample{ticks: u + st, at: time.Now()}
}

// metrics reads go_goroutines and go_memstats_heap_inuse_bytes (KiB) from
// the server's /metrics.
func (s *server) metrics() (goroutines, heapKiB int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base()+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	goroutines, heapKiB = -1, -1
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			goroutines = int(n)
		}
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			heapKiB = int(n / 1024)
		}
	}
	return goroutines, heapKiB
}

func (s *server) take(at time.Duration, phase string, conns int64) sample {
	now := s.cpu()
	pct := 0.0
	if d := now.at.Sub(s.lastCPU.at).Seconds(); d > 0 {
		pct = float64(now.ticks-s.lastCPU.ticks) / 100 / d * 100
	}
	s.lastCPU = now
	g, heap := s.metrics()
	return sample{At: at / time.Second, Phase: phase, RSSKiB: s.rss(), Goroutines: g, HeapKiB: heap, CPUPercent: pct, Conns: conns}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
