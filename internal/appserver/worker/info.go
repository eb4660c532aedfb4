package worker

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

// WorkerInfo is one worker as shown by `workers` status output and metrics.
type WorkerInfo struct {
	PID         int       `json:"pid"`
	State       State     `json:"status"`
	NumExecs    uint64    `json:"numExecs"`
	MemoryBytes uint64    `json:"memoryUsage"` // resident set size; 0 if unknown
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"lastUsed"` // zero if never used
}

// Workers lists every live worker process, including ones starting up or
// stopping, ordered by creation time.
func (p *Pool) Workers() []WorkerInfo {
	p.mu.Lock()
	out := make([]WorkerInfo, 0, len(p.workers))
	for w := range p.workers {
		out = append(out, WorkerInfo{PID: w.pid, State: w.state, NumExecs: w.numExecs, Created: w.created, LastUsed: w.lastUsed})
	}
	p.mu.Unlock()
	for i := range out {
		out[i].MemoryBytes, _ = readRSS(out[i].PID)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].PID < out[j].PID
	})
	return out
}

// readRSS returns a process's resident memory from /proc/<pid>/status.
func readRSS(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading memory of pid %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("pid %d: unexpected VmRSS line %q", pid, sc.Bytes())
		}
		kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("pid %d: parsing VmRSS %q: %w", pid, fields[0], err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("pid %d: no VmRSS in /proc status (zombie or kernel thread)", pid)
}
