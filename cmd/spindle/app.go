package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"google.golang.org/grpc"

	"github.com/spindle-rt/spindle/apiclient"
	"github.com/spindle-rt/spindle/app"
	"github.com/spindle-rt/spindle/config"
)

// newAppCommand is `spindle app`: the application server, the role
// RoadRunner's centrifuge plugin plays, configured by the same .rr.yaml.
//
// The worker pool that runs server.command is not part of this command
// yet. Until it is, the app starts with no services, so every proxied
// event gets a clear answer (error 108, "not available") instead of a
// hung call, and the gap is logged at start-up. Go applications embed
// package app instead (see examples/goapp).
func newAppCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Run the application server (the role RoadRunner's centrifuge plugin plays)",
		Long: "Serves the proxy protocol (gRPC and HTTP on one address) at centrifuge.proxy_address of a\n" +
			"RoadRunner-style .rr.yaml. Stops gracefully on SIGINT or SIGTERM.",
		Args: cobra.NoArgs,
	}
	file := cmd.Flags().StringP("config", "c", ".rr.yaml", "RoadRunner-style configuration file (YAML, or JSON by extension)")
	level := cmd.Flags().String("log_level", "info", "log level: debug, info, warn, error, none")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		log := newLogger(*level)
		cfg, warnings, err := config.LoadApp(*file, os.Environ())
		for _, w := range warnings {
			log.Warn("config: " + w.String())
		}
		if err != nil {
			return fmt.Errorf("config %s:\n%w", *file, err)
		}
		apiClient, conn, err := dialAPI(cfg.Centrifuge)
		if err != nil {
			return err
		}
		defer conn.Close()
		a := app.New(app.Options{Logger: log, API: apiClient})
		command := cfg.Centrifuge.Pool.Command
		if len(command) == 0 {
			command = cfg.Server.Command
		}
		if len(command) > 0 {
			log.Warn("server.command is set, but worker processes arrive with the worker pool, which this build does not have yet; "+
				"starting with no services: every proxied event is answered with error 108 (not available)",
				"command", strings.Join(command, " "))
		} else {
			log.Warn("no server.command and no Go services: every proxied event is answered with error 108 (not available); " +
				"embed package app in a Go program to add services (see examples/goapp)")
		}
		if cfg.RPC.Listen != "" {
			log.Warn("rpc.listen is set, but the worker RPC endpoint arrives with the worker pool; not served yet", "listen", cfg.RPC.Listen)
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return a.ListenAndServe(ctx, cfg.Centrifuge.ProxyAddress)
	}
	return cmd
}

// dialAPI connects (lazily) to the real-time server's gRPC API named by
// centrifuge.grpc_api_address, with the key, TLS and deadline RoadRunner
// lacks.
func dialAPI(c config.AppCentrifuge) (*apiclient.GRPC, *grpc.ClientConn, error) {
	dc := apiclient.DialConfig{Address: c.GRPCAPIAddress, Key: c.GRPCAPIKey, Timeout: c.APITimeout, Compress: c.UseCompressor}
	if c.TLS != nil {
		dc.TLS = &apiclient.TLSConfig{CertFile: c.TLS.Cert, KeyFile: c.TLS.Key, CAFile: c.TLS.CA, ServerName: c.TLS.ServerName}
	}
	client, conn, err := apiclient.Dial(dc)
	if err != nil {
		return nil, nil, fmt.Errorf("centrifuge.grpc_api_address: %w", err)
	}
	return client, conn, nil
}
