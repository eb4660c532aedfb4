// Package version holds the one version string of the spindle binary, so
// both wings report the same thing without the app side importing the
// real-time hub: the server puts it in connect replies and the info API,
// the app server answers rpc.Version with it, and `spindle version`
// prints it.
//
// It is a variable, not a constant, so a release build can stamp it:
//
//	go build -ldflags "-X github.com/spindle-rt/spindle/internal/version.Version=1.2.3" ./cmd/spindle
//
// The package imports nothing, so any package may depend on it.
package version

// Version is the release this binary reports. Set it with -ldflags -X
// (see the package comment); the default names an unstamped build.
var Version = "0.1.0"
