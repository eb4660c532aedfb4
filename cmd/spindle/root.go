package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spindle-rt/spindle/internal/version"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "spindle",
		Short: "Real-time messaging server, wire-compatible with Centrifugo",
		Long: "Real-time messaging server, wire-compatible with Centrifugo.\n\n" +
			"With no command, spindle runs `spindle dev`: the server, the app server and the\n" +
			"ticket-booking demo in one process at http://127.0.0.1:8000.",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgsOrSuggest,
	}
	root.SetVersionTemplate("spindle {{.Version}}\n")
	// Suggest commands within two edits ("sever" → server) and by prefix.
	root.SuggestionsMinimumDistance = 2
	addLogFormatFlag(root)
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

// noArgsOrSuggest refuses positional arguments. On the root command a word
// that is no command is most likely a mistyped one, so it is answered the
// way cobra answers unknown commands elsewhere, with suggestions.
func noArgsOrSuggest(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommandError(cmd, args[0])
}

func unknownCommandError(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())
}

// checkCommandWord catches a mistyped command before flags are parsed:
// `spindle serve -c x` would otherwise fail on -c, which the root command
// (running dev) does not have, and never say that "serve" is the problem.
func checkCommandWord(root *cobra.Command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil
	}
	for _, c := range root.Commands() {
		if c.Name() == args[0] || c.HasAlias(args[0]) {
			return nil
		}
	}
	switch args[0] {
	case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return nil
	}
	return unknownCommandError(root, args[0])
}
