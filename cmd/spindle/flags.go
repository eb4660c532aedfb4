package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spindle-rt/spindle/internal/config"
)

// serverFlags are CLI overrides; each maps onto the flat config key of the
// same name, so flags beat env beat file for exactly one key.
var serverFlags = []struct {
	name, short, key, usage string
	boolean                 bool
}{
	{"port", "p", "port", "port to listen on", false},
	{"address", "a", "address", "interface address to listen on", false},
	{"engine", "", "engine", "engine to use: memory", false},
	{"log_level", "", "log_level", "log level: trace, debug, info, warn, error, none", false},
	{"name", "n", "name", "node name", false},
	{"api_key", "", "api_key", "HTTP API key", false},
	{"api_insecure", "", "api_insecure", "serve the HTTP API without a key (development only)", true},
	{"client_insecure", "", "client_insecure", "no client authentication (development only)", true},
	{"grpc_api", "", "grpc_api", "enable the gRPC server API", true},
	{"grpc_api_port", "", "grpc_api_port", "port of the gRPC server API", false},
	{"prometheus", "", "prometheus", "serve /metrics", true},
	{"health", "", "health", "serve /health", true},
}

func addConfigFlag(cmd *cobra.Command) *string {
	return cmd.Flags().StringP("config", "c", "", "configuration file (JSON, YAML or TOML)")
}

func addServerFlags(fs *pflag.FlagSet) {
	for _, f := range serverFlags {
		if f.boolean {
			fs.BoolP(f.name, f.short, false, f.usage)
		} else {
			fs.StringP(f.name, f.short, "", f.usage)
		}
	}
}

// changedFlags collects the flags the user set, keyed by config key.
func changedFlags(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	for _, f := range serverFlags {
		if fl := fs.Lookup(f.name); fl != nil && fl.Changed {
			out[f.key] = fl.Value.String()
		}
	}
	return out
}

// loadConfig loads and validates, printing warnings to stderr.
func loadConfig(file string, flags map[string]string) (*config.Config, error) {
	cfg, warnings, err := config.Load(config.LoadOptions{File: file, Env: os.Environ(), Flags: flags})
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "trace", "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	case "none":
		l = slog.LevelError + 100
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
