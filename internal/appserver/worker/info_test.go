package worker

import (
	"encoding/json"
	"os"
	"testing"
)

func TestReadRSS(t *testing.T) {
	rss, err := readRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || rss > 64<<30 {
		t.Fatalf("our own RSS is %d bytes?", rss)
	}
	if _, err := readRSS(1 << 30); err == nil {
		t.Fatal("no error for a pid that cannot exist")
	}
}

func TestStateNames(t *testing.T) {
	tests := map[State]string{StateInactive: "inactive", StateReady: "ready", StateWorking: "working",
		StateMaxJobsReached: "maxJobsReached", StateExecTTLReached: "execTTLReached", State(99): "undefined", State(-1): "undefined"}
	for s, want := range tests {
		if s.String() != want {
			t.Errorf("State(%d) = %q, want %q", s, s.String(), want)
		}
	}
	if StateExecTTLReached != 12 || StateErrored != 8 {
		t.Fatal("state numbers drifted from RoadRunner's")
	}
	b, _ := json.Marshal(WorkerInfo{PID: 1, State: StateReady})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["status"] != "ready" || m["pid"] != float64(1) {
		t.Fatalf("WorkerInfo JSON %s", b)
	}
}
