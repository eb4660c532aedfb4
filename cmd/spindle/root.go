package main

import (
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "spindle",
		Short: "Real-time messaging server, wire-compatible with Centrifugo",
		Long: "Real-time messaging server, wire-compatible with Centrifugo.\n\n" +
			"With no command, spindle runs `spindle dev`: the server, the app server and the\n" +
			"ticket-booking demo in one process at http://127.0.0.1:8000.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	devFlags := addDevFlags(root.Flags())
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runDev(cmd, devFlags) }
	root.AddCommand(
		newDevCommand(),
		newServerCommand(),
		newAppCommand(),
		newCheckConfigCommand(),
		newGenConfigCommand(),
		newGenTokenCommand(),
		newGenSubTokenCommand(),
		newVersionCommand(),
	)
	return root
}
