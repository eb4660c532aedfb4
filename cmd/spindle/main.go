// Command spindle runs the Spindle real-time server and its tools.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "spindle:", err)
		os.Exit(1)
	}
}

// run is the whole CLI on the given arguments, so tests drive it as a user
// would.
func run(args []string, stdout, stderr io.Writer) error {
	root := newRootCommand()
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := checkCommandWord(root, args); err != nil {
		return err
	}
	root.SetArgs(args)
	return root.Execute()
}
