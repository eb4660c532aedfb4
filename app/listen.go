package app

import (
	"net"

	"github.com/spindle-rt/spindle/internal/rraddr"
)

// ParseAddress splits a listen address into the network and address
// net.Listen takes. Accepted forms (RoadRunner's): tcp://host:port,
// host:port, and unix:///path/to.sock; the port must be a number
// (0 picks a free one). It is the parser `spindle app` and
// `spindle checkconfig` use, so an address valid in .rr.yaml is valid
// here.
func ParseAddress(address string) (network, addr string, err error) {
	a, err := rraddr.Parse(address)
	if err != nil {
		return "", "", err
	}
	return a.Network, a.Addr, nil
}

// Listen opens a listener on address (see ParseAddress). For a unix
// socket, a stale socket file left by a crashed process is removed first,
// so a restart does not fail on "address already in use"; a socket
// somebody still listens on, or a path that is not a socket, is an error
// rather than something to delete.
func Listen(address string) (net.Listener, error) {
	a, err := rraddr.Parse(address)
	if err != nil {
		return nil, err
	}
	return rraddr.Listen(a)
}
