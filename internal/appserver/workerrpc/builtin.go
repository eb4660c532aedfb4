package workerrpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/spindle-rt/spindle/internal/appserver/worker"
)

// Pool is what informer and resetter need from the worker pool;
// *worker.Pool implements it.
type Pool interface {
	Workers() []worker.WorkerInfo
	Reset(ctx context.Context) error
}

// WorkerState is one worker as informer.Workers reports it, with
// RoadRunner's JSON keys so `rr workers`-style tooling can read it.
type WorkerState struct {
	PID         int     `json:"pid"`
	Status      int64   `json:"status"`
	NumExecs    uint64  `json:"numExecs"`
	Created     int64   `json:"created"` // unix nanoseconds
	MemoryUsage uint64  `json:"memoryUsage"`
	CPUPercent  float64 `json:"CPUPercent"`
	Command     string  `json:"command"`
	StatusStr   string  `json:"statusStr"`
}

// WorkerList is the informer.Workers reply.
type WorkerList struct {
	Workers []WorkerState `json:"workers"`
}

var errNoPool = errors.New("no worker pool is running (server.command is not set)")

// builtins are the non-API services RoadRunner's tooling calls.
var builtins = map[string]handler{
	"rpc.Version": func(_ context.Context, s *Server, codec byte, _ []byte) ([]byte, error) {
		return encodeValue(codec, s.version)
	},
	"informer.List": func(_ context.Context, s *Server, codec byte, _ []byte) ([]byte, error) {
		return encodeValue(codec, s.plugins())
	},
	"resetter.List": func(_ context.Context, s *Server, codec byte, _ []byte) ([]byte, error) {
		return encodeValue(codec, s.plugins())
	},
	"informer.Workers": func(_ context.Context, s *Server, codec byte, body []byte) ([]byte, error) {
		if err := s.checkPlugin(codec, body); err != nil {
			return nil, err
		}
		list := WorkerList{Workers: []WorkerState{}}
		for _, w := range s.pool.Workers() {
			list.Workers = append(list.Workers, WorkerState{
				PID: w.PID, Status: int64(w.State), NumExecs: w.NumExecs, Created: w.Created.UnixNano(),
				MemoryUsage: w.MemoryBytes, Command: s.command, StatusStr: w.State.String(),
			})
		}
		return encodeValue(codec, list)
	},
	"resetter.Reset": func(ctx context.Context, s *Server, codec byte, body []byte) ([]byte, error) {
		if err := s.checkPlugin(codec, body); err != nil {
			return nil, err
		}
		if err := s.pool.Reset(ctx); err != nil {
			return nil, fmt.Errorf("resetting %s workers: %w", ServiceName, err)
		}
		s.log.Info("workers reset over RPC")
		return encodeValue(codec, true)
	},
}

// plugins lists the plugin names informer and resetter know.
func (s *Server) plugins() []string {
	if s.pool == nil {
		return []string{}
	}
	return []string{ServiceName}
}

// checkPlugin accepts the plugin-name argument only if it names ours.
func (s *Server) checkPlugin(codec byte, body []byte) error {
	name, err := decodeString(codec, body)
	if err != nil {
		return err
	}
	if name != ServiceName {
		return fmt.Errorf("no such plugin %q (this server has %q)", name, ServiceName)
	}
	if s.pool == nil {
		return errNoPool
	}
	return nil
}
