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
	kind                    flagKind
}{
	{"port", "p", "port", "port to listen on", intFlag},
	{"address", "a", "address", "interface address to listen on", stringFlag},
	{"engine", "", "engine", "engine to use: memory or redis", stringFlag},
	{"log_level", "", "log_level", "log level: trace, debug, info, warn, error, none", stringFlag},
	{"name", "n", "name", "node name", stringFlag},
	{"api_key", "", "api_key", "HTTP API key", stringFlag},
	{"api_insecure", "", "api_insecure", "serve the HTTP API without a key (development only)", boolFlag},
	{"client_insecure", "", "client_insecure", "no client authentication (development only)", boolFlag},
	{"grpc_api", "", "grpc_api", "enable the gRPC server API", boolFlag},
	{"grpc_api_port", "", "grpc_api_port", "port of the gRPC server API", intFlag},
	{"prometheus", "", "prometheus", "serve /metrics", boolFlag},
	{"health", "", "health", "serve /health", boolFlag},
}

// flagKind is a flag's type on the command line; ports are numbers on
// every command, so `-p 8000` means the same everywhere.
type flagKind int

const (
	stringFlag flagKind = iota
	boolFlag
	intFlag
)

func addConfigFlag(cmd *cobra.Command) *string {
	return cmd.Flags().StringP("config", "c", "", "configuration file (JSON, YAML or TOML)")
}

func addServerFlags(fs *pflag.FlagSet) {
	for _, f := range serverFlags {
		switch f.kind {
		case boolFlag:
			fs.BoolP(f.name, f.short, false, f.usage)
		case intFlag:
			fs.IntP(f.name, f.short, 0, f.usage+" (default from the configuration)")
		default:
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

// loadConfig loads and validates, printing warnings to stderr: for the
// tools (checkconfig, gentoken…), whose output is for a person.
func loadConfig(cmd *cobra.Command, file string, flags map[string]string) (*config.Config, error) {
	cfg, warnings, err := config.Load(config.LoadOptions{File: file, Env: os.Environ(), Flags: flags})
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// logFormatFlag is the root's persistent --log-format, so every command
// that logs takes it.
const logFormatFlag = "log-format"

func addLogFormatFlag(root *cobra.Command) {
	root.PersistentFlags().String(logFormatFlag, "text", "log format: text or json (one JSON object per line)")
}

// newLogger builds the logger of a command that runs a server, at level,
// in the --log-format the command was given.
func newLogger(cmd *cobra.Command, level string) (*slog.Logger, error) {
	format := "text"
	if f := cmd.Flag(logFormatFlag); f != nil {
		format = f.Value.String()
	}
	opts := &slog.HandlerOptions{Level: logLevel(level)}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)), nil
	}
	return nil, fmt.Errorf("--%s %q: use text or json", logFormatFlag, format)
}

func logLevel(level string) slog.Level {
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
	return l
}
