package main

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spindle-rt/spindle/internal/wiring/server"
)

func newServerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the real-time server (the role Centrifugo plays)",
		Args:  cobra.NoArgs,
	}
	file := addConfigFlag(cmd)
	addServerFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(*file, changedFlags(cmd.Flags()))
		if err != nil {
			return err
		}
		log := newLogger(cfg.LogLevel)
		srv, err := server.New(cfg, log)
		if err != nil {
			return err
		}
		if err := srv.Listen(); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return srv.Serve(ctx)
	}
	return cmd
}
