package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/wiring/server"
)

func newServerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the real-time server (the role Centrifugo plays)",
		Long: "Runs the real-time server from a Centrifugo-style configuration (JSON with comments, YAML or\n" +
			"TOML; flat v5 keys or the nested v6 layout), overridden by CENTRIFUGO_* environment variables\n" +
			"and by the flags below. Clients connect at /connection/websocket (client protocol v2, JSON or\n" +
			"Protobuf, the official centrifuge SDKs unchanged); the server API is at /api (HTTP) and, with\n" +
			"grpc_api, over gRPC; proxied events go to the configured backends (spindle app, or any\n" +
			"CentrifugoProxy server). An unknown or misspelt key is an error naming its line.\n" +
			"SIGHUP reloads the configuration: token keys, channel, namespace and RPC options and client\n" +
			"limits apply at once; the log names each changed key and those that need a restart.\n" +
			"Stops gracefully on SIGINT or SIGTERM: clients are told to reconnect elsewhere, /health\n" +
			"answers 503 while draining, and the process exits non-zero if shutdown_timeout passes first.\n\n" +
			"  spindle server -c config.json\n" +
			"  spindle genconfig -c config.json && spindle server -c config.json -p 9000",
		Args: cobra.NoArgs,
	}
	file := addConfigFlag(cmd)
	addServerFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		// A reload reads the same file, the environment as it is then, and
		// the same flags, which keep overriding both.
		load := func() (*config.Config, []config.Warning, error) {
			return config.Load(config.LoadOptions{File: *file, Env: os.Environ(), Flags: changedFlags(cmd.Flags())})
		}
		cfg, warnings, err := load()
		if err != nil {
			return err
		}
		log, err := newLogger(cmd, cfg.LogLevel)
		if err != nil {
			return err
		}
		// Once, as log lines, so --log-format json keeps every line JSON.
		for _, w := range warnings {
			log.Warn("config: " + w.String())
		}
		srv, err := server.New(cfg, log)
		if err != nil {
			return err
		}
		if err := srv.Listen(); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go srv.ReloadOn(ctx, hup, load)
		return srv.Serve(ctx)
	}
	return cmd
}
