package worker

// State is a worker's lifecycle state; the numbers are RoadRunner's, so
// informer output and metrics labels mean the same thing as upstream.
type State int32

// Worker states (RoadRunner's numbering).
const (
	StateInactive State = iota
	StateReady
	StateWorking
	StateInvalid
	StateStopping
	StateStopped
	StateDestroyed
	StateMaxJobsReached
	StateErrored
	StateIdleTTLReached
	StateTTLReached
	StateMaxMemoryReached
	StateExecTTLReached
)

var stateNames = [...]string{
	StateInactive:         "inactive",
	StateReady:            "ready",
	StateWorking:          "working",
	StateInvalid:          "invalid",
	StateStopping:         "stopping",
	StateStopped:          "stopped",
	StateDestroyed:        "destroyed",
	StateMaxJobsReached:   "maxJobsReached",
	StateErrored:          "errored",
	StateIdleTTLReached:   "idleTTLReached",
	StateTTLReached:       "ttlReached",
	StateMaxMemoryReached: "maxMemoryReached",
	StateExecTTLReached:   "execTTLReached",
}

// String gives RoadRunner's state name (as shown by `rr workers`).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "undefined"
}

// MarshalText makes states readable in JSON status output.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
