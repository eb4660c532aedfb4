package worker

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/spindle-rt/spindle/internal/appserver/worker/frame"
)

// pidRequest is the first frame every worker receives: our pid, which the
// worker answers with its own (RoadRunner's start handshake).
func pidRequest() frame.Frame {
	return frame.Frame{
		Flags:   frame.FlagControl | frame.CodecJSON,
		Payload: []byte(`{"pid":` + strconv.Itoa(os.Getpid()) + `}`),
	}
}

// stopRequest asks a worker to leave its loop and exit.
func stopRequest() frame.Frame {
	return frame.Frame{Flags: frame.FlagControl | frame.CodecJSON, Payload: []byte(`{"stop":true}`)}
}

// parsePIDReply checks the worker's handshake answer the way RoadRunner
// does: control bit set, JSON object, pid > 0.
func parsePIDReply(f frame.Frame) (int, error) {
	if f.Flags&frame.FlagError != 0 {
		return 0, fmt.Errorf("worker answered the pid handshake with an error: %q", trim(f.Payload))
	}
	if f.Flags&frame.FlagControl == 0 {
		return 0, fmt.Errorf("pid handshake reply lacks the control flag (flags %#02x, payload %q)", f.Flags, trim(f.Payload))
	}
	var r struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(f.Payload, &r); err != nil {
		return 0, fmt.Errorf("pid handshake reply %q is not JSON: %w", trim(f.Payload), err)
	}
	if r.PID <= 0 {
		return 0, fmt.Errorf("pid handshake reply %q has no positive pid", trim(f.Payload))
	}
	return r.PID, nil
}
