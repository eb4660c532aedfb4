package main

import (
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "spindle",
		Short:         "Real-time messaging server, wire-compatible with Centrifugo",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
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
