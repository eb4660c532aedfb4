package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spindle-rt/spindle/internal/wiring/dev"
)

// devSecretEnv names the variable that keeps demo sign-ins valid across
// restarts of `spindle dev`; a flag would show the secret in ps.
const devSecretEnv = "SPINDLE_DEMO_SECRET"

// devFlags are the options of `spindle dev` (and of bare `spindle`).
type devFlags struct {
	address  string
	port     int
	logLevel string
}

// addDevFlags registers the dev flags on fs, so the root command can
// accept them too when it runs dev by default.
func addDevFlags(fs *pflag.FlagSet) *devFlags {
	f := &devFlags{}
	fs.StringVarP(&f.address, "address", "a", dev.DefaultAddress, "interface address to listen on")
	fs.IntVarP(&f.port, "port", "p", dev.DefaultPort, "port to listen on")
	fs.StringVar(&f.logLevel, "log_level", "info", "log level: debug (shows every proxied event), info, warn, error, none")
	return f
}

// newDevCommand is `spindle dev`: the real-time server, the app server
// and the ticket-booking demo in one process.
func newDevCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a working real-time app in one process: server, app server and the ticket-booking demo",
		Long: "Starts the real-time server on the in-memory engine together with the demo's services\n" +
			"(connect, subscribe and RPC proxies answered in-process) and serves the demo page at /.\n" +
			"Prints the URL and the configuration in use. Set " + devSecretEnv + " to keep demo\n" +
			"sign-ins valid across restarts. Stops gracefully on SIGINT or SIGTERM.",
		Args: cobra.NoArgs,
	}
	f := addDevFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return runDev(cmd, f) }
	return cmd
}

// runDev runs dev with the parsed flags until a signal arrives.
func runDev(cmd *cobra.Command, f *devFlags) error {
	log, err := newLogger(cmd, f.logLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return dev.Run(ctx, dev.Options{
		Address: f.address,
		Port:    f.port,
		Secret:  []byte(os.Getenv(devSecretEnv)),
		Logger:  log,
	}, cmd.OutOrStdout())
}
