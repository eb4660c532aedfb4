package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-rt/spindle/internal/appserver/workerrpc"
	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/wiring/appserver"
)

// newAppCommand is `spindle app`: the application server, the role
// RoadRunner's centrifuge plugin plays, configured by the same .rr.yaml.
// With server.command set it runs a pool of worker processes (any
// language speaking goridge) that answer every proxied event; rpc.listen
// lets those workers call the server API; status and metrics sections
// add health, readiness and Prometheus endpoints. Without a command the
// app answers every event with error 108 (Go applications embed package
// app instead, see examples/goapp).
func newAppCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Run the application server (the role RoadRunner's centrifuge plugin plays)",
		Long: "Serves the proxy protocol (gRPC and HTTP on one address) at centrifuge.proxy_address of a\n" +
			"RoadRunner-style .rr.yaml, answered by the worker processes of server.command. Serves the\n" +
			"worker RPC endpoint at rpc.listen, /health and /ready at status.address, /metrics at\n" +
			"metrics.address. SIGHUP (or `spindle app reset`) replaces every worker with a fresh process;\n" +
			"SIGINT or SIGTERM stop gracefully: in-flight calls finish within pool.destroy_timeout.",
		Args: cobra.NoArgs,
	}
	file := cmd.PersistentFlags().StringP("config", "c", ".rr.yaml", "RoadRunner-style configuration file (YAML, or JSON by extension)")
	level := cmd.PersistentFlags().String("log_level", "info", "log level: debug, info, warn, error, none")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := newLogger(cmd, *level)
		if err != nil {
			return err
		}
		return runApp(cmd.Context(), *file, log)
	}
	cmd.AddCommand(newAppResetCommand(file), newAppWorkersCommand(file))
	return cmd
}

// runApp runs `spindle app` until ctx ends or SIGINT/SIGTERM arrives;
// internal/wiring/appserver does the rest.
func runApp(parent context.Context, file string, log *slog.Logger) error {
	cfg, warnings, err := config.LoadApp(file, os.Environ())
	for _, w := range warnings {
		log.Warn("config: " + w.String())
	}
	if err != nil {
		return err // each problem already names the file and line
	}
	srv, err := appserver.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx)
}

// newAppResetCommand is `spindle app reset`: RoadRunner's `rr reset`.
func newAppResetCommand(file *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Replace every worker of a running `spindle app` with a fresh process (e.g. after a deploy)",
		Long: "Calls resetter.Reset on the running app's rpc.listen endpoint and waits until the new workers are\n" +
			"ready. The reset is rolling: requests keep being served. Sending SIGHUP to the app does the same.",
		Args: cobra.NoArgs,
	}
	addr := cmd.Flags().String("rpc", "", "worker RPC address (default: rpc.listen of the config)")
	timeout := cmd.Flags().Duration("timeout", 70*time.Second, "how long to wait for the new workers")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), *timeout)
		defer cancel()
		c, err := dialRPC(ctx, *file, *addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Reset(ctx); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), "workers reset")
		return nil
	}
	return cmd
}

// newAppWorkersCommand is `spindle app workers`: RoadRunner's `rr workers`.
func newAppWorkersCommand(file *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workers",
		Short: "List the workers of a running `spindle app`",
		Args:  cobra.NoArgs,
	}
	addr := cmd.Flags().String("rpc", "", "worker RPC address (default: rpc.listen of the config)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		c, err := dialRPC(ctx, *file, *addr)
		if err != nil {
			return err
		}
		defer c.Close()
		ws, err := c.Workers(ctx)
		if err != nil {
			return fmt.Errorf("workers: %w", err)
		}
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "%-8s %-16s %8s %10s  %s\n", "PID", "STATUS", "EXECS", "MEMORY", "CREATED")
		for _, w := range ws {
			fmt.Fprintf(out, "%-8d %-16s %8d %9.1fM  %s\n", w.PID, w.StatusStr, w.NumExecs,
				float64(w.MemoryUsage)/(1<<20), time.Unix(0, w.Created).Format(time.RFC3339))
		}
		return nil
	}
	return cmd
}

// dialRPC connects to addr, or to rpc.listen of the config file.
func dialRPC(ctx context.Context, file, addr string) (*workerrpc.Client, error) {
	if addr == "" {
		cfg, _, err := config.LoadApp(file, os.Environ())
		if err != nil {
			return nil, fmt.Errorf("config %s:\n%w", file, err)
		}
		if cfg.RPC.Listen == "" {
			return nil, fmt.Errorf("config %s has no rpc.listen: the app serves no RPC endpoint to reach (send it SIGHUP instead)", file)
		}
		addr = cfg.RPC.Listen
	}
	return workerrpc.Dial(ctx, addr)
}
